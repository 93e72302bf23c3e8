/* gemm_zemu_avx2.c — test-only: gemm_avx512.c (fp32, 12x32 zmm tile) over zemu.h (see
 * quant_zemu_avx2.c) */
#include "zemu.h"
#define QK_ZEMU 1      /* vgemm.h's C micro-kernel in place of the asm one */
#define qk_sgemm_avx512 qk_sgemm_zemu
#include "gemm_avx512.c"
