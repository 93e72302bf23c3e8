/* mx.h — block-scaled "microscaling" formats (issue 17): the OCP Microscaling Formats (MX)
 * v1.0 concrete formats MXFP8 (E4M3, E5M2), MXFP6 (E3M2, E2M3), MXFP4 (E2M1) and MXINT8 —
 * blocks of 32 elements sharing one E8M0 scale, a power of two — and NVIDIA's NVFP4 — E2M1
 * elements in blocks of 16 sharing an FP8 E4M3 scale, plus one FP32 scale per tensor.
 *
 * MX (spec section 6.3, as the microxcaling reference implements it):
 *   amax        = max_i |V_i| over the block
 *   shared_exp  = floor(log2(amax)) - emax_elem     (emax_elem: the element format's largest
 *                 exponent: E4M3 8, E5M2 15, E3M2 4, E2M3 2, E2M1 2, INT8 0)
 *                 clamped below at -127 (amax = 0 gives -127, E8M0 0x00)
 *   X           = 2^shared_exp, stored as E8M0 (shared_exp + 127)
 *   P_i         = V_i / X rounded to the element format, round to nearest even, values beyond
 *                 the largest normal clamped to it (saturation); MXINT8 elements are two's
 *                 complement with an implicit 2^-6 (1.984375 max), clamped to ±127 codes
 *   decode      = P_i · X
 *   A block holding NaN or ±Inf gets the NaN scale (E8M0 0xFF) and decodes to NaN throughout
 *   (spec 5.3: when the scale is NaN every element of the block is NaN).
 * NVFP4 (NVIDIA's recipe: TensorRT-LLM / vLLM cvt_fp16_to_fp4, Transformer Engine):
 *   ts          = tensor amax / (448 · 6)                  the FP32 per-tensor scale
 *   s_b         = E4M3(block amax / 6 / ts)               the block's stored scale (RNE, sat.)
 *   q_i         = E2M1(x_i / (s_b · ts))                  (RNE, saturating at ±6)
 *   decode      = q_i · (s_b · ts)
 *   all in float32; a block whose scale rounds to 0 stores zeros.
 * Blocks run along the last dimension (rows), as the formats are used on the reduction axis
 * of a [out, in] weight; a row's short last block is a block of fewer elements (no padding).
 * Cost: MX = element bits + 8/32 (MXFP4 4.25), NVFP4 = 4 + 8/16 = 4.5, + 32 bits per tensor. */
#ifndef QSCOPE_MX_H
#define QSCOPE_MX_H

#include <stdint.h>

#include "qscope/err.h"
#include "qscope/tensor.h"

typedef enum qs_mx_id {
    QS_MX_FP8_E4M3 = 0, /* mxfp8_e4m3 */
    QS_MX_FP8_E5M2,     /* mxfp8_e5m2 */
    QS_MX_FP6_E3M2,     /* mxfp6_e3m2 */
    QS_MX_FP6_E2M3,     /* mxfp6_e2m3 */
    QS_MX_FP4_E2M1,     /* mxfp4 */
    QS_MX_INT8,         /* mxint8 */
    QS_MX_NVFP4,        /* nvfp4 */
    QS_MX_COUNT
} qs_mx_id;

/* One row of the format table. */
typedef struct qs_mx_type {
    int id;                 /* qs_mx_id */
    const char *name;       /* scheme word: "mxfp4" */
    const char *title;      /* one line */
    int block;              /* elements per block: 32 (NVFP4 16) */
    int elem_fmt;           /* qs_fmt_id of the element format, -1 for MXINT8's int8 */
    const char *elem_name;  /* "fp4-e2m1", "int8" */
    int elem_bits;          /* bits per element */
    int emax_elem;          /* largest exponent of the element format (MX rule) */
    double elem_max;        /* largest element magnitude (MXINT8 127/64) */
    int scale_fmt;          /* qs_fmt_id of the block scale: E8M0 (MX), E4M3 (NVFP4) */
    int tensor_scale;       /* 1: one FP32 scale per tensor as well (NVFP4) */
} qs_mx_type;

/* The table row of id, or NULL. */
const qs_mx_type *qs_mx_type_info(int id);
/* Looks a scheme word up ("mxfp4", "nvfp4", ...); -1 when unknown. */
int qs_mx_find(const char *name);
/* Bits per weight: element bits + scale bits / block (+ 32 / n for NVFP4's tensor scale when
 * n > 0); with n > 0 and nblocks > 0 the scales of the tensor's real blocks are counted (a
 * row's short last block still pays for a whole scale). */
double qs_mx_bits_per_weight(int id, int64_t n, int64_t nblocks);

/* The element code of v (already divided by the block scale): round to nearest even with
 * saturation at ±elem_max; *sat (may be NULL) is set to 1 when v lay beyond the range. */
uint32_t qs_mx_elem_encode(const qs_mx_type *t, double v, int *sat);
/* The value of an element code (MXINT8: code · 2^-6). */
double qs_mx_elem_decode(const qs_mx_type *t, uint32_t code);

/* Blocks of tensor t (rows of the last dimension, ceil(row / block) each). */
int64_t qs_mx_tensor_nblocks(int id, const qs_tensor *t);
/* The block holding flat element e. */
int64_t qs_mx_block_of(int id, const qs_tensor *t, int64_t e);

/* One block quantized and taken apart (what `derive` shows). */
typedef struct qs_mx_block {
    int64_t index;          /* block index */
    int64_t start;          /* flat index of its first element */
    int m;                  /* elements in it (block, or fewer at a row's end) */
    float x[32];            /* its values */
    double amax;            /* largest |x| (Inf / NaN when the block holds one) */
    int special;            /* 1: the block holds NaN or ±Inf (MX: NaN scale) */
    int shared_exp;         /* MX: floor(log2 amax) - emax_elem, clamped (NaN scale: 128) */
    int shared_exp_raw;     /* MX: before clamping */
    uint32_t scale_code;    /* the stored scale: E8M0 (MX) or E4M3 (NVFP4) pattern */
    double scale_value;     /* the stored scale's value (MX 2^e; NVFP4 s_b) */
    float step;             /* what an element is multiplied by: X (MX), s_b · ts (NVFP4) */
    float tensor_amax;      /* NVFP4: the tensor's finite amax */
    float tensor_scale;     /* NVFP4: ts = amax / (448·6) (float32) */
    float scale_in;         /* NVFP4: block amax / 6 / ts before the E4M3 rounding */
    uint32_t codes[32];     /* element codes (format patterns; MXINT8 two's complement) */
    float y[32];            /* decoded values */
    int clipped;            /* elements saturated at ±elem_max */
} qs_mx_block;

/* Quantizes block bi of t (NVFP4 uses the whole tensor's amax) into *b. QS_ERR past the end. */
int qs_mx_tensor_block(int id, const qs_tensor *t, int64_t bi, qs_mx_block *b, qs_err *err);
/* Quantizes all of t: y (may be NULL) the decoded values, codes (may be NULL) the element
 * codes, scales (may be NULL; nblocks entries) each block's step (X or s_b·ts), scale_codes
 * (may be NULL) each stored scale pattern, clipped (may be NULL) the saturated count,
 * tensor_scale (may be NULL) NVFP4's ts (else 1). */
int qs_mx_tensor_codes(int id, const qs_tensor *t, float *y, int32_t *codes, float *scales,
                       uint32_t *scale_codes, int64_t *clipped, float *tensor_scale,
                       qs_err *err);

/* NaN and ±Inf inputs of t under MX format id, and what the format does with them. */
typedef struct qs_mx_specials {
    int64_t nan;            /* NaN inputs */
    int64_t inf;            /* ±Inf inputs */
    int64_t blocks;         /* MX (E8M0 scale): blocks holding NaN or ±Inf (scale 0xFF) */
    int64_t finite_nan;     /* MX: finite values in those blocks (they decode to NaN) */
} qs_mx_specials;
void qs_mx_tensor_specials(int id, const qs_tensor *t, qs_mx_specials *sp);
/* One sentence (no final period) on what format id did with sp's NaN / ±Inf: MX gives their
 * blocks the NaN scale, NVFP4 stores NaN as code 0 and saturates ±Inf. Returns 0 (buf "")
 * when there are none. */
int qs_mx_specials_text(int id, const qs_mx_specials *sp, char *buf, size_t len);

/* The derivation trace of one block (derive.c dispatches QS_Q_MX schemes here): block amax,
 * shared exponent / block scale, each element's code, then one element (o->index, or a typed
 * value o->value under block o->set) through divide, round, decode and error. */
struct qs_scheme;
struct qs_derive_opts;
struct qs_trace;
int qs_mx_derive(const qs_tensor *t, const struct qs_scheme *sc,
                 const struct qs_derive_opts *o, struct qs_trace *tr, qs_err *err);

#endif
