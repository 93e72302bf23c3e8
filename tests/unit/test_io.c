/* test_io.c — Criterion tests for src/io: every good fixture loads with exact values, every
 * malformed fixture fails with a message naming the file and the problem, truncated and
 * mutated files never crash, and a sparse 10 GB safetensors file lists in well under a second.
 * Fixtures come from tests/fixtures/make_fixtures.py; run from the repository root. */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "qscope/io.h"
#include "qscope/numfmt.h"

#define FIX "tests/fixtures/"

/* ---- helpers ----------------------------------------------------------------------------- */

static qs_file *open_ok(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, FIX "%s", name);
    qs_file *f = NULL;
    qs_err err = {""};
    int rc = qs_file_open(path, &f, &err);
    cr_assert_eq(rc, QS_OK, "%s: open failed: %s", name, err.msg);
    cr_assert_not_null(f);
    return f;
}

static qs_tensor *read_ok(const qs_file *f, int idx)
{
    qs_tensor *t = NULL;
    qs_err err = {""};
    cr_assert_eq(qs_file_read(f, idx, &t, &err), QS_OK, "%s[%d]: %s", f->path, idx, err.msg);
    cr_assert_not_null(t);
    return t;
}

/* Bit-exact comparison that also tells -0 from 0 and accepts any NaN for a NaN. */
static void expect_values(const qs_tensor *t, const float *want, int64_t n)
{
    cr_assert_eq(t->n, n, "%s: %lld elements, want %lld", t->name, (long long)t->n,
                 (long long)n);
    for (int64_t i = 0; i < n; i++) {
        float g = t->data[i], w = want[i];
        if (isnan(w))
            cr_expect(isnan(g), "%s[%lld] = %.9g, want NaN", t->name, (long long)i, g);
        else
            cr_expect(g == w && !signbit(g) == !signbit(w), "%s[%lld] = %.9g, want %.9g",
                      t->name, (long long)i, g, w);
    }
}

static void expect_shape(const qs_tensor *t, int ndim, const int64_t *shape)
{
    cr_assert_eq(t->ndim, ndim, "%s: ndim %d, want %d", t->name, t->ndim, ndim);
    for (int i = 0; i < ndim; i++)
        cr_expect_eq(t->shape[i], shape[i], "%s: dim %d is %lld, want %lld", t->name, i,
                     (long long)t->shape[i], (long long)shape[i]);
}

/* Opens a one-tensor file and checks its name, dtype, shape and values. */
static void check_single(const char *file, const char *name, qs_dtype dt, int ndim,
                         const int64_t *shape, const float *want, int64_t n)
{
    qs_file *f = open_ok(file);
    cr_assert_eq(f->n, 1, "%s: %d tensors", file, f->n);
    cr_expect_str_eq(f->entries[0].name, name);
    cr_expect_eq(f->entries[0].dtype, dt, "%s: dtype %s", file,
                 qs_dtype_name(f->entries[0].dtype));
    qs_tensor *t = read_ok(f, 0);
    cr_expect_eq(t->src_dtype, dt);
    expect_shape(t, ndim, shape);
    expect_values(t, want, n);
    qs_tensor_free(t);
    qs_file_close(f);
}

static const char *meta_get(const qs_file *f, const char *key)
{
    for (int i = 0; i < f->nmeta; i++)
        if (strcmp(f->meta[i].key, key) == 0) return f->meta[i].value;
    return NULL;
}

static uint8_t *slurp(const char *name, size_t *len)
{
    char path[256];
    snprintf(path, sizeof path, FIX "%s", name);
    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp, "cannot open %s", path);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    cr_assert_not_null(b);
    cr_assert_eq(fread(b, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    *len = (size_t)n;
    return b;
}

/* ---- .npy -------------------------------------------------------------------------------- */

Test(io_npy, c_order_f4)
{
    const float w[] = {-1, -0.5f, 0, 0.5f, 1, 1.5f};
    check_single("npy_f4_c.npy", "npy_f4_c", QS_DT_F32, 2, (int64_t[]){2, 3}, w, 6);
}

Test(io_npy, fortran_f8_is_transposed_to_c_order)
{
    float w[12];
    for (int k = 0; k < 12; k++) w[k] = (float)k / 4;
    check_single("npy_f8_fortran.npy", "npy_f8_fortran", QS_DT_F64, 2, (int64_t[]){3, 4}, w, 12);
    qs_file *f = open_ok("npy_f8_fortran.npy");
    cr_expect_eq(f->entries[0].fortran, 1);
    cr_expect_str_eq(meta_get(f, "fortran_order"), "True");
    qs_file_close(f);
}

Test(io_npy, fortran_3d)
{
    float w[24];
    for (int k = 0; k < 24; k++) w[k] = (float)k;
    check_single("npy_f4_fortran3d.npy", "npy_f4_fortran3d", QS_DT_F32, 3,
                 (int64_t[]){2, 3, 4}, w, 24);
}

Test(io_npy, fortran_small_types)
{
    const float wf[] = {0, 0.5f, 1, 1.5f, 2, 2.5f};
    check_single("npy_f2_fortran.npy", "npy_f2_fortran", QS_DT_F16, 2, (int64_t[]){2, 3}, wf, 6);
    const float wu[] = {0, 40, 80, 120, 160, 200};
    check_single("npy_u1_fortran.npy", "npy_u1_fortran", QS_DT_U8, 2, (int64_t[]){3, 2}, wu, 6);
}

Test(io_npy, big_endian)
{
    const float w[] = {0.25f, 1.25f, 2.25f, 3.25f};
    check_single("npy_f4_be.npy", "npy_f4_be", QS_DT_F32, 2, (int64_t[]){2, 2}, w, 4);
    const float wi[] = {-3000, -2000, -1000, 0, 1000, 2000};
    check_single("npy_i2_be_fortran.npy", "npy_i2_be_fortran", QS_DT_I16, 2,
                 (int64_t[]){2, 3}, wi, 6);
    const float w4[] = {-2147483648.0f, 7, 2147483648.0f};
    check_single("npy_i4_be.npy", "npy_i4_be", QS_DT_I32, 1, (int64_t[]){3}, w4, 3);
    const float w8[] = {0.1f, -INFINITY};
    check_single("npy_f8_be.npy", "npy_f8_be", QS_DT_F64, 1, (int64_t[]){2}, w8, 2);
}

Test(io_npy, all_dtypes)
{
    const float f2[] = {1, -2.5f, 65504, ldexpf(1, -24), -0.0f, INFINITY};
    check_single("npy_f2.npy", "npy_f2", QS_DT_F16, 1, (int64_t[]){6}, f2, 6);
    const float i1[] = {-128, -1, 0, 127};
    check_single("npy_i1.npy", "npy_i1", QS_DT_I8, 1, (int64_t[]){4}, i1, 4);
    const float u1[] = {0, 1, 255};
    check_single("npy_u1.npy", "npy_u1", QS_DT_U8, 1, (int64_t[]){3}, u1, 3);
    const float i4[] = {-2147483648.0f, 7, 2147483648.0f};
    check_single("npy_i4.npy", "npy_i4", QS_DT_I32, 1, (int64_t[]){3}, i4, 3);
    const float i8[] = {-1099511627776.0f, 3};
    check_single("npy_i8.npy", "npy_i8", QS_DT_I64, 1, (int64_t[]){2}, i8, 2);
    const float u2[] = {65535, 0};
    check_single("npy_u2.npy", "npy_u2", QS_DT_U16, 1, (int64_t[]){2}, u2, 2);
    const float u4[] = {4294967296.0f, 1};
    check_single("npy_u4.npy", "npy_u4", QS_DT_U32, 1, (int64_t[]){2}, u4, 2);
    const float u8[] = {18446744073709551616.0f};
    check_single("npy_u8.npy", "npy_u8", QS_DT_U64, 1, (int64_t[]){1}, u8, 1);
    const float b1[] = {1, 0, 1};
    check_single("npy_b1.npy", "npy_b1", QS_DT_BOOL, 1, (int64_t[]){3}, b1, 3);
}

Test(io_npy, versions_scalar_empty_py2)
{
    const float v2[] = {1, 2, 3}, v3[] = {4, 5}, sc[] = {3.5f}, py2[] = {8, 9};
    check_single("npy_v2.npy", "npy_v2", QS_DT_F32, 1, (int64_t[]){3}, v2, 3);
    check_single("npy_v3.npy", "npy_v3", QS_DT_F32, 1, (int64_t[]){2}, v3, 2);
    check_single("npy_scalar.npy", "npy_scalar", QS_DT_F32, 0, NULL, sc, 1);
    check_single("npy_empty.npy", "npy_empty", QS_DT_F32, 2, (int64_t[]){0, 3}, NULL, 0);
    check_single("npy_py2.npy", "npy_py2", QS_DT_F32, 2, (int64_t[]){2, 1}, py2, 2);
    qs_file *f = open_ok("npy_v3.npy");
    cr_expect_str_eq(meta_get(f, "npy_version"), "3.0");
    cr_expect_str_eq(meta_get(f, "descr"), "<f4");
    cr_expect_str_eq(f->format, "npy");
    qs_file_close(f);
}

/* ---- safetensors ------------------------------------------------------------------------- */

/* Expected content of model.safetensors, in header order. */
static const struct {
    const char *name;
    qs_dtype dt;
    int ndim;
    int64_t shape[2];
    int n;
    float v[8];
} model[] = {
    {"encoder/layer.0/weight", QS_DT_F32, 2, {2, 3}, 6, {0.5f, -1, 2, -3.25f, 4, 1e-3f}},
    {"encoder/layer.0/bias", QS_DT_BF16, 1, {3}, 3, {1, -0.5f, 3.140625f}},
    {"fc.half", QS_DT_F16, 2, {2, 2}, 4, {1, -2.5f, 65504, 0x1p-24f}},
    {"f8.e4m3", QS_DT_F8_E4M3, 1, {8}, 8, {0, 1, 448, 0x1p-9f, -0.0f, -1, NAN, 0x1p-6f}},
    {"f8.e5m2", QS_DT_F8_E5M2, 1, {6}, 6, {1, INFINITY, NAN, 0x1p-16f, -2, 57344}},
    {"ints.i8", QS_DT_I8, 1, {3}, 3, {-128, 0, 127}},
    {"ints.u8", QS_DT_U8, 1, {2}, 2, {0, 255}},
    {"ints.i16", QS_DT_I16, 1, {2}, 2, {-32768, 32767}},
    {"ints.u16", QS_DT_U16, 1, {1}, 1, {65535}},
    {"ints.i32", QS_DT_I32, 1, {2}, 2, {-7, 100000}},
    {"ints.u32", QS_DT_U32, 1, {1}, 1, {4000000000.0f}},
    {"ints.i64", QS_DT_I64, 1, {2}, 2, {-1099511627776.0f, 5}},
    {"ints.u64", QS_DT_U64, 1, {1}, 1, {9007199254740992.0f}},
    {"f64", QS_DT_F64, 1, {2}, 2, {0.1f, -INFINITY}},
    {"mask", QS_DT_BOOL, 1, {3}, 3, {1, 0, 1}},
    {"scalar", QS_DT_F32, 0, {0}, 1, {7.32f}},
    {"empty", QS_DT_F32, 2, {0, 4}, 0, {0}},
};
#define NMODEL (int)(sizeof model / sizeof model[0])

Test(io_safetensors, model_lists_and_reads_every_tensor)
{
    qs_file *f = open_ok("model.safetensors");
    cr_expect_str_eq(f->format, "safetensors");
    cr_assert_eq(f->n, NMODEL, "%d tensors, want %d", f->n, NMODEL);
    for (int i = 0; i < NMODEL; i++) {
        const qs_entry *e = &f->entries[i];
        cr_expect_str_eq(e->name, model[i].name);
        cr_expect_eq(e->dtype, model[i].dt, "%s: dtype %s", e->name, qs_dtype_name(e->dtype));
        cr_expect_eq(e->nbytes, (uint64_t)model[i].n * qs_dtype_size(model[i].dt));
        cr_expect_eq(qs_file_find(f, model[i].name), i);
        qs_tensor *t = read_ok(f, i);
        cr_expect_str_eq(t->name, model[i].name);
        expect_shape(t, model[i].ndim, model[i].shape);
        expect_values(t, model[i].v, model[i].n);
        qs_tensor_free(t);
    }
    cr_expect_eq(f->nmeta, 2);
    cr_expect_str_eq(meta_get(f, "format"), "pt");
    cr_expect_str_eq(meta_get(f, "source"), "qscope fixture");
    cr_expect_eq(qs_file_find(f, "encoder/layer.0"), -1);
    cr_expect_eq(qs_file_find(f, "__metadata__"), -1);
    qs_file_close(f);
}

Test(io_safetensors, mlp_matches_numpy_golden)
{
    FILE *g = fopen("tests/golden/io_mlp.txt", "r");
    cr_assert_not_null(g, "tests/golden/io_mlp.txt missing");
    qs_file *f = open_ok("mlp.safetensors");
    char line[4096];
    int checked = 0;
    while (fgets(line, sizeof line, g)) {
        if (line[0] == '#' || strncmp(line, "stats ", 6) == 0) continue;
        char name[64];
        int n, off;
        cr_assert_eq(sscanf(line, "%63s %d%n", name, &n, &off), 2, "bad golden line: %s", line);
        cr_assert(n > 0 && n <= 64);
        float want[64];
        char *p = line + off;
        for (int i = 0; i < n; i++) want[i] = strtof(p, &p);
        int idx = qs_file_find(f, name);
        cr_assert_geq(idx, 0, "%s not found", name);
        qs_tensor *t = read_ok(f, idx);
        expect_values(t, want, n);
        qs_tensor_free(t);
        checked++;
    }
    fclose(g);
    cr_expect_eq(checked, 4);
    qs_file_close(f);
}

/* ---- text -------------------------------------------------------------------------------- */

Test(io_text, csv_with_comments_header_and_mixed_separators)
{
    const float w[] = {1, 2, 3, 4.5f, -5, 0.6f, 7, 8, 9};
    check_single("table.csv", "table", QS_DT_TEXT, 2, (int64_t[]){3, 3}, w, 9);
    qs_file *f = open_ok("table.csv");
    cr_expect_str_eq(f->format, "text");
    cr_expect_str_eq(meta_get(f, "header"), "x,y,z");
    cr_expect_null(f->map, "text files are not kept mapped");
    qs_file_close(f);
}

Test(io_text, one_d_shapes)
{
    const float w6[] = {1, 2, 3, 4, 5, 6}, w3[] = {1, 2, 3};
    check_single("ragged.txt", "ragged", QS_DT_TEXT, 1, (int64_t[]){6}, w6, 6);
    check_single("column.txt", "column", QS_DT_TEXT, 1, (int64_t[]){3}, w3, 3);
    check_single("row.tsv", "row", QS_DT_TEXT, 1, (int64_t[]){3}, w3, 3);
    const float ws[] = {NAN, INFINITY, -INFINITY, INFINITY, 2.5f};
    check_single("special.txt", "special", QS_DT_TEXT, 1, (int64_t[]){5}, ws, 5);
}

/* ---- malformed files --------------------------------------------------------------------- */

static const struct {
    const char *file;   /* in tests/fixtures */
    const char *want;   /* a substring of the message */
} bad[] = {
    {"empty.npy", "empty file"},
    {"empty.safetensors", "empty file"},
    {"npy_bad_magic.npy", "bad magic"},
    {"npy_bad_dict.npy", "fortran_order must be True or False at column"},
    {"npy_trunc_data.npy", "truncated data: shape [10] of <f4 needs 40 bytes, the file has 12"},
    {"npy_trunc_header.npy", "truncated header: header length 200 goes past the end"},
    {"npy_tiny.npy", "truncated header: the file is 4 bytes"},
    {"npy_bad_dtype.npy", "unsupported dtype '<c8'"},
    {"npy_overflow.npy", "shape [1099511627776, 1099511627776]: the element count overflows"},
    {"npy_dim_overflow.npy", "dimension too large"},
    {"npy_missing_key.npy", "missing key 'shape'"},
    {"npy_dup_key.npy", "duplicate key 'descr'"},
    {"npy_9dims.npy", "more than 8 dimensions"},
    {"npy_trailing.npy", "24 bytes of data, but shape [5] of <f4 needs 20"},
    {"npy_version.npy", "unsupported .npy format version 4.0"},
    {"npy_structured.npy", "structured dtypes are not supported"},
    {"npy_junk_after.npy", "unexpected text after the dict"},
    {"st_trunc_header.safetensors", "truncated header: the file is 5 bytes"},
    {"st_header_past_eof.safetensors", "header length 1000 goes past the end of the file"},
    {"st_header_too_big.safetensors", "header length 200000000 exceeds the limit"},
    {"st_not_brace.safetensors", "does not start with '{'"},
    {"st_offsets_range.safetensors",
     "st_offsets_range.safetensors: tensor 'fc1.weight' data_offsets [0, 400] exceed the data "
     "size 312"},
    {"st_overlap.safetensors",
     "tensors 'a' data_offsets [0, 16] and 'b' data_offsets [8, 24] overlap"},
    {"st_hole.safetensors", "data bytes [8, 12) belong to no tensor"},
    {"st_trailing.safetensors", "data bytes [8, 12) belong to no tensor"},
    {"st_numel_overflow.safetensors",
     "tensor 'a' shape [4294967296, 4294967296]: the element count overflows"},
    {"st_shape_mismatch.safetensors",
     "tensor 'fc1.weight' shape [2, 3] of F32 needs 24 bytes but data_offsets [0, 20] hold 20"},
    {"st_unknown_dtype.safetensors", "tensor 'a' has unknown dtype 'F128'"},
    {"st_invalid_json.safetensors", "invalid JSON header at byte"},
    {"st_invalid_utf8.safetensors", "invalid JSON header"},
    {"st_duplicate.safetensors", "duplicate tensor name"},
    {"st_neg_dim.safetensors", "tensor 'a' shape entry 0 is not an integer >= 0"},
    {"st_9dims.safetensors", "tensor 'a' has 9 dimensions"},
    {"st_meta_nonstring.safetensors", "__metadata__ value of 'k' is not a string"},
    {"st_no_offsets.safetensors", "tensor 'a' needs data_offsets [begin, end]"},
    {"st_offsets_reversed.safetensors", "data_offsets [4, 0] end before they begin"},
    {"bad_token.csv", "bad_token.csv:3: 'abc' is not a number"},
    {"empty_field.csv", "empty_field.csv:1: empty field"},
    {"no_numbers.txt", "no_numbers.txt: no numbers found"},
    {"binary.txt", "binary.txt:1: a NUL byte"},
    {"mixed_header.csv", "mixed_header.csv:1: 'x' is not a number"},
};

Test(io_bad, every_malformed_fixture_fails_with_a_precise_message)
{
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, FIX "%s", bad[i].file);
        qs_file *f = NULL;
        qs_err err = {""};
        int rc = qs_file_open(path, &f, &err);
        cr_expect_eq(rc, QS_ERR, "%s: opened, but should fail with '%s'", bad[i].file,
                     bad[i].want);
        cr_expect_null(f);
        if (rc != QS_ERR) {
            qs_file_close(f);
            continue;
        }
        cr_expect(strncmp(err.msg, path, strlen(path)) == 0, "%s: message does not start "
                  "with the path: %s", bad[i].file, err.msg);
        cr_expect(strstr(err.msg, bad[i].want) != NULL, "%s: message '%s' lacks '%s'",
                  bad[i].file, err.msg, bad[i].want);
        cr_expect(strchr(err.msg, '\n') == NULL, "%s: message has a newline", bad[i].file);
    }
}

Test(io_bad, jansson_reports_the_utf8_problem)
{
    qs_file *f = NULL;
    qs_err err = {""};
    cr_assert_eq(qs_file_open(FIX "st_invalid_utf8.safetensors", &f, &err), QS_ERR);
    cr_expect(strstr(err.msg, "0xff") || strstr(err.msg, "UTF-8") || strstr(err.msg, "decode"),
              "no UTF-8 detail in: %s", err.msg);
}

Test(io_bad, missing_directory_and_bad_index)
{
    qs_file *f = NULL;
    qs_err err = {""};
    cr_expect_eq(qs_file_open(FIX "does_not_exist.npy", &f, &err), QS_ERR);
    cr_expect(strstr(err.msg, "does_not_exist.npy: No such file") != NULL, "%s", err.msg);
    cr_expect_eq(qs_file_open("tests/unit", &f, &err), QS_ERR);
    cr_expect(strstr(err.msg, "tests/unit: is a directory without model.safetensors") != NULL,
              "%s", err.msg);
    cr_expect_eq(qs_file_open_mem("m.npy", "", 0, &f, &err), QS_ERR);
    cr_expect(strstr(err.msg, "m.npy: empty file") != NULL, "%s", err.msg);
    cr_expect_eq(qs_file_open_mem("blob.bin", "\x01\x02\x03\x04", 4, &f, &err), QS_ERR);
    cr_expect(strstr(err.msg, "blob.bin: unrecognised format") != NULL, "%s", err.msg);

    cr_expect_eq(qs_file_open_mem("m.gguf", "GGUF\3\0\0\0", 8, &f, &err), QS_ERR);
    cr_expect(strstr(err.msg, "m.gguf: truncated: the tensor count needs 8 bytes") != NULL,
              "%s", err.msg);

    f = open_ok("npy_f4_c.npy");
    qs_tensor *t = NULL;
    cr_expect_eq(qs_file_read(f, 1, &t, &err), QS_ERR);
    cr_expect_null(t);
    cr_expect(strstr(err.msg, "npy_f4_c.npy: no tensor number 1 (the file has 1)") != NULL,
              "%s", err.msg);
    cr_expect_eq(qs_file_read(f, -1, &t, &err), QS_ERR);
    qs_file_close(f);
    qs_file_close(NULL);
}

/* Found by fuzz_io: names and JSON excerpts with control bytes must not break the one-line
 * message. */
Test(io_bad, control_bytes_in_messages_are_replaced)
{
    static const char npy[] = "\x93NUMPY\x01\x00\x20\x00{'de\nscr': '<f4'}             \n";
    static const char st[] = "\x10\0\0\0\0\0\0\0{\"a\":1,\n\x01x}   ";
    static const char csv[] = "1,2\n3,a\tb\x01c\n";
    const struct { const char *name, *buf; size_t len; } cases[] = {
        {"n.npy", npy, sizeof npy - 1}, {"s.safetensors", st, sizeof st - 1},
        {"c.csv", csv, sizeof csv - 1},
    };
    for (int i = 0; i < 3; i++) {
        qs_file *f = NULL;
        qs_err err = {""};
        cr_expect_eq(qs_file_open_mem(cases[i].name, cases[i].buf, cases[i].len, &f, &err),
                     QS_ERR, "%s opened", cases[i].name);
        for (const char *c = err.msg; *c; c++)
            cr_expect((unsigned char)*c >= 0x20, "%s: control byte in '%s'", cases[i].name,
                      err.msg);
        cr_expect(strncmp(err.msg, cases[i].name, strlen(cases[i].name)) == 0, "%s", err.msg);
    }
}

/* Every proper prefix of a binary fixture must fail cleanly (never crash, never read past
 * the buffer: the buffer is a fresh heap copy of exactly that length, so ASan would see it). */
Test(io_bad, every_truncation_fails_cleanly)
{
    static const char *files[] = {"model.safetensors", "mlp.safetensors", "npy_f4_c.npy",
                                  "npy_f8_fortran.npy", "npy_v2.npy", "npy_v3.npy",
                                  "npy_py2.npy"};
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        size_t len;
        uint8_t *all = slurp(files[k], &len);
        for (size_t cut = 0; cut < len; cut++) {
            uint8_t *b = malloc(cut ? cut : 1);
            memcpy(b, all, cut);
            qs_file *f = NULL;
            qs_err err = {""};
            int rc = qs_file_open_mem(files[k], b, cut, &f, &err);
            cr_expect_eq(rc, QS_ERR, "%s cut at %zu opened", files[k], cut);
            if (rc == QS_OK) qs_file_close(f);
            else cr_expect(strncmp(err.msg, files[k], strlen(files[k])) == 0, "%s", err.msg);
            free(b);
        }
        free(all);
    }
}

/* Byte mutations of the good binary fixtures: whatever opens must read without crashing. */
Test(io_bad, mutated_bytes_never_crash)
{
    static const char *files[] = {"model.safetensors", "npy_f8_fortran.npy",
                                  "npy_i2_be_fortran.npy", "table.csv"};
    static const uint8_t vals[] = {0x00, 0xff, '{', '}', '"', ',', '9', ' ', 0x80, '\n'};
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        size_t len;
        uint8_t *orig = slurp(files[k], &len);
        uint8_t *b = malloc(len);
        for (size_t pos = 0; pos < len; pos++) {
            for (size_t v = 0; v < sizeof vals; v++) {
                memcpy(b, orig, len);
                b[pos] = vals[v];
                qs_file *f = NULL;
                qs_err err = {""};
                if (qs_file_open_mem(files[k], b, len, &f, &err) != QS_OK) {
                    cr_expect(err.msg[0] != '\0', "%s: empty message", files[k]);
                    continue;
                }
                for (int i = 0; i < f->n; i++) {
                    qs_tensor *t = NULL;
                    if (f->entries[i].n > 1000000) continue;     /* keep it quick */
                    if (qs_file_read(f, i, &t, &err) == QS_OK) qs_tensor_free(t);
                }
                qs_file_close(f);
            }
        }
        free(b);
        free(orig);
    }
}

/* Every F16, BF16 and FP8 bit pattern in a safetensors buffer decodes as numfmt says. */
Test(io_safetensors, small_floats_agree_with_numfmt_on_every_pattern)
{
    static const struct { const char *name, *dt; qs_fmt_id fmt; int bytes; } kinds[] = {
        {"f16", "F16", QS_FMT_FP16, 2}, {"bf16", "BF16", QS_FMT_BF16, 2},
        {"e4m3", "F8_E4M3", QS_FMT_E4M3, 1}, {"e5m2", "F8_E5M2", QS_FMT_E5M2, 1},
    };
    char hdr[1024];
    int hl = 0;
    size_t off = 0;
    hl += snprintf(hdr + hl, sizeof hdr - (size_t)hl, "{");
    for (int k = 0; k < 4; k++) {
        size_t n = (size_t)1 << (8 * kinds[k].bytes), nb = n * (size_t)kinds[k].bytes;
        hl += snprintf(hdr + hl, sizeof hdr - (size_t)hl,
                       "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[%zu],\"data_offsets\":[%zu,%zu]}",
                       k ? "," : "", kinds[k].name, kinds[k].dt, n, off, off + nb);
        off += nb;
    }
    hl += snprintf(hdr + hl, sizeof hdr - (size_t)hl, "}");
    size_t len = 8 + (size_t)hl + off;
    uint8_t *b = malloc(len), *d = b + 8 + hl;
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)((uint64_t)hl >> (8 * i));
    memcpy(b + 8, hdr, (size_t)hl);
    for (int k = 0; k < 4; k++)
        for (uint32_t p = 0; p < (1u << (8 * kinds[k].bytes)); p++) {
            *d++ = (uint8_t)p;
            if (kinds[k].bytes == 2) *d++ = (uint8_t)(p >> 8);
        }
    qs_file *f = NULL;
    qs_err err = {""};
    cr_assert_eq(qs_file_open_mem("all.safetensors", b, len, &f, &err), QS_OK, "%s", err.msg);
    for (int k = 0; k < 4; k++) {
        const qs_numfmt *nf = qs_numfmt_get(kinds[k].fmt);
        cr_assert_not_null(nf);
        qs_tensor *t = read_ok(f, k);
        int nbad = 0;
        for (uint32_t p = 0; p < (uint32_t)t->n && nbad < 5; p++) {
            double w = qs_numfmt_decode(nf, p);
            float g = t->data[p];
            int ok = isnan(w) ? isnan(g) : (g == (float)w && !signbit(g) == !signbit(w));
            cr_expect(ok, "%s pattern 0x%X: got %.9g, numfmt says %.9g", kinds[k].dt, p, g, w);
            nbad += !ok;
        }
        qs_tensor_free(t);
    }
    qs_file_close(f);
    free(b);
}

/* ---- memory buffers and big files -------------------------------------------------------- */

Test(io_mem, open_mem_matches_open)
{
    size_t len;
    uint8_t *b = slurp("model.safetensors", &len);
    qs_file *f = NULL;
    qs_err err = {""};
    cr_assert_eq(qs_file_open_mem("model.safetensors", b, len, &f, &err), QS_OK, "%s",
                 err.msg);
    cr_expect_eq(f->owns_map, 0);
    cr_assert_eq(f->n, NMODEL);
    qs_tensor *t = read_ok(f, 1);
    expect_values(t, model[1].v, model[1].n);
    qs_tensor_free(t);
    qs_file_close(f);
    free(b);

    b = slurp("table.csv", &len);
    cr_assert_eq(qs_file_open_mem("dir/table.csv", b, len, &f, &err), QS_OK, "%s", err.msg);
    cr_expect_str_eq(f->entries[0].name, "table");
    qs_file_close(f);
    free(b);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* A sparse 10 GiB safetensors file: opening must only read the header. */
Test(io_big, sparse_10gb_lists_in_well_under_a_second)
{
    char path[] = "/tmp/qscope_big_XXXXXX.safetensors";
    int fd = mkstemps(path, 12);
    cr_assert_geq(fd, 0);
    const uint64_t big = 10737418240ull;        /* 10 GiB of F32 */
    char hdr[512];
    int hl = snprintf(hdr, sizeof hdr,
                      "{\"big\":{\"dtype\":\"F32\",\"shape\":[%llu],\"data_offsets\":[0,%llu]},"
                      "\"tail\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[%llu,%llu]}}",
                      (unsigned long long)(big / 4), (unsigned long long)big,
                      (unsigned long long)big, (unsigned long long)(big + 8));
    while (hl % 8) hdr[hl++] = ' ';
    uint8_t len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)hl >> (8 * i));
    float tail[2] = {1.5f, -2.0f};
    int ok = write(fd, len8, 8) == 8 && write(fd, hdr, (size_t)hl) == hl &&
             pwrite(fd, tail, sizeof tail, (off_t)(8 + hl + big)) == (ssize_t)sizeof tail;
    close(fd);
    if (!ok) {
        unlink(path);
        cr_skip_test("cannot write a sparse file in /tmp");
    }
    double t0 = now();
    qs_file *f = NULL;
    qs_err err = {""};
    int rc = qs_file_open(path, &f, &err);
    double dt = now() - t0;
    unlink(path);
    cr_assert_eq(rc, QS_OK, "%s", err.msg);
    cr_expect_lt(dt, 0.2, "open took %.3f s", dt);
    cr_assert_eq(f->n, 2);
    cr_expect_eq(f->entries[0].nbytes, big);
    cr_expect_eq(f->entries[0].n, (int64_t)(big / 4));
    qs_tensor *t = read_ok(f, 1);
    const float w[] = {1.5f, -2.0f};
    expect_values(t, w, 2);
    qs_tensor_free(t);
    qs_file_close(f);
}

/* numpy reads 'shape' with Python's rules: (3) is the int 3, which it refuses ("shape is not
 * valid"); (3,) is the one-dimensional shape. qscope took (3) as [3]. */
Test(io_npy, one_dim_shape_needs_its_comma)
{
    static const struct { const char *shape; int ok; int ndim; } cases[] = {
        {"(3)", 0, 0}, {"( 3 )", 0, 0}, {"(3,)", 1, 1}, {"(3 ,)", 1, 1}, {"(1, 3)", 1, 2},
        {"(1, 3,)", 1, 2}, {"()", 1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char h[128];
        int hl = snprintf(h, sizeof h, "{'descr': '<f4', 'fortran_order': False, 'shape': %s}",
                          cases[i].shape);
        uint8_t b[256] = "\x93NUMPY\x01\x00";
        b[8] = (uint8_t)hl;
        b[9] = 0;
        memcpy(b + 10, h, (size_t)hl);
        size_t n = cases[i].ndim == 2 ? 3 : cases[i].ndim == 1 ? 3 : 1;
        memset(b + 10 + hl, 0, n * 4);
        qs_file *f = NULL;
        qs_err err = {""};
        int rc = qs_file_open_mem("s.npy", b, 10 + (size_t)hl + n * 4, &f, &err);
        if (cases[i].ok) {
            cr_expect_eq(rc, QS_OK, "%s: %s", cases[i].shape, err.msg);
            if (f) cr_expect_eq(f->entries[0].ndim, cases[i].ndim, "%s", cases[i].shape);
        } else {
            cr_expect_eq(rc, QS_ERR, "%s was taken as a shape", cases[i].shape);
            cr_expect(strstr(err.msg, "s.npy: bad .npy header dict: a one-dimensional shape "
                             "needs its comma, as in (3,)") != NULL, "%s", err.msg);
        }
        qs_file_close(f);
    }
}
