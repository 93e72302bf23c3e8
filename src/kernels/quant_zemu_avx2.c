/* quant_zemu_avx2.c — test-only (qs_k_emulated(3), (4)): quant_avx512.c compiled over
 * zemu.h's scalar emulation of the AVX-512 intrinsics, with the tables "avx512-zemu" and
 * "vnni-zemu" (every AVX-512 source of those tiers in its emulated instance), so an
 * AVX2-only machine runs the avx512 / vnni tiers' own code against `_ref`. */
#include "zemu.h"
#define QK_ZEMU 1
#include "quant_avx512.c"
