/* gpt_ptq.h — issue 17's post-training quantization methods applied to the GPT lab's model
 * (gpt.h) through its linear-layer hook: round-to-nearest, GPTQ, AWQ, SmoothQuant W8A8,
 * LLM.int8() and randomized Hadamard rotation, each calibrated on text the evaluation does
 * not score. The engine functions are llmq.h's; this file runs them layer by layer. */
#ifndef QSCOPE_GPT_PTQ_H
#define QSCOPE_GPT_PTQ_H

#include <stdint.h>

#include "qscope/err.h"
#include "qscope/gpt.h"

typedef enum qs_ptq_method {
    QS_PTQ_RTN = 0,     /* round to nearest on the grid below (GPTQ's min-max quantizer) */
    QS_PTQ_GPTQ,        /* GPTQ, layer after layer (inputs from the already-quantized model) */
    QS_PTQ_AWQ,         /* AWQ scale search per layer, then its clipping search (unless
                           noclip), rounding to nearest (inputs from the fp32 model) */
    QS_PTQ_SMOOTHQUANT, /* W8A8 (int8 per-token X, per-channel W) after SmoothQuant scales */
    QS_PTQ_LLMINT8,     /* W8A8 with the outlier input columns in fp32 */
    QS_PTQ_W8A8,        /* plain W8A8 (the baseline of the two above) */
    QS_PTQ_ROTATE,      /* randomized Hadamard on every linear's input, then round to nearest
                           (bits 0: no quantization, the fp32 equivalence check) */
    QS_PTQ_COUNT
} qs_ptq_method;

const char *qs_ptq_method_name(int m);   /* "rtn", "gptq", ... */
int qs_ptq_method_find(const char *name); /* -1 when unknown */

typedef struct qs_gpt_ptq_opts {
    int method;         /* qs_ptq_method */
    int bits;           /* weight bits (weight-only methods; 0 with rotate: no quantization) */
    int group;          /* columns per scale (0: per output row) */
    int sym;            /* symmetric grid */
    double alpha;       /* SmoothQuant migration strength (0.5) */
    double threshold;   /* LLM.int8() outlier threshold (6.0) */
    double damp;        /* GPTQ dampening (0.01) */
    int actorder;       /* GPTQ act-order */
    uint64_t seed;      /* rotation seed */
    int grid;           /* AWQ grid points (20) */
    int noclip;         /* AWQ: 1 skips llm-awq's clipping search (auto_clip; 0 runs it) */
} qs_gpt_ptq_opts;

void qs_gpt_ptq_defaults(qs_gpt_ptq_opts *o);

/* A model prepared by a method: the weights (a clone of the fp32 model with its block linear
 * layers replaced; the output layer stays fp32) and, for the W8A8 and rotation methods, the
 * forward override that evaluation must use. */
typedef struct qs_gpt_ptq {
    qs_gpt *m;              /* owned */
    qs_gpt_run_opts run;    /* run.linear / run.ctx set for W8A8, LLM.int8(), rotation */
    void *ctx;              /* owned by the struct (freed by qs_gpt_ptq_fini) */
    double bits;            /* bits per weight of the quantized matrices */
    char format[48];        /* "int4-g32-affine", "w8a8-token", "fp32" ... */
    int kept_columns;       /* LLM.int8(): input columns kept in fp32, summed over layers */
    int total_columns;      /* ... out of */
    double awq_ratio_mean;  /* AWQ: mean chosen α over the layers */
    double awq_clip_frac;   /* AWQ: fraction of (row, group) ranges its clip search shrank */
    int64_t calib_rows;     /* calibration tokens used */
} qs_gpt_ptq;

/* Runs method o on m with calibration tokens calib (whole windows of ctx, at most max_rows
 * tokens). QS_ERR with err for a bad option (e.g. rotation of a width that is not a power of
 * two) or memory. */
int qs_gpt_ptq_run(const qs_gpt *m, const uint8_t *calib, int64_t ncalib, int64_t max_rows,
                   const qs_gpt_ptq_opts *o, qs_gpt_ptq *out, qs_err *err);
void qs_gpt_ptq_fini(qs_gpt_ptq *p);

#endif
