/* dispatch.c — the one dispatch table of the library: the best tier the CPU supports (CPUID
 * and XCR0: ref, avx2, avx512, vnni, amx), or the one QSCOPE_KERNELS names when the CPU has it;
 * tests and the bench can force any table. The choice itself (qs_k_tiers_of,
 * qs_k_tier_choose) is a pure function of the CPUID/XCR0 words (and of the states Linux
 * permits the process: AMX), unit-tested with synthetic bit sets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kint.h"

/* The active table: NULL until qs_kernels_init(). This pointer (and the forced choice) is
 * the library's only global state; it is written by init (idempotent: every caller
 * computes the same value) and by qs_k_force (tests, bench: single-threaded use). */
static const qs_kernels *active;

static const char *const TIER_NAME[QS_TIER_N] = { "ref", "avx2", "avx512", "vnni", "amx" };

const char *qs_k_tier_name(qs_tier t)
{
    return (unsigned)t < QS_TIER_N ? TIER_NAME[t] : "?";
}

int qs_k_tier_parse(const char *name)
{
    for (int t = 0; t < QS_TIER_N; t++)
        if (name && strcmp(name, TIER_NAME[t]) == 0) return t;
    return -1;
}

/* CPUID bits: leaf 1 ECX: FMA 12, OSXSAVE 27, AVX 28, F16C 29. Leaf 7.0 EBX: AVX2 5,
 * AVX512F 16, AVX512BW 30, AVX512VL 31; ECX: AVX512_VNNI 11; EDX: AMX-TILE 24, AMX-INT8 25.
 * Leaf 7.1 EAX: AVX-VNNI 4. XCR0: 1 SSE, 2 AVX (YMM upper halves), 5 opmask, 6 ZMM_Hi256,
 * 7 Hi16_ZMM, 17 XTILECFG, 18 XTILEDATA. xperm (Linux's permitted states): 18 XTILEDATA —
 * without it the first tile instruction raises SIGILL even where XCR0 has the state. */
#define B(n) (1u << (n))
unsigned qs_k_tiers_of(const qs_cpu_bits *c, int *vnni256)
{
    unsigned set = 1u << QS_TIER_REF;
    int v256 = 0;
    const uint32_t l1 = B(12) | B(27) | B(28) | B(29);
    int avx2 = (c->l1_ecx & l1) == l1 && (c->xcr0 & 6u) == 6u && (c->l7_ebx & B(5));
    const uint32_t f_bw_vl = B(16) | B(30) | B(31);
    const uint32_t zmm_state = B(1) | B(2) | B(5) | B(6) | B(7);
    int avx512 = avx2 && (c->l7_ebx & f_bw_vl) == f_bw_vl && (c->xcr0 & zmm_state) == zmm_state;
    if (avx2) set |= 1u << QS_TIER_AVX2;
    if (avx512) set |= 1u << QS_TIER_AVX512;
    int vnni512 = avx512 && (c->l7_ecx & B(11));
    if (vnni512) set |= 1u << QS_TIER_VNNI;
    else if (avx2 && (c->l71_eax & B(4))) { set |= 1u << QS_TIER_VNNI; v256 = 1; }
    const uint32_t amx_cpu = B(24) | B(25), amx_state = B(17) | B(18);
    if (vnni512 && (c->l7_edx & amx_cpu) == amx_cpu && (c->xcr0 & amx_state) == amx_state &&
        (c->xperm & B(18)))
        set |= 1u << QS_TIER_AMX;
    if (vnni256) *vnni256 = v256;
    return set;
}
#undef B

int qs_k_tier_choose(unsigned supported, const char *env, char *err, size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    if (!env || !*env) {
        for (int t = QS_TIER_N - 1; t > 0; t--)
            if (supported & (1u << t)) return t;
        return QS_TIER_REF;
    }
    int t = qs_k_tier_parse(env);
    if (t < 0) {
        if (err) snprintf(err, errlen, "QSCOPE_KERNELS=%.40s: unknown tier (ref, avx2, avx512, "
                          "vnni or amx)", env);
        return -1;
    }
    if (!(supported & (1u << t))) {
        char have[64] = "";
        for (int i = 0; i < QS_TIER_N; i++)
            if (supported & (1u << i)) {
                strcat(have, i ? " " : "");
                strcat(have, TIER_NAME[i]);
            }
        if (err) snprintf(err, errlen, "QSCOPE_KERNELS=%s: this CPU lacks the %s tier "
                          "(it supports: %s)", env, env, have);
        return -1;
    }
    return t;
}

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <cpuid.h>
#define QK_X86 1
#endif
#if defined(QK_X86) && defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#define QK_ARCH_GET_XCOMP_PERM 0x1022
#define QK_ARCH_REQ_XCOMP_PERM 0x1023
#define QK_XFEATURE_XTILEDATA 18

/* the extended states Linux lets this process use (low word; 0 where the kernel predates
 * the permission scheme, 5.16, and so does not enable AMX either) */
static uint32_t xcomp_perm(void)
{
    unsigned long long perm = 0;
    if (syscall(SYS_arch_prctl, QK_ARCH_GET_XCOMP_PERM, &perm) != 0) return 0;
    return (uint32_t)perm;
}
#endif

/* <cpuid.h> and xgetbv work the same under gcc and clang (clang 14 does not know
 * __builtin_cpu_supports("f16c")). */
void qs_cpu_bits_read(qs_cpu_bits *c)
{
    memset(c, 0, sizeof *c);
#ifdef QK_X86
    unsigned a, b, cx, d;
    if (!__get_cpuid(1, &a, &b, &cx, &d)) return;
    c->l1_ecx = cx;
    if (cx & (1u << 27)) {          /* OSXSAVE: xgetbv is allowed */
        unsigned xlo, xhi;
        __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
        (void)xhi;
        c->xcr0 = xlo;
    }
    if (__get_cpuid_max(0, NULL) < 7) return;
    __cpuid_count(7, 0, a, b, cx, d);
    c->l7_ebx = b; c->l7_ecx = cx; c->l7_edx = d;
    unsigned max7 = a;
    if (max7 >= 1) {
        __cpuid_count(7, 1, a, b, cx, d);
        c->l71_eax = a;
    }
#ifdef __linux__
    /* AMX: the tile data state is off for a process until it asks (Linux 5.16+); asked once
     * (process-wide, inherited by threads) where the CPU and XCR0 have it, then read back */
    const uint32_t amx_cpu = (1u << 24) | (1u << 25), amx_state = (1u << 17) | (1u << 18);
    c->xperm = xcomp_perm();
    if ((c->l7_edx & amx_cpu) == amx_cpu && (c->xcr0 & amx_state) == amx_state &&
        !(c->xperm & (1u << QK_XFEATURE_XTILEDATA)) &&
        syscall(SYS_arch_prctl, QK_ARCH_REQ_XCOMP_PERM, QK_XFEATURE_XTILEDATA) == 0)
        c->xperm = xcomp_perm();
#endif
#endif
}

static unsigned cpu_tiers(int *vnni256)
{
    qs_cpu_bits c;
    qs_cpu_bits_read(&c);
    return qs_k_tiers_of(&c, vnni256);
}

const qs_kernels *qs_k_tier(qs_tier t)
{
    int v256 = 0;
    unsigned set = cpu_tiers(&v256);
    if ((unsigned)t >= QS_TIER_N || !(set & (1u << t))) return NULL;
    switch (t) {
    case QS_TIER_REF: return &qk_ref_table;
#ifdef QK_X86
    case QS_TIER_AVX2: return &qk_avx2_table;
    case QS_TIER_AVX512: return &qk_avx512_table;
    case QS_TIER_VNNI: return v256 ? &qk_vnni256_table : &qk_vnni_table;
    case QS_TIER_AMX: return &qk_amx_table;
#endif
    default: return NULL;
    }
}

static const qs_kernels *cpu_choice(void)
{
    int t = qs_k_tier_choose(cpu_tiers(NULL), getenv("QSCOPE_KERNELS"), NULL, 0);
    if (t < 0) t = qs_k_tier_choose(cpu_tiers(NULL), NULL, NULL, 0);
    const qs_kernels *k = qs_k_tier((qs_tier)t);
    return k ? k : &qk_ref_table;
}

int qs_kernels_check(char *err, size_t errlen)
{
    return qs_k_tier_choose(cpu_tiers(NULL), getenv("QSCOPE_KERNELS"), err, errlen) < 0 ? -1 : 0;
}

qs_tier qs_k_active_tier(void)
{
    const qs_kernels *k = qs_k();
    for (int t = QS_TIER_N - 1; t > 0; t--)
        if (qs_k_tier((qs_tier)t) == k) return (qs_tier)t;
    return QS_TIER_REF;
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

const qs_kernels *qs_k_avx2(void) { return qs_k_tier(QS_TIER_AVX2); }

const qs_kernels *qs_k_vnni256_native(void)
{
#ifdef QK_X86
    qs_cpu_bits c;
    qs_cpu_bits_read(&c);
    if (qs_k_tier(QS_TIER_AVX2) && (c.l71_eax & (1u << 4))) return &qk_vnni256_table;
#endif
    return NULL;
}

const qs_kernels *qs_k_emulated(int i)
{
#ifdef QK_X86
    if (i >= 0 && i < 3 && qs_k_tier(QS_TIER_AVX2)) return &qk_emu_tables[i];
    if (i >= 3 && i < 6 && qs_k_tier(QS_TIER_AVX2)) return &qk_zemu_tables[i - 3];
#endif
    (void)i;
    return NULL;
}

void qs_k_force(const qs_kernels *k)
{
    active = k ? k : cpu_choice();
}
