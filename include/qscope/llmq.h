/* llmq.h — LLM-era post-training quantization methods on plain matrices (issue 17): the weight
 * grid they share (GPTQ's min-max Quantizer and AWQ's pseudo_quantize), randomized Hadamard
 * rotation, SmoothQuant, LLM.int8() mixed-precision decomposition, GPTQ and AWQ.
 *
 * Conventions: a linear layer computes Y = X · Wᵀ with X [n × in] (n calibration rows /
 * tokens) and W [out × in] row-major; "input channel j" is column j of both. All arithmetic is
 * in double and the results are stored as float32. Nothing here allocates hidden state; every
 * function returns QS_OK or QS_ERR with err set (bad sizes, out of memory, a Hessian that is
 * not positive definite). Each method has a numpy reference in tests/golden/make_llmq_golden.py. */
#ifndef QSCOPE_LLMQ_H
#define QSCOPE_LLMQ_H

#include <stdint.h>

#include "qscope/derive.h"
#include "qscope/err.h"

/* ---- the weight grid ---------------------------------------------------------------------- */

/* Integer weight quantizer. style 0 is GPTQ's Quantizer (gptq/quant.py): range widened to
 * include 0, asym zero = round(-min/scale), sym zero = (maxq+1)/2 with the range ±max|x|, an
 * all-zero range becomes [-1, 1]; style 1 is llm-awq's pseudo_quantize_tensor: asym over
 * [min, max] (scale = max(max-min, 1e-5)/maxq, zero = clamp(-round(min/scale), 0, maxq)), sym
 * scale = max(max|x|, 1e-5)/(2^(b-1)-1). q = clamp(round(x/scale) + zero, 0, maxq) (sym AWQ:
 * clamp(round(x/scale), -2^(b-1), 2^(b-1)-1)), round half to even. */
typedef struct qs_wq {
    int bits;       /* 2..8 */
    int sym;        /* 1: symmetric */
    int group;      /* consecutive input columns sharing a scale; 0 = one per output row */
    int style;      /* 0 GPTQ, 1 AWQ */
} qs_wq;

/* scale and zero of values x[0..n) (stride apart) under q. */
void qs_wq_params(const qs_wq *q, const double *x, int n, int stride, double *scale,
                  double *zero);
/* One value through the grid: the dequantized value. */
double qs_wq_fake(const qs_wq *q, double x, double scale, double zero);
/* Round-to-nearest of W [out × in] into Wq (may equal W): per row or per group of columns. */
int qs_wq_rtn(const qs_wq *q, const float *W, int out, int in, float *Wq, qs_err *err);

/* Output error of a quantized layer on calibration rows: mean over n·out of
 * (X·Wᵀ - X·Wqᵀ)², and the output SQNR in dB (10·log10(Σy² / Σe²)). */
void qs_llmq_out_err(const float *X, int n, const float *W, const float *Wq, int out, int in,
                     double *mse, double *sqnr_db);
/* The same measure for a layer's computed outputs Y [n × out] (W8A8, SmoothQuant, LLM.int8():
 * activations quantized too) against the fp32 X·Wᵀ. */
void qs_llmq_y_err(const float *X, int n, const float *W, int out, int in, const float *Y,
                   double *mse, double *sqnr_db);
/* Pearson kurtosis (4th moment / variance², 3 for a Gaussian) and max |x| of v[0..n). */
void qs_llmq_kurtosis(const float *v, int64_t n, double *kurt, double *absmax);

/* ---- rotation (QuaRot / SpinQuant style randomized Hadamard) ------------------------------ */

/* The ±1 signs d[0..n) of seed: bit 63 of successive splitmix64 outputs (1 → -1). */
void qs_rot_signs(uint64_t seed, int n, float *d);
/* Rotates each of the rows of M [rows × n] (n a power of two) in place: m ← FWHT(m ⊙ d)/√n,
 * i.e. M·Q with Q = diag(d)·H/√n orthogonal. Applied to both X and W, (XQ)(WQ)ᵀ = XWᵀ. */
int qs_rot_apply(float *M, int rows, int n, const float *d, qs_err *err);
/* The inverse: m ← FWHT(m)/√n ⊙ d (M·Qᵀ). */
int qs_rot_unapply(float *M, int rows, int n, const float *d, qs_err *err);

/* ---- SmoothQuant ---------------------------------------------------------------------------- */

/* s_j = clamp(max|X_j|^α / clamp(max|W_j|, 1e-5)^(1-α), 1e-5) (smoothquant/smooth.py); the
 * layer then computes (X/s)·(W·s)ᵀ. amax_x, amax_w (may be NULL) receive the two maxima. */
int qs_smooth_scales(const float *X, int n, const float *W, int out, int in, double alpha,
                     float *s, float *amax_x, float *amax_w, qs_err *err);

/* The steps of channel j's factor (a = max|X_j|, w = max|W_j|, s = s_j) appended to tr;
 * planted = 1 labels the channel as a planted outlier. */
void qs_smooth_trace(double a, double w, double s, int j, double alpha, int n, int out,
                     int planted, qs_trace *tr);

/* W8A8 simulation: activations int8 absmax per row (token) or per tensor, weights int8 absmax
 * per output row, integer products, dequantized; Y [n × out] receives the result. */
int qs_w8a8(const float *X, int n, const float *W, int out, int in, int act_per_tensor,
            float *Y, qs_err *err);

/* ---- LLM.int8() ----------------------------------------------------------------------------- */

/* Mixed-precision decomposition (bitsandbytes' matmul with threshold): input columns j with
 * any |X[t, j]| >= threshold are kept in floating point (X_o · W_oᵀ in fp32), the rest go
 * through int8 with per-row absmax scales for X and per-output-row absmax scales for W
 * (vector-wise quantization). Y [n × out] receives the sum; keep (may be NULL, in entries)
 * marks the kept columns; *nkeep their count. */
int qs_llmint8(const float *X, int n, const float *W, int out, int in, double threshold,
               float *Y, uint8_t *keep, int *nkeep, qs_err *err);

/* ---- GPTQ ----------------------------------------------------------------------------------- */

typedef struct qs_gptq_opts {
    qs_wq q;            /* the grid (style 0); q.group = groupsize (0 = per row) */
    double percdamp;    /* dampening: percdamp · mean(diag H) added to the diagonal (0.01) */
    int blocksize;      /* lazy batch width (128) */
    int actorder;       /* 1: columns in order of decreasing diag H */
    int trace_cols;     /* columns recorded into trace (0 = none) */
    int trace_rows;     /* rows shown per recorded column (e.g. 4) */
    qs_trace *trace;    /* may be NULL: receives the steps of the first trace_cols columns */
} qs_gptq_opts;

void qs_gptq_defaults(qs_gptq_opts *o);
/* GPTQ (IST-DASLab gptq.py fasterquant) of W [out × in] with H = 2/n · XᵀX from X [n × in]:
 * dead columns (H_jj = 0) zeroed, act-order permutation, dampening, Hinv = the upper Cholesky
 * factor of H⁻¹, then column by column: q = Q(w), err = (w - q)/Hinv_ii, the remaining columns
 * of the batch updated by -err·Hinv_i,i:, and after each batch the later columns by the
 * batch's errors. Wq receives the quantized weights (original column order); loss (may be
 * NULL) Σ (w-q)²/Hinv_ii² / 2 as gptq.py prints. */
int qs_gptq(const float *X, int n, const float *W, int out, int in, const qs_gptq_opts *o,
            float *Wq, double *loss, qs_err *err);

/* ---- AWQ ------------------------------------------------------------------------------------ */

/* llm-awq auto_scale (_search_module_scale) on one linear: x_max = mean |X| per input channel;
 * for ratio = k/grid (k = 0..grid-1): s = clamp(x_max^ratio, 1e-4), s /= sqrt(max s · min s),
 * Wq = Q(W·s)/s with q (style 1), loss = mean (XWᵀ - XWqᵀ)²; the ratio with the least loss
 * wins (ratio 0 is plain round-to-nearest). Wq receives the winner, s (may be NULL) its
 * scales, losses (may be NULL, grid entries) the curve, *best_ratio the ratio. */
int qs_awq(const float *X, int n, const float *W, int out, int in, const qs_wq *q, int grid,
           float *Wq, float *s, double *losses, double *best_ratio, qs_err *err);

/* The loss of a candidate: *loss for the layer whose weights are Wq [out × in] (QS_OK, or
 * QS_ERR with err set). */
typedef int (*qs_awq_loss_fn)(void *ctx, const float *Wq, double *loss, qs_err *err);
/* qs_awq with the loss of each ratio from loss(ctx, Q(W·s)/s) instead of the layer's own
 * output error (NULL: the same as qs_awq), as llm-awq scores a module's output when the
 * layer feeds more than itself (module2inspect: the attention or MLP block). */
int qs_awq_ex(const float *X, int n, const float *W, int out, int in, const qs_wq *q, int grid,
              qs_awq_loss_fn loss, void *ctx, float *Wq, float *s, double *losses,
              double *best_ratio, qs_err *err);

/* llm-awq auto_clip (auto_clip.py auto_clip_layer, then apply_clip), run after the scale
 * search on the scaled layer W' = W·s, X' = X/s (s NULL: no scaling): every n/n_sample-th
 * calibration row (every row when n < n_sample); for each output row and group of q, the
 * original y_t = Σ_group X'_tj W'_oj, then for i = 0 .. floor(max_shrink · n_grid)-1 the range
 * m_i = max|W'_group| · (1 - i/n_grid), W' clamped to [-m_i, m_i] and rounded by q (style 1:
 * asym over the clamped min/max), err_i = mean_t (Σ X'_tj Q_oj - y_t)²; the first i with the
 * least err (below torch's initial 1e9) wins. Wq receives Q(clamp(W', m))/s; max_val (may be
 * NULL, out × groups) the chosen m; *nclipped (may be NULL) the groups with i > 0. llm-awq's
 * defaults: n_grid 20, max_shrink 0.5, n_sample 512. */
int qs_awq_clip(const float *X, int n, const float *W, int out, int in, const qs_wq *q,
                const float *s, int n_grid, double max_shrink, int n_sample, float *Wq,
                float *max_val, int *nclipped, qs_err *err);

#endif
