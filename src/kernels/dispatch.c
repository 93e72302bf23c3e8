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

const qs_kernels *qs_k_avx2(void)
{
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
        __builtin_cpu_supports("f16c"))
        return &qk_avx2_table;
#endif
    return NULL;
}

void qs_k_force(const qs_kernels *k)
{
    active = k ? k : cpu_choice();
}
