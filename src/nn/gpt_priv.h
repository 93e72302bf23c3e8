/* gpt_priv.h — shared by src/nn/gpt*.c (not a public header): activation buffers of a forward
 * pass and the forward / backward passes. */
#ifndef QSCOPE_GPT_PRIV_H
#define QSCOPE_GPT_PRIV_H

#include "qscope/gpt.h"

/* Activations of B windows of T tokens (kept for the backward pass). */
typedef struct gpt_buf {
    int B, T, L, d, ff, H;
    int64_t N;                              /* B·T rows */
    int64_t bytes;                          /* allocated */
    float *x[QS_GPT_MAX_LAYERS + 1];        /* residual stream entering block l; x[L] last */
    float *ln1[QS_GPT_MAX_LAYERS], *mu1[QS_GPT_MAX_LAYERS], *rs1[QS_GPT_MAX_LAYERS];
    float *qkv[QS_GPT_MAX_LAYERS];          /* [N, 3d] */
    float *P[QS_GPT_MAX_LAYERS];            /* [B, H, T, T] attention probabilities */
    float *ao[QS_GPT_MAX_LAYERS];           /* [N, d] attention output before c_proj */
    float *xm[QS_GPT_MAX_LAYERS];           /* [N, d] residual after attention */
    float *ln2[QS_GPT_MAX_LAYERS], *mu2[QS_GPT_MAX_LAYERS], *rs2[QS_GPT_MAX_LAYERS];
    float *h[QS_GPT_MAX_LAYERS];            /* [N, ff] fc1 output */
    float *g[QS_GPT_MAX_LAYERS];            /* [N, ff] gelu(h) */
    float *lnf, *muf, *rsf;                 /* final norm */
    float *logits;                          /* [N, V] */
    /* backward scratch */
    float *dx, *dln, *dqkv, *dao, *dh, *dP; /* dP: T·T per thread */
    float *xs;                              /* scratch [N, max(ff, 3d)] (activation quant) */
    int nth;
} gpt_buf;

int gpt_buf_init(gpt_buf *b, const qs_gpt_cfg *c, int B, int T, int train, qs_err *err);
void gpt_buf_fini(gpt_buf *b);
/* Forward of tok [B, T] (T <= ctx). With capture != NULL, capture(cctx, layer, X, rows, in)
 * is called with every linear input. Logits in b->logits. */
typedef void (*gpt_capture_fn)(void *cctx, int layer, const float *X, int64_t rows, int in);
int gpt_forward(const qs_gpt *m, const qs_gpt_run_opts *o, const uint8_t *tok, gpt_buf *b,
                gpt_capture_fn capture, void *cctx);
/* AWQ's module2inspect (gpt_ptq.c): block layer/4's attention output before c_proj (layer %
 * 4 == 0, W a qkv weight) or its gelu(fc1) (layer % 4 == 2, W an fc1 weight) for X [b->N, d]
 * (the norm's output, whole windows of b->T rows); returns b's buffer holding it. */
float *gpt_module_fwd(const qs_gpt *m, int layer, const float *W, const float *X, gpt_buf *b);
/* Mean cross-entropy over the scored positions and dlogits in b->logits (in place). */
double gpt_loss(gpt_buf *b, const uint8_t *tok);
/* Backward after gpt_forward + gpt_loss; accumulates into g (zeroed by the caller). */
void gpt_backward(const qs_gpt *m, const uint8_t *tok, gpt_buf *b, qs_gpt_ptrs *g);

/* Is parameter range [off, off+n) of the contiguous array a 2-D weight (decayed)? Fills the
 * list of 2-D weight ranges: returns their count. */
int gpt_weight_ranges(const qs_gpt *m, int64_t *off, int64_t *len, int max);

#endif
