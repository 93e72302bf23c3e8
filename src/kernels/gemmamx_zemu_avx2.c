/* gemmamx_zemu_avx2.c — test-only (qs_k_emulated(5) "amx-zemu"): gemm_amx.c (the amx tier's
 * int8 GEMM on AMX tiles) compiled from its own source over zemu.h (its AVX-512 intrinsics)
 * and amxemu.h (the tile instructions, following the SDM's operations), so a machine without
 * AMX runs its configuration, packing, tails, tile k loop and zero-point algebra against
 * `_ref`. Its tiny products go to the vnni kernel's emulated instance. */
#include "zemu.h"
#include "amxemu.h"
#define QK_ZEMU 1
#define qk_gemm_u8s8_amx qk_gemm_u8s8_amx_zemu
#define qk_gemm_u8s8_vnni qk_gemm_u8s8_vnni_zemu
#include "gemm_amx.c"
