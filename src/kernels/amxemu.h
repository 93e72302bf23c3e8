/* amxemu.h — test-only, internal to src/kernels: a scalar emulation of the AMX-TILE /
 * AMX-INT8 intrinsics gemm_amx.c uses, so that its own source (tile configuration, packing,
 * tails, the tile k loop, the epilogue) runs and is compared with `_ref` on a machine
 * without AMX (gemmamx_zemu_avx2.c, behind qs_k_emulated(5) "amx-zemu"; its AVX-512
 * intrinsics come from zemu.h). Each function follows the operation section of the Intel SDM
 * (vol. 2, "LDTILECFG", "TILELOADD", "TILESTORED", "TILEZERO", "TILERELEASE",
 * "TDPBSSD/TDPBSUD/TDPBUSD/TDPBUUD"):
 *   LDTILECFG: palette 0 releases the tiles (the init state); palette 1 (16 rows of 64 bytes
 *     at most, 8 tiles) sets rows and bytes per row of tiles 0-7; reserved bytes (2-15),
 *     the entries of tiles 8-15, a row count above 16, more than 64 bytes per row or a tile
 *     with rows but no bytes (or the reverse) are #GP here an abort; start_row must be 0
 *     (it is only written by an interrupted TILELOADD); every tile is zeroed;
 *   TILELOADD: rows 0..rows-1 take colsb bytes from base + r·stride, the rest of each row
 *     and the rows past `rows` are zeroed; TILESTORED writes rows 0..rows-1, colsb bytes each;
 *   TDPBUSD dst, src1, src2 (#UD, an abort, unless src1.colsb == 4·src2.rows, dst.colsb ==
 *     src2.colsb and dst.rows == src1.rows): for each row m of dst and each dword n,
 *     dst[m][n] += Σ_k Σ_{i<4} zx(src1[m].dword[k].byte[i]) · sx(src2[k].dword[n].byte[i]),
 *     k over src1.colsb/4, in 32-bit arithmetic that wraps (no saturation); the bytes of each
 *     row past colsb and the rows past dst.rows are zeroed;
 *   a tile instruction before a valid configuration is #UD (an abort).
 * The tile registers are per thread, as in hardware: a _Thread_local register file (state of
 * this test-only instance only; the kernels load a configuration in each thread before use).
 * Include after zemu.h and before gemm_amx.c; built with the AVX2 flags. */
#ifndef QSCOPE_AMXEMU_H
#define QSCOPE_AMXEMU_H
#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct za_regs {
    int configured;
    uint8_t rows[8];
    uint16_t colsb[8];
    uint8_t t[8][16][64];
} za_regs;
static _Thread_local za_regs za;

#define ZA static __attribute__((noinline, unused))

ZA void za_release(void) { memset(&za, 0, sizeof za); }

ZA void za_loadconfig(const void *cfg)
{
    const uint8_t *c = cfg;
    if (c[0] == 0) { za_release(); return; }
    if (c[0] != 1 || c[1] != 0) abort();
    for (int i = 2; i < 16; i++)
        if (c[i]) abort();
    for (int t = 8; t < 16; t++)
        if (c[16 + 2 * t] || c[17 + 2 * t] || c[48 + t]) abort();
    za_regs z;
    memset(&z, 0, sizeof z);
    for (int t = 0; t < 8; t++) {
        z.colsb[t] = (uint16_t)(c[16 + 2 * t] | c[17 + 2 * t] << 8);
        z.rows[t] = c[48 + t];
        if (z.rows[t] > 16 || z.colsb[t] > 64 || (z.rows[t] == 0) != (z.colsb[t] == 0))
            abort();
    }
    z.configured = 1;
    za = z;
}

static inline void za_valid(int t)
{
    if (!za.configured || t < 0 || t > 7 || za.rows[t] == 0) abort();
}

ZA void za_zero(int t)
{
    za_valid(t);
    memset(za.t[t], 0, sizeof za.t[t]);
}

ZA void za_loadd(int t, const void *base, long stride)
{
    za_valid(t);
    const uint8_t *b = base;
    memset(za.t[t], 0, sizeof za.t[t]);
    for (int r = 0; r < za.rows[t]; r++) memcpy(za.t[t][r], b + r * stride, za.colsb[t]);
}

ZA void za_stored(int t, void *base, long stride)
{
    za_valid(t);
    uint8_t *b = base;
    for (int r = 0; r < za.rows[t]; r++) memcpy(b + r * stride, za.t[t][r], za.colsb[t]);
}

ZA void za_dpbusd(int dst, int s1, int s2)
{
    za_valid(dst); za_valid(s1); za_valid(s2);
    if (za.colsb[s1] != 4 * za.rows[s2] || za.colsb[dst] != za.colsb[s2] ||
        za.rows[dst] != za.rows[s1])
        abort();
    uint8_t out[16][64];
    memset(out, 0, sizeof out);
    for (int m = 0; m < za.rows[dst]; m++) {
        uint32_t tmp[16];
        memcpy(tmp, za.t[dst][m], sizeof tmp);
        for (int k = 0; k < za.colsb[s1] / 4; k++)
            for (int n = 0; n < za.colsb[dst] / 4; n++) {
                const uint8_t *x = &za.t[s1][m][4 * k], *y = &za.t[s2][k][4 * n];
                uint32_t d = 0;
                for (int i = 0; i < 4; i++)
                    d += (uint32_t)((int32_t)x[i] * (int32_t)(int8_t)y[i]);
                tmp[n] += d;
            }
        memcpy(out[m], tmp, za.colsb[dst]);
    }
    memcpy(za.t[dst], out, sizeof out);
}

/* the intrinsics' names (GCC 12: _tile_loadconfig / _tile_release are inline functions,
 * the others macros) */
#define _tile_loadconfig za_loadconfig
#define _tile_release za_release
#undef _tile_zero
#define _tile_zero(t) za_zero(t)
#undef _tile_loadd
#define _tile_loadd(t, base, stride) za_loadd((t), (base), (long)(stride))
#undef _tile_stored
#define _tile_stored(t, base, stride) za_stored((t), (base), (long)(stride))
#undef _tile_dpbusd
#define _tile_dpbusd(dst, s1, s2) za_dpbusd((dst), (s1), (s2))
#endif
