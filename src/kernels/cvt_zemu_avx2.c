/* cvt_zemu_avx2.c — test-only: cvt_avx512.c over zemu.h (see quant_zemu_avx2.c) */
#include "zemu.h"
#define qk_f32_to_f16_avx512 qk_f32_to_f16_zemu
#define qk_f16_to_f32_avx512 qk_f16_to_f32_zemu
#define qk_f32_to_bf16_avx512 qk_f32_to_bf16_zemu
#define qk_bf16_to_f32_avx512 qk_bf16_to_f32_zemu
#include "cvt_avx512.c"
