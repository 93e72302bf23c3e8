/* quant.h — the quantization engine: scheme words and labels, integer code ranges under each
 * convention (torch, onnx, trt, ggml), scale / zero point from a clip range, and applying a
 * scheme to a tensor (integer grids through the qs_k() kernels, float casts, NF4/FP4
 * codebooks with double quantization, ggml Q8_0/Q4_0 blocks).
 *
 * Conventions (see /work/shared/REFERENCE.md and the originals it names):
 *   torch  range widened to include 0; affine scale = (max-min)/(qmax-qmin), zp = clamp(qmin -
 *          nearbyint(min/scale)); symmetric scale = amax/((qmax-qmin)/2), zp 0 (uint: 128 for
 *          8 bits, else (qmin+qmax)/2); scale = max(scale, FLT_EPSILON); all in float32;
 *          quantize multiplies by 1.0f/scale.
 *   onnx   range widened to include 0; symmetric signed uses the narrow range (int8
 *          -127..127); scale computed in double then stored as float32; scale < FLT_MIN gives
 *          scale 1, zp 0; quantize divides x / scale; round half to even.
 *   trt    symmetric only (affine requests are made symmetric), signed narrow; multiplier
 *          max_bound/amax in float32; amax <= 2^-24 quantizes everything to 0 (scale shown 1);
 *          dequantize shown as q·(amax/max_bound).
 *   ggml   8 bits: Q8_0; 4 bits: Q4_0; blocks of 32 consecutive elements along the last axis;
 *          d stored as fp16 (dequantize uses the fp16 d), quantize multiplies by 1.0f/d.
 *
 * Degenerate data (documented behaviour, never a NaN scale):
 *   no finite values (empty after dropping NaN / ±Inf) → range [0, 0];
 *   ±Inf values are left out of the observed range (they clip);
 *   zero range → torch: scale FLT_EPSILON; onnx/trt: scale 1; ggml: d = 0 (all codes zero). */
#ifndef QSCOPE_QUANT_H
#define QSCOPE_QUANT_H

#include <stddef.h>
#include <stdint.h>

#include "qscope/err.h"
#include "qscope/kernels.h"
#include "qscope/scheme.h"
#include "qscope/tensor.h"

/* ---- schemes ---------------------------------------------------------------------------- */

/* The default scheme: int8 affine per-tensor, torch convention, half-to-even rounding. */
void qs_scheme_default(qs_scheme *s);
/* Applies scheme words to *s (see `help scheme`): a type word (int2..int8, uint2..uint8,
 * fp16, bf16, fp8-e4m3, fp8-e5m2, nf4, fp4, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q6_k) first
 * resets *s to the default;
 * sym|asym, narrow|full, per-tensor|per-channel|per-group, axis=, size=/group=, block=,
 * dq|no-dq, convention=, round=, seed=. On error *s is unchanged and err names the word. */
int qs_scheme_parse(qs_scheme *s, int argc, char **argv, qs_err *err);
/* A short label for prompts: "int8 sym/channel", "uint8 asym", "nf4/64+dq", "fp8-e4m3". */
void qs_scheme_label(const qs_scheme *s, char *buf, size_t len);
/* Names used in words and JSON. */
const char *qs_conv_name(qs_conv c);

/* The scheme-family table: one row per qs_qkind, in enum order (src/quant/scheme.c). A
 * family with a fixed type word (the float casts and codebooks) is parsed, named and
 * completed from its row; the integer grids (int2..uint8) and ggml blocks (q8_0, ...) are
 * named by their bits / ggml type. */
typedef struct qs_qkind_desc {
    qs_qkind kind;          /* its enum value (row i has kind i) */
    const char *family;     /* "integer", "float", "codebook", "ggml", "mx" */
    const char *word;       /* the type word ("fp8-e4m3"), or NULL (int / ggml) */
    const char *alias;      /* another accepted word ("e4m3"), or NULL */
    int bits;               /* bits per value (0: set by the word: int4, q4_k, ...) */
    const char *help;       /* one line */
} qs_qkind_desc;
extern const qs_qkind_desc qs_qkind_table[QS_Q_COUNT];

/* The convention table: one row per qs_conv, in enum order (src/quant/scheme.c). The words of
 * convention= and compare's conventions=, their help and completion come from it. */
typedef struct qs_conv_desc {
    qs_conv conv;           /* its enum value (row i has conv i) */
    const char *name;       /* convention=NAME */
    const char *help;       /* one line */
    int compare;            /* 1: compare's conventions= takes it (ggml: formats= instead) */
} qs_conv_desc;
extern const qs_conv_desc qs_conv_table[QS_CONV_COUNT];
/* The convention named name, or -1. */
int qs_conv_find(const char *name);
const char *qs_round_name(qs_round r);
const char *qs_gran_name(qs_gran g);
const char *qs_qkind_name(const qs_scheme *s);     /* "int8", "uint4", "nf4", "fp16", ... */
/* The integer code range of an integer scheme under its convention. */
void qs_scheme_range(const qs_scheme *s, int *qmin, int *qmax);
/* The ggml type id of a scheme that ggml.c quantizes block by block (scheme words q4_1 q5_0
 * q5_1 q4_k q6_k: kind QS_Q_GGML), else -1. Such a scheme has no qs_qparams: qs_qstate_init
 * records its blocks and qs_quant_apply runs qs_ggml_tensor_codes / _errstats. */
int qs_scheme_ggml_block(const qs_scheme *s);
/* The ggml type id of any ggml scheme (q8_0 / q4_0 under convention=ggml included), else -1. */
int qs_scheme_ggml_id(const qs_scheme *s);
/* 1 when the scheme's effective rule is symmetric (trt and ggml force it; Q4_1, Q5_1 and Q4_K
 * carry a minimum and are not). */
int qs_scheme_is_symmetric(const qs_scheme *s);
/* The parameter layout the scheme uses on a tensor shape (ggml: groups of 32 on the last
 * axis; NF4/FP4: per-tensor view, blocks handled by the codebook). -1 + err on a bad axis. */
int qs_scheme_layout(const qs_scheme *s, int ndim, const int64_t *shape, qs_layout *l,
                     qs_err *err);

/* ---- axis=auto: the output-channel axis of a weight (src/quant/axis.c) ------------------ */

/* What is known of where a tensor came from (any field may be NULL). */
typedef struct qs_axis_src {
    const char *file_format;    /* qs_file format: "safetensors", "gguf", "torch", "npy"... */
    const char *meta_format;    /* safetensors __metadata__ "format": "pt", "tf", "flax"... */
} qs_axis_src;

/* The output-channel axis of a tensor (0 .. ndim-1; 0 when ndim < 2), decided in this order:
 * GGUF → 0 (rows are output features); __metadata__ format tf/keras/flax/jax → the last axis
 * (Dense [in, out], HWIO conv kernels; a depthwise kernel's in axis); format pt → 0; a
 * TensorFlow / Keras name (`kernel`, `depthwise_kernel`, `*_filter`) → the last axis; a
 * PyTorch checkpoint or a `.weight` name → 0; else 0. why (may be NULL) receives
 * "axis 3: TensorFlow HWIO kernel [1, 1, 128, 128]". */
int qs_axis_auto(const char *name, int ndim, const int64_t *shape, const qs_axis_src *src,
                 char *why, size_t len);

/* ---- already-quantized weights (src/quant/grid.c) --------------------------------------- */

#define QS_GRID_MAX_DISTINCT 65536  /* distinct values counted exactly (beyond: g->more) */
#define QS_GRID_QUANTIZED_MAX 4096  /* at most this many on a grid: already quantized */
#define QS_GRID_TOL 1e-3            /* a value within this fraction of a step of the grid */

/* Distinct finite values of a tensor and the uniform grid they lie on, if any. */
typedef struct qs_grid {
    int64_t distinct;   /* distinct finite values (±0 counted once); QS_GRID_MAX_DISTINCT
                         * when `more` */
    int more;           /* 1: more than QS_GRID_MAX_DISTINCT distinct values */
    int64_t finite;     /* finite values looked at */
    double step;        /* the grid step when every distinct value is lo + k·step (within
                         * QS_GRID_TOL of a step), else NaN */
    int64_t levels;     /* grid points from min to max ((max - min)/step + 1), 0 when none */
    int bits;           /* ceil(log2(levels)): the code width the grid needs */
} qs_grid;

/* Counts the distinct finite values of x[0..n) (stopping past QS_GRID_MAX_DISTINCT) and finds
 * their grid step. QS_ERR only when out of memory. */
int qs_grid_detect(const float *x, int64_t n, qs_grid *g, qs_err *err);
/* 1 when g looks like dequantized codes: at most QS_GRID_QUANTIZED_MAX distinct values on a
 * uniform grid of at most 12-bit codes, among at least 1024 finite values (each distinct
 * value four times on average: a few typed-in values are not shipped weights). */
int qs_grid_quantized(const qs_grid *g);
/* The sentence qscope shows for such a tensor ("already quantized: 181 distinct values on a
 * uniform grid of step 0.0078125 ..."), or "" when it is not one. */
void qs_grid_note(const qs_grid *g, char *buf, size_t len);

/* ---- integer quantization parameters ---------------------------------------------------- */

/* Parameters of an integer scheme for every parameter set. Owns its arrays. */
typedef struct qs_qparams {
    qs_scheme scheme;   /* the scheme they were computed for */
    qs_layout layout;   /* how parameter sets map onto elements */
    int64_t nparams;    /* number of parameter sets */
    float *scale;       /* dequantization step per set (ggml: the fp16-rounded d) */
    float *inv;         /* multiplier used when !divide (1.0f/scale, 127/amax, 1/d) */
    int32_t *zp;        /* zero point per set */
    float *clip_min;    /* clip range per set as given (after the convention's widening) */
    float *clip_max;    /* ... */
    int qmin, qmax;     /* code range */
    int divide;         /* 1: x / scale (onnx), 0: x * inv */
} qs_qparams;

/* Computes parameters for clip ranges lo[p]..hi[p] (p < qs_layout_nparams(l)) under s's
 * convention. For ggml Q4_0, lo/hi are ignored in favour of signed_max (the block's largest
 * |x| with its sign; may be NULL otherwise). Returns QS_OK or QS_ERR (memory). */
int qs_qparams_compute(const qs_scheme *s, const qs_layout *l, const float *lo,
                       const float *hi, const float *signed_max, qs_qparams *qp,
                       qs_err *err);
struct qs_trace;    /* derive.h */
/* qs_qparams_compute that also explains parameter set `set`: when tr is not NULL, the
 * convention's rule appends to *tr the steps that made that set (include zero, amax, scale,
 * zero point, multiplier, ggml's d ...) with the numbers it computed — the steps `derive`
 * shows. tr NULL (or set outside 0..nparams-1): no steps, the same parameters. */
int qs_qparams_compute_trace(const qs_scheme *s, const qs_layout *l, const float *lo,
                             const float *hi, const float *signed_max, qs_qparams *qp,
                             int64_t set, struct qs_trace *tr, qs_err *err);
/* ggml Q8_0 / Q4_0 (kind QS_Q_GGML or convention=ggml): the parameters from the values
 * x[0..n) themselves, each block's range and signed max as ggml.c's quantizer sees the block
 * (NaN as 0, ±Inf as ±FLT_MAX; no calibration), then qs_qparams_compute_trace (set, tr as
 * there). The one path of qs_qstate_init and `derive`. */
int qs_qparams_ggml(const qs_scheme *s, const qs_layout *l, const float *x, int64_t n,
                    qs_qparams *qp, int64_t set, struct qs_trace *tr, qs_err *err);
/* Frees the arrays of qp and zeroes it (safe on a zeroed or already-freed struct). */
void qs_qparams_fini(qs_qparams *qp);
/* The kernel view of the parameters (pointers into qp). */
qs_qp qs_qparams_kernel(const qs_qparams *qp);
/* One value x through parameter set p (< qp->nparams) by the kernels: its code (*code),
 * dequantized value (*xhat) and whether it was clipped (*clipped); any pointer may be NULL.
 * The numbers `derive` and `codes value=` show (src/quant/one.c). */
void qs_qparams_code1(const qs_qparams *qp, int64_t p, float x, int32_t *code, float *xhat,
                      int *clipped);
/* qs_qparams_code1 that also explains itself: when tr is not NULL, appends the steps of x
 * through the `_ref` rule (qs_k_quant1_ref: divide or multiply, round, zero point, clamp),
 * the dequantization and the error, noting where the dispatched kernel (whose code and x̂
 * are returned) would differ. x is element elem of the tensor (0 for a typed-in value):
 * stochastic rounding draws element elem's number, as quantizing the whole tensor does. */
void qs_qparams_code1_trace(const qs_qparams *qp, int64_t p, float x, int64_t elem,
                            int32_t *code, float *xhat, int *clipped, struct qs_trace *tr);
/* The dequantized value of code (clamped to qmin..qmax) under parameter set p. */
float qs_qparams_dequant1(const qs_qparams *qp, int64_t p, int32_t code);

/* ---- codebooks -------------------------------------------------------------------------- */

extern const float qs_nf4_table[16];    /* bitsandbytes NF4 code values, sorted */
extern const float qs_fp4_table_by_code[16]; /* bitsandbytes FP4 (E2M1) by code */
/* The FP4 table sorted ascending (what the codebook kernels take) and the map from a sorted
 * index to the bitsandbytes code. */
void qs_fp4_sorted(float table[16], int code_of[16]);
/* bitsandbytes' create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8): 256
 * sorted float32 values in [-1, 1], built the same way (float32 linspace as torch). */
void qs_dynamic_map(float map[256]);
/* Index of the nearest entry of a sorted 256-entry map to v (exact midpoints to the lower
 * entry). Used for the 8-bit double quantization of absmax constants. */
int qs_dynamic_map_index(const float map[256], float v);

/* ---- applying a scheme ------------------------------------------------------------------ */

/* Everything a quantized tensor needs to be reconstructed, whatever the kind. */
typedef struct qs_qstate {
    qs_scheme scheme;   /* the scheme */
    qs_qparams qp;      /* integer kinds and ggml: per-set parameters (else empty) */
    /* NF4 / FP4, and ggml block schemes (qs_scheme_ggml_block >= 0: block and nblocks) */
    int block;          /* block size */
    int64_t nblocks;    /* number of blocks */
    float *absmax;      /* per block, as computed (fp32) */
    float *absmax_dq;   /* per block, as used for decoding (double-quantized when dq) */
    float table[16];    /* the sorted codebook */
    int code_of[16];    /* sorted index -> stored code (identity for NF4) */
    float dq_offset;    /* dq: mean of absmax subtracted before 8-bit quantization */
    int64_t dq_nblocks; /* dq: number of 256-blocks of absmax constants */
    float *dq_absmax;   /* dq: absmax of each 256-block of (absmax - offset) */
    uint8_t *dq_codes;  /* dq: 8-bit dynamic-map code of each absmax constant */
    /* float casts */
    int fmt;            /* qs_fmt_id of the cast format, or -1 */
} qs_qstate;

/* Result of qs_quant_apply: statistics of y - x plus the error histogram. */
typedef struct qs_qresult {
    qs_errstats st;     /* error statistics (kernel fakequant / errstats) */
    int eh_bins;        /* error histogram bins (0 when not asked) */
    double eh_lo, eh_hi;/* its range (symmetric: ± max step / 2 or ± max error) */
    uint64_t *eh_counts;/* counts (heap) */
    uint64_t eh_under, eh_over; /* outside the range */
    int64_t nonfinite;  /* finite inputs whose dequantized value is ±Inf or NaN (an fp16
                           cast past ±65504; a ggml block whose scale overflowed fp16 and
                           is stored as Inf, as ggml does); 0 for integer grids */
    int64_t overflow;   /* ggml: elements whose sub-block scale overflowed the reference
                           quantizer's fp32 arithmetic (qs_ggml_tensor_overflow: Q6_K once
                           |x| nears 1e12, stored as 0 or nan) */
} qs_qresult;

/* Prepares the state for applying *sc to tensor x (n elements, shape) using the clip ranges
 * lo/hi (integer kinds; per parameter set of qs_scheme_layout). NF4/FP4 compute the block
 * absmax (and double quantization); float casts need nothing. */
int qs_qstate_init(qs_qstate *q, const qs_scheme *sc, const qs_tensor *x, const float *lo,
                   const float *hi, qs_err *err);
/* Frees everything q owns and zeroes it (safe to call twice). */
void qs_qstate_fini(qs_qstate *q);
/* Applies the state to x: y (may be NULL) receives the dequantized values, codes (may be
 * NULL) the codes as integers (int kinds: the code; NF4/FP4: the stored 4-bit code;
 * fp16/bf16: the 16-bit pattern; fp8: the 8-bit pattern), r (may be NULL) the statistics
 * and, when r->eh_bins > 0 on entry, the error histogram (allocated here; free with
 * qs_qresult_fini). */
int qs_quant_apply(const qs_qstate *q, const qs_tensor *x, float *y, int32_t *codes,
                   qs_qresult *r, qs_err *err);
/* Frees the error histogram of r (safe to call twice). */
void qs_qresult_fini(qs_qresult *r);

/* Finite min and max of x (NaN and ±Inf left out); when there is none: 0, 0 and *nfinite 0.
 * Counts of infinities and NaN go to *ninf / *nnan (may be NULL). Uses qs_k()->minmax. */
void qs_finite_minmax(const float *x, int64_t n, float *mn, float *mx, int64_t *nfinite,
                      int64_t *ninf, int64_t *nnan);

/* Gathers the elements of each parameter set into one buffer, set after set, each set in
 * element order: set p is (*buf)[(*off)[p] .. (*off)[p+1]). The caller frees both. */
int qs_layout_gather(const float *x, const qs_layout *l, float **buf, int64_t **off,
                     qs_err *err);

/* Bits per parameter of a scheme including its per-set constants, for a tensor of n
 * elements with nparams sets (int: 32-bit scale + zp per set amortised; NF4: 4 + 32/block;
 * NF4+dq: 4 + 8/block + 32/(block·256); ggml: bytes per block · 8 / block, and for the ggml.c
 * formats with n, nparams > 0 the padded cost bytes · 8 · nblocks / n). */
double qs_scheme_bits_per_param(const qs_scheme *s, int64_t n, int64_t nparams);

#endif
