/* nn_priv.h — helpers shared by the files of src/nn (not a public header): a seeded random
 * number generator and small array helpers. */
#ifndef QSCOPE_NN_PRIV_H
#define QSCOPE_NN_PRIV_H

#include <math.h>
#include <stdint.h>

#include "qscope/nn.h"

/* A splitmix64 generator: the whole state is one counter, so runs repeat exactly. */
typedef struct nn_rng {
    uint64_t s;         /* state */
} nn_rng;

static inline uint64_t nn_rng_next(nn_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
/* Uniform in [0, 1) with 53 random bits. */
static inline double nn_rng_unif(nn_rng *r)
{
    return (double)(nn_rng_next(r) >> 11) * 0x1.0p-53;
}
/* Standard normal (Box-Muller, one value per call). */
static inline double nn_rng_normal(nn_rng *r)
{
    double u = nn_rng_unif(r), v = nn_rng_unif(r);
    if (u < 1e-300) u = 1e-300;
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}
/* Fisher-Yates shuffle of idx[0..n). */
static inline void nn_shuffle(nn_rng *r, int64_t *idx, int64_t n)
{
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)(nn_rng_next(r) % (uint64_t)(i + 1));
        int64_t t = idx[i]; idx[i] = idx[j]; idx[j] = t;
    }
}

/* Progress on the session when there is one (tests pass NULL). */
static inline int nn_progress(qs_session *s, const char *label, double done, double total)
{
    return s ? qs_session_progress(s, label, done, total) : QS_OK;
}

/* Fixed seed of the train / calibration / test split (independent of the training seed). */
#define NN_SPLIT_SEED 20260101u

/* First readable dir/base or dir/base.gz over dir, $QSCOPE_DATASETS, ./datasets, the
 * executable's ../datasets and ../share/qscope/datasets, the install data directory and
 * Debian's Fashion-MNIST folder; 1 when found (path filled). */
int nn_find_file(const char *dir, const char *base, char *path, size_t len);

/* Allocates a set of n samples (x aligned, y plain). QS_ERR when out of memory. */
int nn_set_alloc(qs_nn_set *s, int64_t n, int nfeat, int nclass, qs_err *err);
/* Gathers rows idx[0..n) of src into dst (already allocated with n rows). */
void nn_set_gather(const qs_nn_set *src, const int64_t *idx, int64_t n, qs_nn_set *dst);

/* Index of the largest of v[0..n) (first on ties). */
static inline int nn_argmax(const float *v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

/* ---- the training engine (mlp.c) ------------------------------------------------------- */

/* One trainable array and its optimizer state. */
typedef struct nn_param {
    float *v;           /* values (borrowed) */
    float *g;           /* gradient (borrowed) */
    float *m1, *m2;     /* Adam moments / SGD momentum (owned by the net) */
    int64_t n;          /* element count */
    float lo;           /* values are kept >= lo after each step (scales), or -inf */
} nn_param;

/* One linear layer as the engine runs it. */
typedef struct nn_layer {
    int in, out;        /* widths */
    float *w, *b;       /* weights [out, in] and bias (borrowed from the qs_mlp) */
    float *gb;          /* bias gradient */
    int rank;           /* LoRA rank (0: none) */
    float lscale;       /* LoRA scaling alpha / rank */
    float *la, *lb;     /* LoRA A [rank, in] (gaussian) and B [out, rank] (zero) */
    float *gla, *glb;   /* their gradients */
    int wq;             /* fake-quantize the weights */
    int wqmax;          /* weight codes -wqmax..wqmax */
    int nws;            /* weight scales: 1 or out */
    float *ws;          /* weight scales (borrowed from the qmodel) */
    float *wsinv;       /* 1/ws */
    int32_t *wzp;       /* zeros (nws) */
    float *gws;         /* LSQ gradient of ws */
    int aq;             /* fake-quantize this layer's input */
    int aqmax;          /* activation codes 0..aqmax */
    float gas;          /* LSQ gradient of the activation scale */
    float *bfq;         /* bias used by the GEMM: rounded to the int32 accumulator grid
                           S_in·S_w when weights and input are quantized, else == b */
    float *bs, *bsinv;  /* that grid's step per output, and its inverse */
    int32_t *bzp;       /* zeros (out) */
    float *weff;        /* effective weights before quantization [out, in] */
    float *wfq;         /* weights used by the GEMM (== weff when !wq) */
    float *xin;         /* input before quantization [maxb, in] */
    float *xq;          /* input used by the GEMM (== xin when !aq) */
    float *z;           /* pre-activation output [maxb, out] */
    float *dz;          /* gradient of z [maxb, out] */
    float *dweff;       /* gradient of weff [out, in] */
} nn_layer;

enum {
    NN_TRAIN_W = 1,     /* weights and biases are trainable */
    NN_TRAIN_LORA = 2,  /* LoRA adapters are trainable (weights frozen) */
    NN_QUANT = 4,       /* fake-quant with the qmodel's parameters */
    NN_LSQ = 8          /* learn the qmodel's scales */
};

/* A model prepared for training or evaluation in batches of up to maxb samples. */
typedef struct nn_net {
    int nl;                         /* layers */
    int maxb;                       /* largest batch */
    int flags;                      /* NN_* */
    nn_layer L[QS_NN_MAX_LAYERS];   /* the layers */
    qs_nn_qmodel *q;                /* quantizer state (borrowed) or NULL */
    int observe;                    /* update activation observers in forward passes */
    float *dx;                      /* scratch: gradient of a layer's input [maxb, maxw] */
    float *prob;                    /* scratch: softmax [maxb, classes] */
    nn_param p[4 * QS_NN_MAX_LAYERS + QS_NN_MAX_LAYERS];  /* trainable arrays */
    int np;                         /* their count */
    float *aparam[QS_NN_MAX_LAYERS];/* LSQ activation scale params (1 value each) */
    int64_t step;                   /* optimizer steps taken */
} nn_net;

/* Prepares a net over m (weights borrowed, trained in place when NN_TRAIN_W) with the
 * given flags; LoRA adapters of `rank` with scaling alpha/rank are created from seed. */
int nn_net_init(nn_net *net, qs_mlp *m, qs_nn_qmodel *q, int flags, int rank, double alpha,
                uint64_t seed, int maxb, qs_err *err);
void nn_net_fini(nn_net *net);
/* Forward pass of B samples x (B × in); logits in net->L[nl-1].z. */
void nn_forward(nn_net *net, const float *x, int64_t B);
/* Softmax cross-entropy of the logits against y: returns the summed loss; writes the
 * gradient of the mean loss into the last layer's dz. */
double nn_loss(nn_net *net, const uint8_t *y, int64_t B);
/* Backward pass after nn_forward + nn_loss: fills every trainable gradient. */
void nn_backward(nn_net *net, int64_t B);
/* One optimizer step over the trainable arrays. */
void nn_step(nn_net *net, qs_nn_opt opt, double lr);
/* Predicted classes of a set (eval mode: observers not updated). */
void nn_predict(nn_net *net, const float *x, int64_t n, uint8_t *pred);
double nn_accuracy(nn_net *net, const qs_nn_set *s);
/* The training loop shared by fp32 training, QAT and fine-tuning. */
int nn_fit(qs_session *s, nn_net *net, const qs_nn_set *tr, const qs_nn_set *te,
           const qs_nn_train_cfg *cfg, qs_nn_curve *curve, const char *label, qs_err *err);

#endif
