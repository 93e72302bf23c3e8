/* kernels.h — the compute kernels every part of qscope runs on: reductions, histograms,
 * quantize / dequantize, the fused fake-quant + error statistics pass, float conversions,
 * 4-bit codebooks and GEMM. Each kernel has a plain scalar `_ref` version that defines its
 * meaning (src/kernels/ref.c) and, on x86-64, optimized versions per tier: AVX2/FMA/F16C
 * (src/kernels, files ending in _avx2.c), AVX-512 F/BW/VL (_avx512.c), VNNI (_vnni.c,
 * _avxvnni.c) and AMX (_amx.c: the int8 GEMM on tiles).
 * One dispatch table, chosen once by qs_kernels_init() from CPUID and XCR0, is the only
 * global state of the library; QSCOPE_KERNELS names a tier (ref: the plain path).
 *
 * Large inputs are split into fixed chunks processed by all cores; reductions combine the
 * chunks' partial results in a fixed order, so results do not depend on the thread count.
 * Codes and integer results are bit-identical between `_ref` and optimized versions; float
 * sums agree within QS_K_SUM_RTOL (relative). */
#ifndef QSCOPE_KERNELS_H
#define QSCOPE_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "qscope/scheme.h"

/* Relative tolerance of float sums, ref vs optimized: |a - b| <= QS_K_SUM_RTOL · the sum of
 * the terms' magnitudes (for Σe: sqrt(n·Σe²); for Σxy: max(Σx², Σy²)). The optimized fused
 * pass sums 8 terms per float lane with fma before adding into double, so it is within 10u
 * = 6e-7 (u = 2^-24) of the double sums. That keeps every displayed metric exact to the
 * digits shown: MSE / RMSE / cosine with 6 significant digits move by at most about one unit
 * in the 7th, SQNR = 10·log10(Σx² / Σe²) by at most 10/ln 10 · 1.2e-6 < 1e-5 dB (shown to
 * 0.0001 dB). Counts, codes, the maximum |e| and histograms are exact. */
#define QS_K_SUM_RTOL 1e-6

/* How per-parameter (scale / zero point) sets map onto elements. The tensor is viewed as
 * [outer, len, inner] around the quantization axis:
 *   QS_G_TENSOR  : one parameter set (index 0)
 *   QS_G_CHANNEL : index a (position along the axis), `len` sets
 *   QS_G_GROUP   : index (o * ceil(len/group) + a/group) * inner + i
 * For element e: o = e / (len*inner), a = (e / inner) % len, i = e % inner. */
typedef struct qs_layout {
    qs_gran gran;       /* granularity */
    int64_t outer;      /* product of dims before the axis */
    int64_t len;        /* size of the axis */
    int64_t inner;      /* product of dims after the axis */
    int64_t group;      /* group size along the axis (QS_G_GROUP) */
} qs_layout;

/* Builds a layout for a tensor shape and scheme (axis may be negative). Per-tensor when
 * ndim == 0. Returns 0, or -1 when the axis is out of range or group < 1. */
int qs_layout_make(int ndim, const int64_t *shape, qs_gran gran, int axis, int64_t group,
                   qs_layout *out);
/* Number of parameter sets the layout has. */
int64_t qs_layout_nparams(const qs_layout *l);
/* Parameter index of element e. */
int64_t qs_layout_index(const qs_layout *l, int64_t e);
/* Total element count outer*len*inner. */
int64_t qs_layout_numel(const qs_layout *l);

/* Integer quantization parameters, one entry per parameter set. */
typedef struct qs_qp {
    const float *scale;     /* step sizes (> 0) */
    const float *inv;       /* multipliers used when !divide: 1.0f/scale (torch) or
                               127/amax (trt); may equal NULL when divide is set */
    const int32_t *zp;      /* zero points */
    int qmin, qmax;         /* clamp range of the codes, e.g. -128..127 */
    int divide;             /* 1: v = x / scale (ONNX); 0: v = x * inv (PyTorch, FBGEMM) */
    qs_round round;         /* rounding of v */
    uint64_t seed;          /* stochastic rounding: element e uses a counter-based random
                               number from (seed, e), so results are thread-independent */
} qs_qp;

/* Error statistics accumulated by the fused pass (x = original, y = dequantized,
 * e = y - x). NaN inputs are skipped and counted in n_nan. */
typedef struct qs_errstats {
    int64_t n;              /* elements counted */
    int64_t n_nan;          /* NaN inputs skipped */
    int64_t clipped;        /* elements whose unclamped code fell outside [qmin, qmax] */
    double sum_x2;          /* Σx² */
    double sum_y2;          /* Σy² */
    double sum_xy;          /* Σxy */
    double sum_e;           /* Σe  (bias) */
    double sum_e2;          /* Σe² */
    double max_abs_e;       /* max |e| */
} qs_errstats;

/* A histogram: `bins` equal bins over [lo, hi); values below lo / at or above hi go to
 * under / over (hi itself falls into the last bin); NaN counted in nan. */
typedef struct qs_hist {
    int bins;               /* number of bins */
    double lo, hi;          /* range */
    uint64_t *counts;       /* bins counts (caller-allocated) */
    uint64_t under, over;   /* out-of-range counts */
    uint64_t nan;           /* NaN count */
} qs_hist;

/* The dispatch table. All pointers are always set. */
typedef struct qs_kernels {
    const char *name;   /* "ref", "avx2", "avx512", "vnni" (512-bit), "vnni256" (AVX-VNNI),
                           "amx" */

    /* min and max over x ignoring NaN (±Inf count); when all NaN or n == 0: *mn = +inf,
     * *mx = -inf. */
    void (*minmax)(const float *x, int64_t n, float *mn, float *mx);
    /* per-parameter-set min / max (arrays of qs_layout_nparams entries) */
    void (*minmax_layout)(const float *x, const qs_layout *l, float *mn, float *mx);
    /* adds counts of x into h (does not clear h first) */
    void (*hist)(const float *x, int64_t n, qs_hist *h);
    /* codes[e] = clamp(zp + round(v), qmin, qmax) as int8 (qmin < 0) or uint8 bytes. NaN
     * maps to zp. */
    void (*quantize)(const float *x, const qs_layout *l, const qs_qp *qp, uint8_t *codes);
    /* y[e] = (code - zp) * scale (code read as int8 when qp->qmin < 0) */
    void (*dequantize)(const uint8_t *codes, const qs_layout *l, const qs_qp *qp, float *y);
    /* Fused: quantize, dequantize, error statistics and (when eh != NULL) the histogram of
     * e = y - x. Writes y when y != NULL and codes when codes != NULL. st is cleared first. */
    void (*fakequant)(const float *x, const qs_layout *l, const qs_qp *qp, float *y,
                      uint8_t *codes, qs_errstats *st, qs_hist *eh);
    /* error statistics of an already-computed approximation y of x (float formats,
     * codebooks); same meaning as in fakequant, clipped left 0 */
    void (*errstats)(const float *x, const float *y, int64_t n, qs_errstats *st,
                     qs_hist *eh);

    /* IEEE binary16 / bfloat16 conversions, round to nearest even, NaN kept (quiet) */
    void (*f32_to_f16)(const float *x, int64_t n, uint16_t *h);
    void (*f16_to_f32)(const uint16_t *h, int64_t n, float *x);
    void (*f32_to_bf16)(const float *x, int64_t n, uint16_t *b);
    void (*bf16_to_f32)(const uint16_t *b, int64_t n, float *x);

    /* 4-bit codebook blockwise encode: absmax[b] = max |x| of block b (block elements),
     * codes: nearest entry of `table` (16 sorted values in [-1,1]) to x/absmax, exact
     * midpoints to the lower code (bitsandbytes); packed two per byte, even element in the
     * high nibble; n need not be a multiple of block (last block short; odd n pads a zero
     * nibble). */
    void (*cb4_encode)(const float *x, int64_t n, int block, const float *table,
                       uint8_t *packed, float *absmax);
    void (*cb4_decode)(const uint8_t *packed, const float *absmax, int64_t n, int block,
                       const float *table, float *y);

    /* C[M,N] (ldc) = A[M,K] (lda, uint8, row-major) · B (int8) → int32, where B is given
     * transposed as Bt[N,K] (ldb) — a weight matrix [out, in]. Exact integer arithmetic
     * (no saturation: see src/kernels/README.md). a_zp/b_zp: zero points subtracted from A
     * and B (B's usually 0). */
    void (*gemm_u8s8)(int64_t M, int64_t N, int64_t K, const uint8_t *A, int64_t lda,
                      int32_t a_zp, const int8_t *Bt, int64_t ldb, int32_t b_zp, int32_t *C,
                      int64_t ldc);
    /* C = alpha·op(A)·op(B) + beta·C, float32, row-major; op(X) = X or Xᵀ (ta / tb). */
    void (*sgemm)(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha,
                  const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                  float *C, int64_t ldc);
} qs_kernels;

/* Fills the dispatch table once (CPUID, QSCOPE_KERNELS). Safe to call many times. */
void qs_kernels_init(void);
/* The active table (calls qs_kernels_init() when needed). */
const qs_kernels *qs_k(void);
/* The plain reference table, and the AVX2 one (NULL when the CPU lacks AVX2/FMA/F16C
 * or the build is not x86-64) — tests compare every tier in one run (qs_k_tier). */
const qs_kernels *qs_k_ref(void);
const qs_kernels *qs_k_avx2(void);
/* Forces a table (tests, bench); NULL restores the CPUID choice. */
void qs_k_force(const qs_kernels *k);

/* ---- tiers (src/kernels/dispatch.c) ------------------------------------------------------
 * ref: plain C. avx2: AVX2 + FMA + F16C (YMM state enabled in XCR0). avx512: avx2 plus
 * AVX-512 F/BW/VL with the opmask/ZMM state enabled (XCR0 bits 1,2,5,6,7). vnni: int8 GEMM
 * with vpdpbusd — AVX512-VNNI on 512-bit registers over the avx512 tier, or, where only that
 * exists, AVX-VNNI on 256-bit registers over the avx2 tier. amx: the 512-bit vnni tier with
 * the int8 GEMM on AMX tiles (tdpbusd): AMX-TILE and AMX-INT8, the tile state enabled in
 * XCR0 (bits 17, 18) and Linux's permission to use it (arch_prctl ARCH_REQ_XCOMP_PERM).
 * The best tier the CPU has is used unless QSCOPE_KERNELS names one (a tier the CPU lacks is
 * refused: qs_kernels_check). */
typedef enum qs_tier { QS_TIER_REF, QS_TIER_AVX2, QS_TIER_AVX512, QS_TIER_VNNI, QS_TIER_AMX,
                       QS_TIER_N } qs_tier;

/* The CPUID / XCR0 words the choice reads (leaf 1 ECX, leaf 7.0 EBX/ECX/EDX, leaf 7.1 EAX,
 * XCR0 low word) and the extended states the OS lets this process use (xperm: Linux's
 * arch_prctl ARCH_GET_XCOMP_PERM, low word; bit 18 XTILEDATA once AMX is permitted; 0 off
 * Linux). A pure input, so the selection is testable with synthetic bit sets. */
typedef struct qs_cpu_bits {
    uint32_t l1_ecx, l7_ebx, l7_ecx, l7_edx, l71_eax;
    uint32_t xcr0;
    uint32_t xperm;
} qs_cpu_bits;

/* Reads this CPU's bits (all zero off x86). Where the CPU and XCR0 have the AMX tile state
 * and the process is not yet permitted to use it, asks Linux for it first
 * (ARCH_REQ_XCOMP_PERM, process-wide, once: later reads find it granted). */
void qs_cpu_bits_read(qs_cpu_bits *c);
/* Bit set of the tiers c supports (bit t = tier t; ref always). *vnni256 (may be NULL) is set
 * to 1 when the vnni tier is the 256-bit AVX-VNNI one. Pure. */
unsigned qs_k_tiers_of(const qs_cpu_bits *c, int *vnni256);
/* Tier name ("ref", "avx2", "avx512", "vnni", "amx"), and the tier of a name (-1 if unknown). */
const char *qs_k_tier_name(qs_tier t);
int qs_k_tier_parse(const char *name);
/* The tier to use given the supported set and QSCOPE_KERNELS (env may be NULL or empty: the
 * best). Returns the tier, or -1 with a one-line message in err when env names an unknown
 * tier or one not in `supported`. Pure. */
int qs_k_tier_choose(unsigned supported, const char *env, char *err, size_t errlen);
/* 0, or -1 with the message when QSCOPE_KERNELS cannot be honoured on this CPU (the program
 * then exits 2; the library itself falls back to the best tier). */
int qs_kernels_check(char *err, size_t errlen);
/* The table of a tier on this CPU (NULL when the CPU or the build lacks it), and the tier in
 * use. */
const qs_kernels *qs_k_tier(qs_tier t);
qs_tier qs_k_active_tier(void);
/* Test-only tables: the generic 512-bit / 256-bit GEMM code of the avx512 and vnni tiers
 * instantiated with AVX2 emulations of the wide vectors and of vpdpbusd (NULL off x86 or
 * without AVX2), so the packing, blocking, tails and zero-point algebra of the kernels this
 * machine cannot execute are run here. i = 0: avx512 sgemm (2x8 lanes for 16), 1: vnni
 * 512-bit int8, 2: vnni 256-bit int8; other entries are the avx2 ones. i = 3 ("avx512-zemu")
 * and 4 ("vnni-zemu"): the whole avx512 / vnni tables, their own AVX-512 sources compiled
 * over a scalar emulation of the intrinsics (src/kernels/zemu.h; slow); 5 ("amx-zemu"): the
 * vnni-zemu table with the amx tier's int8 GEMM, gemm_amx.c over zemu.h and a scalar
 * emulation of the tile instructions (src/kernels/amxemu.h). */
const qs_kernels *qs_k_emulated(int i);
/* Test-only: the vnni256 table (AVX-VNNI int8 GEMM on ymm) whenever this CPU has AVX2 and
 * AVX-VNNI, also where AVX-512 VNNI makes the vnni tier the 512-bit one (Sapphire Rapids
 * has both), so its kernel runs natively against _ref there; NULL otherwise. */
const qs_kernels *qs_k_vnni256_native(void);

/* One element through the `_ref` quantize rule (src/kernels/kint.h qk_quant1, the rule every
 * tier reproduces), with its intermediate numbers: what `derive` shows (src/quant/one.c). */
typedef struct qs_k_quant1_parts {
    float v;                /* x / scale (qp->divide) or x · inv */
    float u;                /* stochastic rounding's uniform number of element e (else 0) */
    float r;                /* v rounded by qp->round (before the zero point and the clamp) */
    int32_t q;              /* the code: r + zp clamped to [qmin, qmax]; NaN gives zp */
    int clipped;            /* 1 when r + zp lay outside [qmin, qmax] */
} qs_k_quant1_parts;
/* The code of x under (scale, inv, zp) and the rounding of qp as element e (its stochastic
 * number); parts (may be NULL) receives the intermediate numbers. */
int32_t qs_k_quant1_ref(float x, float scale, float inv, int32_t zp, const qs_qp *qp,
                        uint64_t e, qs_k_quant1_parts *parts);

/* Requantization: a real multiplier 0 < m < 1 as m = M0 · 2^-shift with M0 a Q31 int32 (as
 * TFLite's QuantizeMultiplier writes it). qs_requant then rounds acc · M0 once, half away from
 * zero; gemmlowp's MultiplyByQuantizedMultiplier rounds twice and differs by one in a few
 * percent of cases (`derive requant` shows both). */
void qs_requant_multiplier(double m, int32_t *m0, int *shift);
/* How qs_requant_multiplier wrote m (what `derive requant` shows): m = frac · 2^exp with frac
 * in [0.5, 1), rounded = round(frac · 2^31); when that reaches 2^31 (frac within 2^-32 of 1)
 * M0 = 2^30 and the exponent grows by one (renorm = 1). */
typedef struct qs_requant_parts {
    double frac;            /* m's mantissa in [0.5, 1) */
    int exp;                /* m's exponent: m = frac · 2^exp */
    int64_t rounded;        /* round(frac · 2^31), before renormalising */
    int renorm;             /* 1 when rounded was 2^31: M0 = 2^30, exponent exp + 1 */
} qs_requant_parts;
/* qs_requant_multiplier that also hands back its parts (parts may be NULL). */
void qs_requant_multiplier_parts(double m, int32_t *m0, int *shift, qs_requant_parts *parts);
/* round(acc · M0 · 2^-(31+shift)) with rounding half away from zero, then + zp and clamp. */
int32_t qs_requant(int32_t acc, int32_t m0, int shift, int32_t zp, int32_t qmin, int32_t qmax);
/* Applies the epilogue to a row-major int32 matrix: out[i,j] = requant(C[i,j] + bias[j])
 * with column j's multiplier m0[j], shift[j] (per-channel weights give one per column; bias
 * may be NULL). out is uint8 [M,N] row-major. */
void qs_requant_rows(const int32_t *C, int64_t M, int64_t N, int64_t ldc, const int32_t *bias,
                     const int32_t *m0, const int *shift, int32_t zp, int32_t qmin,
                     int32_t qmax, uint8_t *out);

/* Thread count used by kernels (all cores; QSCOPE_THREADS overrides). */
int qs_k_threads(void);

#endif
