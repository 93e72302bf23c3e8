/* dispatch.c — the one dispatch table of the library: chosen once from CPUID
 * (AVX2 + FMA + F16C → the optimized table, else `_ref`); QSCOPE_KERNELS=ref forces the
 * plain path; tests and the bench can force either table. */
#include <stdlib.h>
#include <string.h>

#include "kint.h"

/* The active table: NULL until qs_kernels_init(). This pointer (and the forced choice) is
 * the library's only global state; it is written by init (idempotent: every caller
 * computes the same value) and by qs_k_force (tests, bench: single-threaded use). */
static const qs_kernels *active;

static const qs_kernels *cpu_choice(void)
{
    const char *env = getenv("QSCOPE_KERNELS");
    if (env && strcmp(env, "ref") == 0) return &qk_ref_table;
    const qs_kernels *k = qs_k_avx2();
    return k ? k : &qk_ref_table;
}

void qs_kernels_init(void)
{
    if (!active) active = cpu_choice();
}

const qs_kernels *qs_k(void)
{
    if (!active) qs_kernels_init();
    return active;
}

const qs_kernels *qs_k_ref(void) { return &qk_ref_table; }

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <cpuid.h>

/* AVX2 + FMA + F16C usable: the CPU has them (CPUID leaf 1 ECX: FMA bit 12, OSXSAVE bit 27,
 * AVX bit 28, F16C bit 29; leaf 7 EBX: AVX2 bit 5) and the OS saves the YMM state (XCR0
 * bits 1 and 2). <cpuid.h> and xgetbv work the same under gcc and clang (clang 14 does not
 * know __builtin_cpu_supports("f16c")). */
static int cpu_has_avx2_fma_f16c(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const unsigned need1 = (1u << 12) | (1u << 27) | (1u << 28) | (1u << 29);
    if ((c & need1) != need1) return 0;
    unsigned xlo, xhi;
    __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
    (void)xhi;
    if ((xlo & 6u) != 6u) return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b >> 5) & 1u;
}
#endif

const qs_kernels *qs_k_avx2(void)
{
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
    if (cpu_has_avx2_fma_f16c()) return &qk_avx2_table;
#endif
    return NULL;
}

void qs_k_force(const qs_kernels *k)
{
    active = k ? k : cpu_choice();
}
