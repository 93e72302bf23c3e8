/* gemmvnni_zemu_avx2.c — test-only: gemm_vnni.c (int8, 12x32 zmm tile, vpdpbusd) over
 * zemu.h, with the intrinsic in place of its asm k loop (QK_ZEMU; see quant_zemu_avx2.c) */
#include "zemu.h"
#define QK_ZEMU 1
#define qk_gemm_u8s8_vnni qk_gemm_u8s8_vnni_zemu
#include "gemm_vnni.c"
