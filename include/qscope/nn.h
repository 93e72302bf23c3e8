/* nn.h — the PTQ / QAT lab: data sets (digits, Fashion-MNIST), an MLP trained on the fp32
 * GEMM kernel, post-training quantization, quantization-aware training (fake quant with the
 * clipped straight-through estimator, optional LSQ), integer-only inference (u8 × s8 → s32 +
 * fixed-point requantization), LoRA and QLoRA fine-tuning, safetensors save / load. Every
 * numeric pass goes through qs_k() kernels. The library keeps no global state: all state is
 * in a qs_lab (owned by the session) or in the objects below. */
#ifndef QSCOPE_NN_H
#define QSCOPE_NN_H

#include <stddef.h>
#include <stdint.h>

#include "qscope/err.h"
#include "qscope/scheme.h"
#include "qscope/calib.h"
#include "qscope/kernels.h"
#include "qscope/progress.h"
#include "qscope/tensor.h"

#define QS_NN_MAX_LAYERS 8      /* linear layers of an MLP */
#define QS_NN_MAX_EPOCHS 1000   /* longest training run a command accepts */

/* ---- data ------------------------------------------------------------------------------ */

/* A labelled data set: n samples of nfeat float32 features (scaled to [0, 1]) and a class. */
typedef struct qs_nn_set {
    int64_t n;          /* samples */
    int nfeat;          /* features per sample (64 digits, 784 Fashion-MNIST) */
    int nclass;         /* number of classes (10) */
    float *x;           /* n × nfeat features, row-major (owned, 64-byte aligned) */
    uint8_t *y;         /* n labels 0..nclass-1 (owned) */
} qs_nn_set;

/* A data set split three ways with a fixed seed. */
typedef struct qs_nn_data {
    char name[16];      /* "digits" or "fashion" */
    int side;           /* images are side × side pixels (8 or 28) */
    char path[512];     /* where it was read from */
    qs_nn_set train;    /* used to fit the weights */
    qs_nn_set calib;    /* held out for PTQ calibration */
    qs_nn_set test;     /* held out for every reported accuracy */
} qs_nn_data;

/* Loads a data set by name ("digits" or "fashion"). dir: where to look first (NULL: the
 * environment variable QSCOPE_DATASETS, ./datasets, the directory of the executable's
 * ../datasets and ../share/qscope/datasets, then the install data directory; Fashion-MNIST
 * also in Debian's /usr/share/datasets/fashion-mnist). Digits: datasets/digits.csv(.gz), 1797
 * rows of 64 pixel values 0..16 and a label; a shuffle with a fixed seed, then n/5 test
 * (359), n/10 calibration (179) and the rest (1259) for training. Fashion-MNIST: the four
 * IDX files (gzip or plain); the official 10000 test images; a fixed shuffle of the 60000
 * training images, its first 5000 for calibration and the other 55000 for training. Returns QS_OK and a new qs_nn_data (free with qs_nn_data_free) or
 * QS_ERR with a one-line message (for a missing Fashion-MNIST: how to get it). */
int qs_nn_data_load(const char *name, const char *dir, qs_nn_data **out, qs_err *err);
void qs_nn_data_free(qs_nn_data *d);

/* Parses digits CSV text (rows of nfeat values then a label, comma separated) from a
 * buffer into a new set; features are divided by `scale`. For tests. */
int qs_nn_parse_csv(const char *text, size_t len, int nfeat, float scale, qs_nn_set *out,
                    const char *name, qs_err *err);
/* Parses an IDX images file and its labels file (already decompressed). */
int qs_nn_parse_idx(const uint8_t *img, size_t ilen, const uint8_t *lab, size_t llen,
                    qs_nn_set *out, const char *name, qs_err *err);
/* Frees the arrays of a set (not the struct). */
void qs_nn_set_fini(qs_nn_set *s);
/* First readable dir/base or dir/base.gz over dir (may be NULL), the data-set search path
 * (paths.h) and Debian's Fashion-MNIST folder; 1 when found (path filled). */
int qs_nn_find_file(const char *dir, const char *base, char *path, size_t len);
/* Copies a set applying a shift: "rot90" rotates each side×side image by 90° counter-
 * clockwise, "invert" maps x to 1 - x, "none" copies. */
int qs_nn_set_shift(const qs_nn_set *in, int side, const char *shift, qs_nn_set *out,
                    qs_err *err);

/* ---- model ----------------------------------------------------------------------------- */

/* A multilayer perceptron: linear layers with ReLU between them, softmax cross-entropy on
 * the last. Weights are [out, in] row-major like torch.nn.Linear. */
typedef struct qs_mlp {
    int nl;                             /* number of linear layers (1..QS_NN_MAX_LAYERS) */
    int size[QS_NN_MAX_LAYERS + 1];     /* widths: size[0] inputs ... size[nl] classes */
    float *w[QS_NN_MAX_LAYERS];         /* layer l weights [size[l+1], size[l]] (owned) */
    float *b[QS_NN_MAX_LAYERS];         /* layer l bias [size[l+1]] (owned) */
} qs_mlp;

/* A new MLP with nl layers and widths size[0..nl], initialised as torch.nn.Linear does
 * (uniform in ±1/sqrt(fan_in) for weights and biases) from a seeded generator. */
qs_mlp *qs_mlp_new(int nl, const int *size, uint64_t seed, qs_err *err);
qs_mlp *qs_mlp_clone(const qs_mlp *m, qs_err *err);
void qs_mlp_free(qs_mlp *m);
/* Number of weights and biases. */
int64_t qs_mlp_params(const qs_mlp *m);

/* Writes the model as safetensors: tensors fc1.weight, fc1.bias, ... (F32), the JSON header
 * padded with spaces to a multiple of 8, offsets contiguous; __metadata__ holds format
 * "qscope-mlp", the sizes ("64,64,10") and `note`. Written through the atomic writer of
 * io.h (qs_io_write_file), replacing an existing regular file. */
int qs_mlp_save(const qs_mlp *m, const char *path, const char *note, qs_err *err);
/* The bytes qs_mlp_save writes, in a new buffer *out of *len bytes (caller frees): the one
 * safetensors serializer (qs_io_st_build), for callers that pick their own overwrite policy. */
int qs_mlp_serialize(const qs_mlp *m, const char *note, unsigned char **out, size_t *len,
                     qs_err *err);
/* Reads a model written by qs_mlp_save (or any safetensors file with fcN.weight/fcN.bias
 * F32 tensors of chaining shapes) through io.h. */
int qs_mlp_load(const char *path, qs_mlp **out, qs_err *err);

/* ---- quantization ---------------------------------------------------------------------- */

/* How a model is quantized. Weights: symmetric narrow range (codes -(2^(b-1)-1) ..
 * 2^(b-1)-1, scale = amax / qmax; bits 2 gives the ternary grid). Activations (the input of
 * every layer): affine unsigned, range widened to include 0 (PyTorch observers), codes
 * 0 .. 2^abits - 1, round half to even of x·(1/scale). */
typedef struct qs_nn_qcfg {
    int wbits;          /* weight bits 2..8 */
    int abits;          /* activation bits 2..8 (0: activations stay fp32) */
    qs_gran wgran;      /* QS_G_TENSOR or QS_G_CHANNEL (one scale per output row) */
    qs_calib_kind calib;/* activation calibrator: minmax, percentile, mse, entropy */
    double pct;         /* percentile in percent for QS_CAL_PERCENTILE */
    int batches;        /* calibration batches (0: the whole calibration set) */
    int batch;          /* calibration batch size */
} qs_nn_qcfg;

/* A quantized model: fp32 master weights plus the quantizer parameters. */
typedef struct qs_nn_qmodel {
    qs_mlp *m;                              /* weights (owned) */
    qs_nn_qcfg cfg;                         /* the configuration */
    float *wscale[QS_NN_MAX_LAYERS];        /* weight scales: 1 or size[l+1] (owned) */
    float amin[QS_NN_MAX_LAYERS];           /* observed range of layer l's input */
    float amax[QS_NN_MAX_LAYERS];           /* (the observer state) */
    float ascale[QS_NN_MAX_LAYERS];         /* activation scale of layer l's input */
    int32_t azp[QS_NN_MAX_LAYERS];          /* its zero point */
    int lsq;                                /* scales are learned (LSQ) */
} qs_nn_qmodel;

/* Weight code range for b bits (narrow symmetric): qmax = 2^(b-1) - 1. */
int qs_nn_wqmax(int bits);
/* Affine activation parameters from a range through the engine (qs_qparams_compute, PyTorch
 * convention: range widened to include 0, scale >= 1.1920929e-07, zp = clamp(qmin -
 * round_half_even(lo/scale), qmin, qmax)). QS_ERR only when out of memory. */
int qs_nn_affine_params(float lo, float hi, int bits, float *scale, int32_t *zp);
/* Quantizes a copy of m: weight scales from each row's / tensor's absmax, activation ranges
 * from the calibration set with the configured calibrator. Reports progress through pr
 * (may be NULL). */
int qs_nn_ptq(const qs_progress *pr, const qs_mlp *m, const qs_nn_set *calib,
              const qs_nn_qcfg *cfg, qs_nn_qmodel **out, qs_err *err);
void qs_nn_qmodel_free(qs_nn_qmodel *q);
/* Recomputes the weight scales from the current weights (absmax). */
void qs_nn_qmodel_weight_scales(qs_nn_qmodel *q);

/* ---- training -------------------------------------------------------------------------- */

typedef enum qs_nn_opt { QS_NN_SGD = 0, QS_NN_ADAM } qs_nn_opt;

/* Training settings. */
typedef struct qs_nn_train_cfg {
    int epochs;         /* passes over the training set */
    int batch;          /* mini-batch size */
    double lr;          /* learning rate */
    qs_nn_opt opt;      /* SGD with momentum 0.9, or Adam (0.9, 0.999, 1e-8) */
    uint64_t seed;      /* shuffling (and LoRA init) seed */
    int freeze;         /* QAT: activation observers frozen from this epoch on (0-based);
                           -1 never */
    int lsq;            /* QAT: learn the step sizes (LSQ) */
    const char *label;  /* progress label, or NULL for "train" / "qat" / the method */
} qs_nn_train_cfg;

/* Per-epoch curves (owned arrays of `epochs` values). */
typedef struct qs_nn_curve {
    int epochs;         /* entries */
    double *loss;       /* mean training loss of each epoch */
    double *acc;        /* test accuracy after each epoch */
} qs_nn_curve;
void qs_nn_curve_fini(qs_nn_curve *c);

/* Trains m (fp32) on data->train; records the loss and test accuracy per epoch in curve
 * (may be NULL). Progress per batch through pr ("train", may be NULL); QS_CANCELLED when
 * cancelled (m then holds the weights reached so far). Deterministic for a given seed. */
int qs_nn_train(const qs_progress *pr, qs_mlp *m, const qs_nn_set *train,
                const qs_nn_set *test, const qs_nn_train_cfg *cfg, qs_nn_curve *curve,
                qs_err *err);
/* Quantization-aware training of q in place: fake-quant weights and activations in the
 * forward pass, clipped STE in the backward pass, moving-average (0.01) activation
 * observers until cfg->freeze, LSQ when cfg->lsq (gradient scale 1/sqrt(N·Qp)). */
int qs_nn_qat(const qs_progress *pr, qs_nn_qmodel *q, const qs_nn_set *train,
              const qs_nn_set *test, const qs_nn_train_cfg *cfg, qs_nn_curve *curve,
              qs_err *err);

/* Loss and gradients of the fp32 model on one batch (x: n × size[0]): returns the mean
 * softmax cross-entropy and writes dL/dw, dL/db into gw[l], gb[l] (caller-allocated like
 * m->w, m->b). With q != NULL the forward pass fake-quantizes with q's activation
 * parameters and weight scales recomputed from m's weights (written into q->wscale; q->m
 * is ignored), and gradients follow the STE. For tests (finite differences). */
double qs_nn_loss_grad(const qs_mlp *m, qs_nn_qmodel *q, const float *x, const uint8_t *y,
                       int64_t n, float **gw, float **gb);

/* Predicted classes of n samples: fp32 (q == NULL) or the fake-quant simulation with q's
 * current parameters (nothing is written to m or q). */
int qs_nn_predict(const qs_mlp *m, const qs_nn_qmodel *q, const float *x, int64_t n,
                  uint8_t *pred, qs_err *err);
/* Fraction of set samples predicted right. */
double qs_nn_accuracy(const qs_mlp *m, const qs_nn_qmodel *q, const qs_nn_set *set);
/* The 95% Wilson score interval [*lo, *hi] of an accuracy p measured on n examples (z =
 * 1.959964): how far the true accuracy may be from p by the luck of the test set. n < 1
 * gives [0, 1]. (Wilson, JASA 22 (1927); the interval statsmodels' proportion_confint
 * computes with method="wilson".) */
void qs_nn_wilson95(double p, long n, double *lo, double *hi);

/* ---- integer-only inference ------------------------------------------------------------ */

/* An integer model built from a quantized model: int8 weight codes, int32 biases
 * (round(b / (S_in·S_w))), fixed-point multipliers M = S_in·S_w/S_out = M0·2^-(31+shift). */
typedef struct qs_nn_imodel {
    int nl;                                 /* layers */
    int size[QS_NN_MAX_LAYERS + 1];         /* widths */
    int8_t *wq[QS_NN_MAX_LAYERS];           /* weight codes [out, in] (owned) */
    int32_t *bq[QS_NN_MAX_LAYERS];          /* int32 biases [out] (owned) */
    int32_t *m0[QS_NN_MAX_LAYERS];          /* requant multipliers [out] (hidden layers) */
    int *shift[QS_NN_MAX_LAYERS];           /* their shifts [out] */
    float *oscale[QS_NN_MAX_LAYERS];        /* last layer: S_in·S_w per output (logits) */
    float in_scale;                         /* input quantization scale */
    int32_t zp[QS_NN_MAX_LAYERS + 1];       /* zero point of each layer's input */
    int amax_code;                          /* 2^abits - 1 */
} qs_nn_imodel;

int qs_nn_int_build(const qs_nn_qmodel *q, qs_nn_imodel **out, qs_err *err);
void qs_nn_imodel_free(qs_nn_imodel *im);
/* Integer-only predictions of n samples: inputs quantized once (quantize kernel), then
 * gemm_u8s8 + int32 bias + qs_requant_rows per hidden layer, argmax of the last layer's
 * int32 accumulators scaled per output. */
int qs_nn_int_predict(const qs_nn_imodel *im, const float *x, int64_t n, uint8_t *pred,
                      qs_err *err);

/* ---- LoRA / QLoRA ---------------------------------------------------------------------- */

typedef enum qs_nn_ft { QS_NN_FT_FULL = 0, QS_NN_FT_LORA, QS_NN_FT_QLORA } qs_nn_ft;

/* One fine-tuning run's outcome. */
typedef struct qs_nn_ft_result {
    double acc;             /* test accuracy on the shifted task */
    int64_t trainable;      /* trainable parameters */
    int64_t frozen;         /* frozen parameters */
    int64_t weight_bytes;   /* bytes of the stored model (base + adapters) */
    int64_t train_bytes;    /* bytes of training state: gradients + Adam moments */
    double base_bits;       /* bits per base weight (32, or NF4 + double quantization) */
    double base_err;        /* QLoRA: RMS error of the NF4 base weights */
    qs_nn_curve curve;      /* per-epoch loss and accuracy */
} qs_nn_ft_result;

/* Fine-tunes a copy of base on train/test: full (all weights), LoRA (W0 + (alpha/r)·B·A on
 * every layer, A gaussian 1/sqrt(in), B zero, biases frozen) or QLoRA (W0 stored as NF4,
 * block 64, absmax double-quantized to 8 bits in blocks of 256 after subtracting the mean;
 * adapters fp32). */
int qs_nn_finetune(const qs_progress *pr, const qs_mlp *base, qs_nn_ft kind, int rank,
                   double alpha, const qs_nn_set *train, const qs_nn_set *test,
                   const qs_nn_train_cfg *cfg, qs_nn_ft_result *res, qs_err *err);

/* ---- the lab (session state) ----------------------------------------------------------- */

/* The lab behind the `lab` commands; owned by the session (qs_lab_get). */
typedef struct qs_lab {
    qs_nn_data *data;           /* the loaded data set, or NULL */
    qs_mlp *fp32;               /* the trained fp32 model, or NULL */
    qs_nn_train_cfg tcfg;       /* how it was trained */
    qs_nn_curve curve;          /* its training curves */
    double fp32_acc;            /* its test accuracy */
    qs_nn_qmodel *q;            /* the last PTQ or QAT model, or NULL */
    int q_qat;                  /* 1 when q came from QAT */
    char source[512];           /* "trained" or the path it was loaded from */
} qs_lab;

/* Frees a lab and everything it owns (NULL is fine). The session's lab is kept in a session
 * extension slot: qs_lab_get in session.h. */
void qs_lab_free(struct qs_lab *lab);

/* A text sparkline of v[0..n) with Unicode block elements (8 levels), in buf. */
void qs_nn_sparkline(const double *v, int n, char *buf, size_t len);

#endif
