/* derive.h — derivation traces: the steps from the data to one value's code and back, each
 * with a title, the symbolic formula, the formula with this tensor's numbers, the result and
 * a one-line note. Every face renders them (text, TUI Derive screen, lesson transcript). */
#ifndef QSCOPE_DERIVE_H
#define QSCOPE_DERIVE_H

#include <stdint.h>

#include "qscope/calib.h"
#include "qscope/err.h"
#include "qscope/quant.h"
#include "qscope/tensor.h"

/* One step. */
typedef struct qs_step {
    char title[64];         /* "scale", "zero point", "round", ... */
    char formula[160];      /* "s = (max - min) / (qmax - qmin)" */
    char substituted[256];  /* "s = (1000 - (-20)) / (255 - 0)" */
    char result[128];       /* "s = 4" */
    char note[256];         /* one line of explanation (may be empty) */
    double value;           /* the step's numeric result (NaN when none) */
    int part;               /* 1-based unit of a method trace the step belongs to (GPTQ: the
                             * k-th traced column); 0 none */
} qs_step;

/* A trace: a growing array of steps. */
typedef struct qs_trace {
    qs_step *steps;         /* heap array */
    int n, cap;             /* used, allocated */
    int set;                /* parameter set (channel / group / block) the trace follows */
    double x;               /* the value followed */
    int64_t code;           /* its code (int kinds, codebooks, float patterns) */
    double xhat;            /* its dequantized value */
} qs_trace;

/* What to trace. */
typedef struct qs_derive_opts {
    int has_value;          /* 1: follow `value`; 0: follow the element `index` */
    double value;           /* a typed-in value */
    int64_t index;          /* element index (when !has_value; default 0) */
    int64_t set;            /* parameter set / channel / block to use (-1: the set of index) */
    int has_power;          /* 1: power_sum and power_n are qs_derive_power of the tensor (a
                               session keeps them: qs_session_power); 0: derive computes them */
    double power_sum;       /* Σx² over the finite values */
    int64_t power_n;        /* the finite values */
} qs_derive_opts;

/* Σx² and the count of the finite values of x[0..n): the power P = Σx²/n of the noise-model
 * step, in one fixed order (so a cached copy gives the same digits). */
void qs_derive_power(const float *x, int64_t n, double *sum_x2, int64_t *n_finite);

/* Builds the trace of tensor t under scheme sc and calibrator c into *tr (the caller frees it
 * with qs_trace_fini). Returns QS_OK, or QS_ERR with err naming the bad set / index (tr is
 * then empty). */
int qs_derive(const qs_tensor *t, const qs_scheme *sc, const qs_calib *c,
              const qs_derive_opts *o, qs_trace *tr, qs_err *err);
/* qs_derive with the calibration computed already (e.g. by qs_session_calib): for integer
 * grids, cal is the calibration of t under (sc, c) — for ggml Q8_0 / Q4_0 under minmax — and
 * is only read; NULL, or one whose calibrator or number of parameter sets differs, is
 * calibrated here as qs_derive does. */
int qs_derive_cal(const qs_tensor *t, const qs_scheme *sc, const qs_calib *c,
                  const qs_calib_result *cal, const qs_derive_opts *o, qs_trace *tr,
                  qs_err *err);
/* qs_requant_multiplier (M = M0 · 2^-(31 + shift)) that, when tr is not NULL, appends the
 * step that writes M in fixed point, from the multiplier's own parts (src/quant/requant.c). */
void qs_requant_multiplier_trace(double M, int32_t *m0, int *shift, qs_trace *tr);
/* Frees the steps of tr and zeroes it (safe to call twice). */
void qs_trace_fini(qs_trace *tr);

#endif
