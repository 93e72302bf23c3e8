/* quant_zemu_avx2.c — test-only (qs_k_emulated(3), (4)): quant_avx512.c compiled over
 * zemu.h's scalar emulation of the AVX-512 intrinsics, with the tables "avx512-zemu" and
 * "vnni-zemu" (every AVX-512 source of those tiers in its emulated instance), so an
 * AVX2-only machine runs the avx512 / vnni tiers' own code against `_ref`. */
#include "zemu.h"
#define QK_ZEMU 1
/* the rounding variant and divide flag at run time (the same code as the eight constant
 * instances of the real build; one instance keeps this file's compile time down) */
#define QK_VARIANT(qp, FN, ...) FN(__VA_ARGS__, round_variant(qp), (qp)->divide ? 1 : 0)
#include "quant_avx512.c"
