/* test_kernels_cpuid.c — the kernel tier choice (qs_k_tiers_of, qs_k_tier_choose) on the
 * CPUID and XCR0 words of real CPUs, as qs_cpu_bits_read stores them: leaf 1 ECX, leaf 7
 * subleaf 0 EBX/ECX/EDX, leaf 7 subleaf 1 EAX (0 when leaf 7's EAX, the highest subleaf,
 * is 0: the reader does not ask then) and XCR0 (the OS enables every user state the CPU
 * lists in leaf 0xD subleaf 0 EAX on Linux; 0x207 is this project's Zen 3 VM's xgetbv) and the
 * states Linux permits the process (xperm, ARCH_GET_XCOMP_PERM after dispatch.c's request:
 * XCR0 itself where the kernel grants AMX's tile data, which every row but one assumes).
 * Words from InstLatx64's CPUID dumps (github.com/InstLatx64/InstLatx64, file named per
 * row) and this project's Zen 3 (EPYC Milan guest, `cpuid` of 2026-12-04). */
#include <criterion/criterion.h>
#include <stdint.h>

#include "qscope/kernels.h"

typedef struct cpu_row {
    const char *name;
    uint32_t l1_ecx, l7_ebx, l7_ecx, l7_edx, l71_eax, xcr0, xperm;
    unsigned tiers;                     /* bit t = tier t */
    int vnni256;
} cpu_row;

#define R (1u << QS_TIER_REF)
#define A2 (1u << QS_TIER_AVX2)
#define A5 (1u << QS_TIER_AVX512)
#define VN (1u << QS_TIER_VNNI)
#define AX (1u << QS_TIER_AMX)

static const cpu_row CPUS[] = {
    /* AMD Zen 3: AVX2 + FMA + F16C, no AVX-512, no AVX-VNNI */
    { "Zen 3 EPYC Milan guest (this project's machine)", 0xfffa3203u, 0x219c07abu,
      0x0040069cu, 0x88000010u, 0, 0x207u, 0x207u, R | A2, 0 },
    { "Zen 3 Ryzen 9 5900X (AuthenticAMD0A20F10_K19_Vermeer2)", 0x7ED8320Bu, 0x219C97A9u,
      0x0040068Cu, 0x00000010u, 0, 0x207u, 0x207u, R | A2, 0 },
    { "Zen 3 EPYC Milan (AuthenticAMD0A00F11_K19_Milan_02)", 0x7EDA320Bu, 0x219C97A9u,
      0x0040068Cu, 0x00000010u, 0, 0x207u, 0x207u, R | A2, 0 },
    /* AMD Zen 4: AVX-512 F/BW/VL + AVX512-VNNI; 7.1 EAX 0x20 is AVX512-BF16, not AVX-VNNI */
    { "Zen 4 Ryzen 5 7600X (AuthenticAMD0A60F12_K19_Raphael_01)", 0x7EF8320Bu, 0xF1BF97A9u,
      0x00405FCEu, 0x10000010u, 0x00000020u, 0x2E7u, 0x2E7u, R | A2 | A5 | VN, 0 },
    { "Zen 4 EPYC Genoa (AuthenticAMD0A10F11_K19_Genoa_02)", 0x7EFA320Bu, 0xF1BF97A9u,
      0x00415FCEu, 0x10000010u, 0x00000020u, 0x2E7u, 0x2E7u, R | A2 | A5 | VN, 0 },
    /* Intel Skylake-X: AVX-512 F/BW/VL without VNNI */
    { "Skylake-X (GenuineIntel0050654_SkylakeX)", 0x7FFEFBBFu, 0xD39FFFFBu, 0x00000000u,
      0x00000000u, 0, 0xFFu, 0xFFu, R | A2 | A5, 0 },
    /* Intel Cascade Lake: AVX512-VNNI (leaf 7 ECX bit 11) */
    { "Cascade Lake SP (GenuineIntel0050657_CascadeLakeSP_CPUID1)", 0x7FFEFBFFu, 0xD39FFFFBu,
      0x00000808u, 0xBC000400u, 0, 0x2FFu, 0x2FFu, R | A2 | A5 | VN, 0 },
    /* Intel Sapphire Rapids: AVX512-VNNI and AVX-VNNI (7.1 EAX bit 4): the 512-bit one;
     * AMX-TILE and AMX-INT8 (7.0 EDX bits 24, 25) with XTILECFG/XTILEDATA in XCR0 (17, 18) */
    { "Sapphire Rapids (GenuineIntel00806F8_SapphireRapids_05)", 0x7FFEFBFFu, 0xF3BFBFFBu,
      0xBB417FEEu, 0xFFDD4430u, 0x00001C30u, 0x602E7u, 0x602E7u, R | A2 | A5 | VN | AX, 0 },
    /* the same CPU where Linux refused the tile data permission (or predates it, 5.16) */
    { "Sapphire Rapids, no ARCH_REQ_XCOMP_PERM grant", 0x7FFEFBFFu, 0xF3BFBFFBu, 0xBB417FEEu,
      0xFFDD4430u, 0x00001C30u, 0x602E7u, 0x202E7u, R | A2 | A5 | VN, 0 },
    /* this project's Sapphire-Rapids-class guest of 2026-12-04 (no PKRU in XCR0) */
    { "Sapphire Rapids-class Xeon guest (this project's machine)", 0xFFFA3203u, 0xF1BF2FFBu,
      0x1A415F46u, 0x23C14010u, 0x00001C30u, 0x600E7u, 0x600E7u, R | A2 | A5 | VN | AX, 0 },
    /* the same CPU under an OS that does not enable the ZMM state: AVX-VNNI on ymm */
    { "Sapphire Rapids, XCR0 without opmask/ZMM state", 0x7FFEFBFFu, 0xF3BFBFFBu, 0xBB417FEEu,
      0xFFDD4430u, 0x00001C30u, 0x207u, 0x207u, R | A2 | VN, 1 },
    /* Intel Alder Lake: AVX-VNNI without AVX-512 */
    { "Alder Lake P (GenuineIntel00906A4_AlderLakeP_00)", 0x7FFAFBBFu, 0x239C27EBu,
      0x984007ACu, 0xFC18C410u, 0x00400810u, 0x207u, 0x207u, R | A2 | VN, 1 },
    { "Alder Lake S (GenuineIntel0090672_AlderLake_03)", 0x7FFAFBBFu, 0x239C27EBu,
      0x98C007ACu, 0xFC18C410u, 0x00400810u, 0x207u, 0x207u, R | A2 | VN, 1 },
    /* Alder Lake with AVX-512 enabled by an early BIOS (E-cores off) */
    { "Alder Lake, AVX-512 BIOS (GenuineIntel0090672_AlderLake_01_BC_AVX512)", 0x7FFAFBFFu,
      0xF3BFA7EBu, 0x98C07FEEu, 0xFC9CC510u, 0x00401C30u, 0x2E7u, 0x2E7u, R | A2 | A5 | VN, 0 },
};

Test(kernels_cpuid, real_cpus)
{
    for (size_t i = 0; i < sizeof CPUS / sizeof *CPUS; i++) {
        const cpu_row *r = &CPUS[i];
        qs_cpu_bits c = { r->l1_ecx, r->l7_ebx, r->l7_ecx, r->l7_edx, r->l71_eax, r->xcr0,
                          r->xperm };
        int v256 = -1;
        unsigned set = qs_k_tiers_of(&c, &v256);
        cr_assert_eq(set, r->tiers, "%s: tiers 0x%x, expected 0x%x", r->name, set, r->tiers);
        cr_assert_eq(v256, r->vnni256, "%s: vnni256 %d", r->name, v256);
        /* the default is the best tier; each supported tier can be forced, the others are
         * refused */
        int best = qs_k_tier_choose(set, NULL, NULL, 0);
        cr_assert_eq(best, (r->tiers & AX)   ? QS_TIER_AMX
                           : (r->tiers & VN) ? QS_TIER_VNNI
                           : (r->tiers & A5) ? QS_TIER_AVX512
                                             : QS_TIER_AVX2,
                     "%s: default tier %d", r->name, best);
        for (int t = 0; t < QS_TIER_N; t++) {
            char err[160];
            int got = qs_k_tier_choose(set, qs_k_tier_name((qs_tier)t), err, sizeof err);
            cr_assert_eq(got, (set >> t) & 1u ? t : -1, "%s: QSCOPE_KERNELS=%s gave %d", r->name,
                         qs_k_tier_name((qs_tier)t), got);
        }
    }
}

/* every piece each tier needs, removed from a real CPU's words (Sapphire Rapids) */
Test(kernels_cpuid, each_bit_matters)
{
    const cpu_row *spr = &CPUS[7];
    struct { const char *what; int word; uint32_t bit; unsigned tiers; } cut[] = {
        { "FMA (1.ECX 12)", 0, 1u << 12, R },
        { "OSXSAVE (1.ECX 27)", 0, 1u << 27, R },
        { "AVX (1.ECX 28)", 0, 1u << 28, R },
        { "F16C (1.ECX 29)", 0, 1u << 29, R },
        { "AVX2 (7.EBX 5)", 1, 1u << 5, R },
        { "AVX512F (7.EBX 16)", 1, 1u << 16, R | A2 | VN },
        { "AVX512BW (7.EBX 30)", 1, 1u << 30, R | A2 | VN },
        { "AVX512VL (7.EBX 31)", 1, 1u << 31, R | A2 | VN },
        { "AVX512_VNNI (7.ECX 11)", 2, 1u << 11, R | A2 | A5 | VN },
        { "AVX-VNNI (7.1.EAX 4)", 3, 1u << 4, R | A2 | A5 | VN | AX },
        { "AMX-TILE (7.EDX 24)", 5, 1u << 24, R | A2 | A5 | VN },
        { "AMX-INT8 (7.EDX 25)", 5, 1u << 25, R | A2 | A5 | VN },
        { "AMX-BF16 (7.EDX 22), not needed", 5, 1u << 22, R | A2 | A5 | VN | AX },
        { "XCR0 XTILECFG (17)", 4, 1u << 17, R | A2 | A5 | VN },
        { "XCR0 XTILEDATA (18)", 4, 1u << 18, R | A2 | A5 | VN },
        { "Linux's XTILEDATA permission (18)", 6, 1u << 18, R | A2 | A5 | VN },
        { "XCR0 SSE (1)", 4, 1u << 1, R },
        { "XCR0 AVX (2)", 4, 1u << 2, R },
        { "XCR0 opmask (5)", 4, 1u << 5, R | A2 | VN },
        { "XCR0 ZMM_Hi256 (6)", 4, 1u << 6, R | A2 | VN },
        { "XCR0 Hi16_ZMM (7)", 4, 1u << 7, R | A2 | VN },
    };
    for (size_t i = 0; i < sizeof cut / sizeof *cut; i++) {
        uint32_t w[7] = { spr->l1_ecx, spr->l7_ebx, spr->l7_ecx, spr->l71_eax, spr->xcr0,
                          spr->l7_edx, spr->xperm };
        w[cut[i].word] &= ~cut[i].bit;
        qs_cpu_bits c = { w[0], w[1], w[2], w[5], w[3], w[4], w[6] };
        unsigned set = qs_k_tiers_of(&c, NULL);
        cr_assert_eq(set, cut[i].tiers, "Sapphire Rapids without %s: tiers 0x%x, expected 0x%x",
                     cut[i].what, set, cut[i].tiers);
    }
    /* without AVX512_VNNI the vnni tier is AVX-VNNI's 256-bit one */
    qs_cpu_bits c = { spr->l1_ecx, spr->l7_ebx, spr->l7_ecx & ~(1u << 11), spr->l7_edx,
                      spr->l71_eax, spr->xcr0, spr->xperm };
    int v256 = -1;
    qs_k_tiers_of(&c, &v256);
    cr_assert_eq(v256, 1);
}
