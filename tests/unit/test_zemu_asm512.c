/* test_zemu_asm512.c — the int8 GEMM of the vnni tier (src/kernels/gemm_vnni.c: 12x32 zmm
 * tile, vpdpbusd) compiled from its own source with its inline assembly — the k loop and
 * the vpdpbusd of the row / column sums — run by tests/unit/zasm.h's interpreter and its
 * intrinsics by zemu.h, compared with `_ref` on shapes that reach every tail, k block and
 * zero-point term. The asm text is what the AVX-512 machine will execute: operand order,
 * offsets, strides, the accumulator layout vgemm.h reads back and the clobber list are
 * checked here (zasm.h). Built with the AVX2 flags by pragma; skipped without AVX2. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/kernels.h"

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__) && !defined(__clang__)
#include <omp.h>
#include <stdatomic.h>
#include <stdio.h>

#include "kernels/kint.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#include "kernels/zemu.h"
#include <immintrin.h>

#include "zasm.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#define __asm__ ZASM_
#define ZASM_(...) ZASM_ = za_exec(#__VA_ARGS__, ZASM_BIND)
#define volatile(...) = za_exec(#__VA_ARGS__, ZASM_BIND)
#define qk_gemm_u8s8_vnni qk_gemm_u8s8_vnni_zasm
#include "kernels/gemm_vnni.c"
#undef qk_gemm_u8s8_vnni
#undef volatile
#undef ZASM_
#undef __asm__
#pragma GCC diagnostic pop

#define ZT_GEMM qk_gemm_u8s8_vnni_zasm
#include "zasm_gemm.h"
#pragma GCC pop_options

static int have_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

Test(zemu_asm, vnni512_gemm_asm_vs_ref, .timeout = 120)
{
    if (!have_avx2()) cr_skip_test("no AVX2 on this CPU");
    char what[256] = "";
    long runs = zt_run_all(what, sizeof what);
    cr_assert_str_empty(za_err, "gemm_vnni.c asm: %s", za_err);
    cr_assert_str_empty(what, "gemm_vnni.c through its interpreted asm differs from _ref: %s",
                        what);
    /* the asm ran: k loops and row / column sums (a test that never reached them says nothing) */
    cr_assert_gt(runs, 100, "only %ld asm statements ran", runs);
}
#else
Test(zemu_asm, vnni512_gemm_asm_vs_ref) { cr_skip_test("x86 and GCC only"); }
#endif
