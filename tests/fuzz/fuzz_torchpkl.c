/* fuzz_torchpkl.c — libFuzzer harness for torch checkpoints with a fuzzed data.pkl inside a
 * well-formed zip: the input becomes ARCHIVE/data.pkl next to eight real storages data/0 ..
 * data/7 (256 bytes each), so hostile shapes, strides, offsets and storage sizes reach the
 * strided reader instead of stopping at the zip's CRC check. */
#include <zlib.h>

#include "fuzz_common.h"

typedef struct zbuf {
    uint8_t *p;             /* bytes */
    size_t n;               /* used */
} zbuf;

static void zput(zbuf *b, const void *d, size_t n)
{
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void z16(zbuf *b, unsigned v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    zput(b, x, 2);
}
static void z32(zbuf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    zput(b, x, 4);
}

/* A stored (uncompressed) zip of n files. */
static size_t make_zip(zbuf *b, const char *const *names, const uint8_t *const *data,
                       const size_t *len, int n)
{
    uint32_t off[16], crc[16];
    for (int i = 0; i < n; i++) {
        off[i] = (uint32_t)b->n;
        crc[i] = (uint32_t)crc32(0, data[i], (uInt)len[i]);
        z32(b, 0x04034b50);
        z16(b, 20); z16(b, 0); z16(b, 0); z16(b, 0); z16(b, 0x21);
        z32(b, crc[i]); z32(b, (uint32_t)len[i]); z32(b, (uint32_t)len[i]);
        z16(b, (unsigned)strlen(names[i])); z16(b, 0);
        zput(b, names[i], strlen(names[i]));
        zput(b, data[i], len[i]);
    }
    uint32_t cd = (uint32_t)b->n;
    for (int i = 0; i < n; i++) {
        z32(b, 0x02014b50);
        z16(b, 20); z16(b, 20); z16(b, 0); z16(b, 0); z16(b, 0); z16(b, 0x21);
        z32(b, crc[i]); z32(b, (uint32_t)len[i]); z32(b, (uint32_t)len[i]);
        z16(b, (unsigned)strlen(names[i])); z16(b, 0); z16(b, 0); z16(b, 0); z16(b, 0);
        z32(b, 0); z32(b, off[i]);
        zput(b, names[i], strlen(names[i]));
    }
    uint32_t cdlen = (uint32_t)b->n - cd;
    z32(b, 0x06054b50);
    z16(b, 0); z16(b, 0); z16(b, (unsigned)n); z16(b, (unsigned)n);
    z32(b, cdlen); z32(b, cd); z16(b, 0);
    return b->n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t storage[256];
    static const char *const names[] = {
        "archive/data.pkl", "archive/data/0", "archive/data/1", "archive/data/2",
        "archive/data/3", "archive/data/4", "archive/data/5", "archive/data/6",
        "archive/data/7"};
    if (size > 1 << 20) return 0;
    for (int i = 0; i < 256; i++) storage[i] = (uint8_t)(i * 37 + 11);
    const uint8_t *d[9];
    size_t len[9];
    d[0] = data;
    len[0] = size;
    for (int i = 1; i < 9; i++) {
        d[i] = storage;
        len[i] = sizeof storage;
    }
    zbuf b = {malloc(size + 9 * 400 + 4096), 0};
    if (!b.p) return 0;
    make_zip(&b, names, d, len, 9);
    fuzz_open_and_read("fuzz.pt", b.p, b.n);
    free(b.p);
    return 0;
}
