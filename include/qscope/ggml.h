/* ggml.h — llama.cpp's ggml block formats (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K..Q6_K): the
 * block structs with their sizes checked at compile time, the type table (ids, block sizes,
 * bytes), dequantization of every listed type and quantization with ggml's reference rules
 * (quantize_row_*_ref in ggml/src/ggml-quants.c): Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q6_K.
 *
 * Rounding is each format's own, exactly as ggml writes it:
 *   Q8_0          d = amax/127, q = roundf(x·(1/d)) (ties away from zero)
 *   Q4_0 / Q5_0   d = m/-8 (-16) with m the largest |x| keeping its sign,
 *                 q = min(15 (31), (int8)(x·(1/d) + 8.5 (16.5))) (truncation)
 *   Q4_1 / Q5_1   d = (max-min)/15 (31), q = (int8)((x-min)·(1/d) + 0.5)
 *   Q4_K / Q6_K   super-blocks of 256, sub-block scales fitted by ggml's make_qkx2_quants /
 *                 make_qx_quants, quantized to 6 / 8 bits; nearest_int (ties to even)
 * Hostile values: NaN inputs quantize as 0 and ±Inf as ±FLT_MAX (ggml asserts instead), so
 * nothing here converts an out-of-range float to an integer.
 *
 * Hooks for the quantization engine (issue 9): qs_ggml_fakequant() quantizes and dequantizes
 * any float array with a type, qs_ggml_type_by_name() maps scheme words ("q4_k") to ids, and
 * qs_ggml_bits_per_weight() gives the cost for `compare` rows. */
#ifndef QSCOPE_GGML_H
#define QSCOPE_GGML_H

#include <stddef.h>
#include <stdint.h>

#include "qscope/err.h"
#include "qscope/tensor.h"

struct qs_errstats;     /* kernels.h */

/* ggml type ids (ggml.h enum ggml_type) that qscope knows by name. */
enum {
    QS_GGML_F32 = 0, QS_GGML_F16 = 1, QS_GGML_Q4_0 = 2, QS_GGML_Q4_1 = 3, QS_GGML_Q5_0 = 6,
    QS_GGML_Q5_1 = 7, QS_GGML_Q8_0 = 8, QS_GGML_Q8_1 = 9, QS_GGML_Q2_K = 10,
    QS_GGML_Q3_K = 11, QS_GGML_Q4_K = 12, QS_GGML_Q5_K = 13, QS_GGML_Q6_K = 14,
    QS_GGML_Q8_K = 15, QS_GGML_I8 = 24, QS_GGML_I16 = 25, QS_GGML_I32 = 26,
    QS_GGML_I64 = 27, QS_GGML_F64 = 28, QS_GGML_BF16 = 30
};

#define QS_QK 32        /* elements per block of the _0 / _1 formats */
#define QS_QK_K 256     /* elements per K-quant super-block */
#define QS_K_SCALE_SIZE 12 /* packed 6-bit scales + mins of Q4_K / Q5_K */

/* Block layouts, byte for byte as ggml-common.h (fp16 fields as raw uint16_t bits). */
typedef struct qs_block_q4_0 {
    uint16_t d;                 /* fp16 scale */
    uint8_t qs[QS_QK / 2];      /* nibbles: element j low, j+16 high */
} qs_block_q4_0;
typedef struct qs_block_q4_1 {
    uint16_t d;                 /* fp16 scale */
    uint16_t m;                 /* fp16 minimum */
    uint8_t qs[QS_QK / 2];      /* nibbles as Q4_0 */
} qs_block_q4_1;
typedef struct qs_block_q5_0 {
    uint16_t d;                 /* fp16 scale */
    uint8_t qh[4];              /* 5th bits of the 32 codes (a little-endian uint32) */
    uint8_t qs[QS_QK / 2];      /* low nibbles as Q4_0 */
} qs_block_q5_0;
typedef struct qs_block_q5_1 {
    uint16_t d;                 /* fp16 scale */
    uint16_t m;                 /* fp16 minimum */
    uint8_t qh[4];              /* 5th bits */
    uint8_t qs[QS_QK / 2];      /* low nibbles */
} qs_block_q5_1;
typedef struct qs_block_q8_0 {
    uint16_t d;                 /* fp16 scale */
    int8_t qs[QS_QK];           /* codes */
} qs_block_q8_0;
typedef struct qs_block_q2_K {
    uint8_t scales[QS_QK_K / 16]; /* 4-bit scale (low) and min (high) per 16 elements */
    uint8_t qs[QS_QK_K / 4];    /* 2-bit codes */
    uint16_t d;                 /* fp16 super-block scale of the scales */
    uint16_t dmin;              /* fp16 super-block scale of the mins */
} qs_block_q2_K;
typedef struct qs_block_q3_K {
    uint8_t hmask[QS_QK_K / 8]; /* high bit of each 3-bit code */
    uint8_t qs[QS_QK_K / 4];    /* low 2 bits */
    uint8_t scales[12];         /* 16 scales of 6 bits, packed */
    uint16_t d;                 /* fp16 super-block scale */
} qs_block_q3_K;
typedef struct qs_block_q4_K {
    uint16_t d;                 /* fp16 super-block scale of the scales */
    uint16_t dmin;              /* fp16 super-block scale of the mins */
    uint8_t scales[QS_K_SCALE_SIZE]; /* 8 scales and 8 mins of 6 bits, packed */
    uint8_t qs[QS_QK_K / 2];    /* 4-bit codes */
} qs_block_q4_K;
typedef struct qs_block_q5_K {
    uint16_t d;                 /* fp16 super-block scale of the scales */
    uint16_t dmin;              /* fp16 super-block scale of the mins */
    uint8_t scales[QS_K_SCALE_SIZE]; /* as Q4_K */
    uint8_t qh[QS_QK_K / 8];    /* 5th bits */
    uint8_t qs[QS_QK_K / 2];    /* low nibbles */
} qs_block_q5_K;
typedef struct qs_block_q6_K {
    uint8_t ql[QS_QK_K / 2];    /* low 4 bits */
    uint8_t qh[QS_QK_K / 4];    /* high 2 bits */
    int8_t scales[QS_QK_K / 16]; /* 8-bit sub-block scales */
    uint16_t d;                 /* fp16 super-block scale */
} qs_block_q6_K;

_Static_assert(sizeof(qs_block_q4_0) == 18, "Q4_0 block is 18 bytes");
_Static_assert(sizeof(qs_block_q4_1) == 20, "Q4_1 block is 20 bytes");
_Static_assert(sizeof(qs_block_q5_0) == 22, "Q5_0 block is 22 bytes");
_Static_assert(sizeof(qs_block_q5_1) == 24, "Q5_1 block is 24 bytes");
_Static_assert(sizeof(qs_block_q8_0) == 34, "Q8_0 block is 34 bytes");
_Static_assert(sizeof(qs_block_q2_K) == 84, "Q2_K block is 84 bytes");
_Static_assert(sizeof(qs_block_q3_K) == 110, "Q3_K block is 110 bytes");
_Static_assert(sizeof(qs_block_q4_K) == 144, "Q4_K block is 144 bytes");
_Static_assert(sizeof(qs_block_q5_K) == 176, "Q5_K block is 176 bytes");
_Static_assert(sizeof(qs_block_q6_K) == 210, "Q6_K block is 210 bytes");

/* One row of the type table. */
typedef struct qs_ggml_type {
    int id;                     /* ggml type id */
    const char *name;           /* "Q4_K" (GGUF / llama.cpp spelling) */
    int block;                  /* elements per block (1 for plain types) */
    int bytes;                  /* bytes per block (element size for plain types) */
    qs_dtype dtype;             /* the qs_dtype it loads as, or QS_DT_COUNT if unsupported */
    int can_quantize;           /* 1 when qs_ggml_quantize supports it */
} qs_ggml_type;

/* The table row of ggml type id, or NULL when the id is unknown. Unsupported but known ids
 * (IQ2_XXS, Q8_K, ...) have rows with dtype QS_DT_COUNT. */
const qs_ggml_type *qs_ggml_type_info(int id);
/* Looks a type up by name, case-insensitively ("q4_k", "Q8_0"); -1 when unknown. */
int qs_ggml_type_by_name(const char *name);
/* The ggml type id of a block qs_dtype (QS_DT_Q4_K -> 12), or -1. */
int qs_ggml_type_of_dtype(qs_dtype dt);
/* Bits per weight of a block type, including its scales: 8·bytes/block (Q4_K: 4.5). */
double qs_ggml_bits_per_weight(int id);

/* The byte layout of one block of type id as text, parts in storage order, e.g. Q4_0:
 * "2 (d, fp16) + 16 (32 codes of 4 bits) = 18 bytes"; NULL for a type without a listed
 * layout (the IQ types, F32...). The parts add up to the type's bytes (tested). */
const char *qs_ggml_layout(int id, char *buf, size_t n);
/* Bytes needed for n elements of type id; 0 + err when n is not a whole number of blocks. */
int qs_ggml_row_bytes(int id, int64_t n, uint64_t *bytes, qs_err *err);

/* The values as qscope's ggml quantizers read them: out[i] = x[i] with NaN -> 0 and ±Inf ->
 * ±FLT_MAX (x and out may be the same array). The one rule of ggml.c, qparams.c (Q8_0 / Q4_0
 * parameters) and derive. */
void qs_ggml_sanitize(const float *x, int n, float *out);

/* fp16 <-> fp32 exactly as ggml's scalar GGML_FP32_TO_FP16 / GGML_FP16_TO_FP32 (round to
 * nearest even, NaN kept). */
uint16_t qs_ggml_fp32_to_fp16(float f);
float qs_ggml_fp16_to_fp32(uint16_t h);

/* Dequantizes n elements (a multiple of the block size) of type id from src (any alignment,
 * exactly qs_ggml_row_bytes bytes) into y. Returns QS_ERR with a message for an unsupported
 * type or a partial block. */
int qs_ggml_dequantize(int id, const void *src, int64_t n, float *y, qs_err *err);
/* Quantizes n elements (a multiple of the block size) of x into dst (row_bytes bytes) with
 * ggml's reference rule for the type. QS_ERR for a type without a quantizer. */
int qs_ggml_quantize(int id, const float *x, int64_t n, void *dst, qs_err *err);
/* Quantize then dequantize into y (the engine's fake-quant hook). n need not be a multiple
 * of the block size: a short last block is padded with zeros and the padding dropped. */
int qs_ggml_fakequant(int id, const float *x, int64_t n, float *y, qs_err *err);

/* The engine's `compare` / `report` hook: fake-quantizes tensor t with type id row by row
 * (rows = the last dimension, as ggml lays blocks; a short last block per row is padded with
 * zeros) and fills st through qs_k()->errstats. y (may be NULL) receives the dequantized
 * values. Bits per weight: qs_ggml_bits_per_weight(id). */
int qs_ggml_tensor_errstats(int id, const qs_tensor *t, float *y, struct qs_errstats *st,
                            qs_err *err);

/* Everything one block shows on the Derive screen: constants, integer codes, dequantized
 * values. Sub-blocks: Q8_0 / Q4_0.. have one (scale d, min m); K-quants 8 or 16. */
typedef struct qs_ggml_block_view {
    int id;                     /* ggml type */
    int n;                      /* elements in the block (32 or 256) */
    float d;                    /* fp16 super-block scale (or the block scale) as float */
    float dmin;                 /* fp16 super scale of the mins / the _1 minimum; 0 if none */
    int nsub;                   /* sub-blocks (1 for the 32-element formats) */
    int sub_scale[16];          /* integer sub-block scales (K-quants) */
    int sub_min[16];            /* integer sub-block mins (Q2_K, Q4_K, Q5_K) */
    float sub_d[16];            /* effective step of each sub-block */
    float sub_m[16];            /* effective offset subtracted in each sub-block */
    int codes[QS_QK_K];         /* integer codes as stored (unsigned, before any -8/-32) */
    float y[QS_QK_K];           /* dequantized values */
    int nbytes;                 /* bytes of the block */
    uint8_t raw[210];           /* the block's bytes */
} qs_ggml_block_view;

/* Decodes one block of type id at src into v (all supported dequantizable types). */
int qs_ggml_block_decode(int id, const void *src, qs_ggml_block_view *v, qs_err *err);

/* ---- a tensor as ggml blocks (the engine's scheme q4_k etc., issue 9) ---------------------
 * Blocks run along the last dimension (rows), as ggml lays them out: each row holds
 * ceil(row / block) blocks and a row's short last block is padded with zeros (the padding is
 * dropped from every output). Block bi is block bi % nbr of row bi / nbr (nbr = blocks per
 * row). A 0-d tensor is one row of one element. */

/* Number of blocks of tensor t under type id (0 for an unknown type). */
int64_t qs_ggml_tensor_nblocks(int id, const qs_tensor *t);
/* The block index holding flat element e of t (e in 0..t->n-1). */
int64_t qs_ggml_block_of(int id, const qs_tensor *t, int64_t e);

/* One block of a tensor, quantized and taken apart (what `blocks` and `derive` show). */
typedef struct qs_ggml_tblock {
    int64_t index;              /* block index in the tensor */
    int64_t start;              /* flat index of its first element */
    int m;                      /* tensor elements in it (< block for a short last block) */
    float x[QS_QK_K];           /* its input values, zero padded */
    int clipped;                /* elements saturated: code at the end of its range and an
                                   error beyond half the sub-block's step (plus a 2^-8
                                   margin for the fp16 constants) */
    qs_ggml_block_view v;       /* the quantized block decoded */
    int overflow;               /* elements whose sub-block scale overflowed fp32 (Q6_K, see
                                   qs_ggml_tensor_overflow) */
} qs_ggml_tblock;

/* Quantizes block bi of t with type id (a type qscope quantizes) and decodes it into *b.
 * QS_ERR + err for a type without a quantizer or bi past the last block. */
int qs_ggml_tensor_block(int id, const qs_tensor *t, int64_t bi, qs_ggml_tblock *b,
                         qs_err *err);
/* Quantizes all of t block by block: y (may be NULL) receives the dequantized values, codes
 * (may be NULL) the integer codes as stored (unsigned, before any -8/-16/-32 offset; Q8_0:
 * the signed int8), d and dmin (may be NULL; qs_ggml_tensor_nblocks entries) each block's
 * fp16 scale and its minimum / scale of the mins (0 when the type has none), clipped (may be
 * NULL) the number of saturated elements (see qs_ggml_tblock). The values in y equal those
 * of qs_ggml_tensor_errstats. */
int qs_ggml_tensor_codes(int id, const qs_tensor *t, float *y, int32_t *codes, float *d,
                         float *dmin, int64_t *clipped, qs_err *err);
/* Elements of t (split into blocks as qs_ggml_tensor_codes does) that ggml's reference
 * quantizer cannot scale because its fp32 arithmetic overflows: Q6_K's least-squares
 * sub-block scale sums x^3 * code and x^2 * code^2 over 16 values, which pass FLT_MAX once
 * |x| nears 1e12 (cbrt(FLT_MAX / (16 * 32)) = 8.8e11). The scale is then inf or nan and the
 * sub-block is stored with scale 0 (its values dequantize to 0) or, when the block's d
 * becomes inf, as nan. 0 for the other types (their overflow is an inf d, counted as
 * non-finite output). */
int64_t qs_ggml_tensor_overflow(int id, const qs_tensor *t);

#endif
