/* test_loader_ref.c — every tensor of the files in tests/golden/loaders/ (written by numpy's
 * np.save, torch.save and by hand per the safetensors and GGUF specs) loads with the name,
 * stored dtype, shape and float32 bit patterns that tests/golden/make_loader_golden.py computed
 * with numpy / torch and a numpy re-implementation of ggml's dequantize_row_*.
 * Reference lines: FILE NAME DTYPE NDIM DIMS... N HEX... ("nan": any NaN). Run from the
 * repository root. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/io.h"

#define REF "tests/golden/loader_ref.txt"

/* Reads one whitespace-separated token of at most cap-1 bytes; 0 at the end of the file. */
static int token(FILE *fp, char *out, size_t cap)
{
    int c;
    while ((c = fgetc(fp)) == ' ' || c == '\n') {}
    size_t n = 0;
    while (c != EOF && c != ' ' && c != '\n') {
        cr_assert_lt(n + 1, cap, "token too long in " REF);
        out[n++] = (char)c;
        c = fgetc(fp);
    }
    out[n] = '\0';
    if (c == '\n') ungetc(c, fp);
    return n > 0;
}

static long long number(FILE *fp)
{
    char t[64];
    cr_assert(token(fp, t, sizeof t), REF ": truncated line");
    return strtoll(t, NULL, 10);
}

/* Compares one tensor; returns the number of mismatching values (each reported). */
static int check_tensor(qs_file *f, const char *path, const char *name, const char *dtype,
                        int ndim, const int64_t *shape, long long n, FILE *fp)
{
    int idx = qs_file_find(f, name);
    cr_assert_geq(idx, 0, "%s: no tensor '%s'", path, name);
    const qs_entry *e = &f->entries[idx];
    cr_expect_str_eq(qs_dtype_name(e->dtype), dtype, "%s '%s': dtype", path, name);
    qs_tensor *t = NULL;
    qs_err err = {""};
    cr_assert_eq(qs_file_read(f, idx, &t, &err), QS_OK, "%s '%s': %s", path, name, err.msg);
    cr_expect_eq(t->ndim, ndim, "%s '%s': ndim %d, want %d", path, name, t->ndim, ndim);
    for (int d = 0; d < ndim && d < t->ndim; d++)
        cr_expect_eq(t->shape[d], shape[d], "%s '%s': dim %d is %lld, want %lld", path, name, d,
                     (long long)t->shape[d], (long long)shape[d]);
    cr_assert_eq(t->n, n, "%s '%s': %lld values, want %lld", path, name, (long long)t->n, n);
    int bad = 0;
    for (long long i = 0; i < n; i++) {
        char h[16];
        cr_assert(token(fp, h, sizeof h), REF ": %s '%s': value %lld missing", path, name, i);
        float g = t->data[i];
        uint32_t gb;
        memcpy(&gb, &g, sizeof gb);
        int ok;
        if (strcmp(h, "nan") == 0) ok = isnan(g);
        else ok = gb == (uint32_t)strtoul(h, NULL, 16);
        if (!ok && bad++ < 5)
            cr_expect(0, "%s '%s'[%lld] = %.9g (0x%08x), want 0x%s", path, name, i, g,
                      (unsigned)gb, h);
    }
    qs_tensor_free(t);
    return bad;
}

Test(loader_ref, every_tensor_matches_numpy_and_torch_bit_for_bit)
{
    FILE *fp = fopen(REF, "r");
    cr_assert_not_null(fp, REF " missing (run from the repository root)");
    char path[512] = "", open_path[512] = "", name[512], dtype[32];
    qs_file *f = NULL;
    int tensors = 0, bad = 0, files = 0;
    for (;;) {
        int c = fgetc(fp);
        if (c == EOF) break;
        if (c == '#') {
            while ((c = fgetc(fp)) != '\n' && c != EOF) {}
            continue;
        }
        if (c == '\n') continue;
        ungetc(c, fp);
        cr_assert(token(fp, path, sizeof path));
        cr_assert(token(fp, name, sizeof name), REF ": no name after %s", path);
        cr_assert(token(fp, dtype, sizeof dtype));
        int ndim = (int)number(fp);
        cr_assert(ndim >= 0 && ndim <= QS_MAX_DIMS);
        int64_t shape[QS_MAX_DIMS];
        for (int d = 0; d < ndim; d++) shape[d] = number(fp);
        long long n = number(fp);
        if (strcmp(path, open_path) != 0) {
            qs_file_close(f);
            f = NULL;
            qs_err err = {""};
            cr_assert_eq(qs_file_open(path, &f, &err), QS_OK, "%s: %s", path, err.msg);
            snprintf(open_path, sizeof open_path, "%s", path);
            files++;
        }
        bad += check_tensor(f, path, name, dtype, ndim, shape, n, fp);
        tensors++;
    }
    qs_file_close(f);
    fclose(fp);
    cr_expect_eq(bad, 0, "%d values differ", bad);
    /* the generator writes 133 tensors in 38 files: a short reference would test nothing */
    cr_expect_geq(tensors, 130, "only %d tensors in " REF, tensors);
    cr_expect_geq(files, 30, "only %d files in " REF, files);
}

/* The formats and their names, so a file opened through the wrong loader cannot pass. */
Test(loader_ref, formats)
{
    static const struct { const char *path, *format; int n; } want[] = {
        {"tests/golden/loaders/all_dtypes.safetensors", "safetensors", 18},
        {"tests/golden/loaders/sharded", "safetensors-sharded", 3},
        {"tests/golden/loaders/sharded/model.safetensors.index.json", "safetensors-sharded", 3},
        {"tests/golden/loaders/state_dict_p2.pt", "torch", 22},
        {"tests/golden/loaders/state_dict_p4.pt", "torch", 22},
        {"tests/golden/loaders/blocks.gguf", "gguf", 15},
        {"tests/golden/loaders/v3.npy", "npy", 1},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        qs_file *f = NULL;
        qs_err err = {""};
        cr_assert_eq(qs_file_open(want[i].path, &f, &err), QS_OK, "%s: %s", want[i].path,
                     err.msg);
        cr_expect_str_eq(f->format, want[i].format, "%s", want[i].path);
        cr_expect_eq(f->n, want[i].n, "%s: %d tensors, want %d", want[i].path, f->n, want[i].n);
        qs_file_close(f);
    }
}
