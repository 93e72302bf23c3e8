/* test_export.c — the model commands: `export` round trips (safetensors header padded to 8,
 * contiguous offsets, codes equal to an independent computation of the scheme; npy + JSON;
 * GGUF blocks equal to the numpy reference bytes), never overwriting without --force, no
 * temporary files left; `report` sorted worst first; `blocks` on a stored GGUF block. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qscope/cmd.h"
#include "qscope/ggml.h"
#include "qscope/io.h"
#include "golden.h"

#define GGUF_GOLD "tests/golden/gguf_ref.txt"

#define FIX "tests/fixtures/"

static qs_session S;
static char dir[64];

static void setup(void)
{
    qs_session_init(&S);
    snprintf(dir, sizeof dir, "/tmp/qscope_export_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
    qs_session_fini(&S);
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || !strcmp(e->d_name, ".."))) continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d) closedir(d);
    rmdir(dir);
}

TestSuite(export, .init = setup, .fini = teardown);

static json_t *run(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    json_t *o = NULL;
    qs_err err = {""};
    cr_assert_eq(qs_cmd_run_line(&S, line, &o, NULL, &err), QS_OK, "%s: %s", line, err.msg);
    return o;
}

static int run_fails(const char *line, qs_err *err)
{
    json_t *o = NULL;
    int rc = qs_cmd_run_line(&S, line, &o, NULL, err);
    json_decref(o);
    return rc;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static int no_temp_files(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int clean = 1;
    while ((e = readdir(d)))
        if (e->d_name[0] == '.' && e->d_name[1] && strcmp(e->d_name, "..")) clean = 0;
    closedir(d);
    return clean;
}

/* torch symmetric int8 per-channel, computed here from the rule (REFERENCE.md):
 * scale = max(amax / 127.5, eps), q = clamp(nearbyint(x * (1/scale)), -128, 127). */
static void expected_codes(const float *x, int rows, int cols, int8_t *q, float *scale)
{
    for (int r = 0; r < rows; r++) {
        float amax = 0;
        for (int c = 0; c < cols; c++) amax = fmaxf(amax, fabsf(x[r * cols + c]));
        float s = amax / 127.5f;
        if (s < 1.1920929e-07f) s = 1.1920929e-07f;
        scale[r] = s;
        float inv = 1.0f / s;
        for (int c = 0; c < cols; c++) {
            float v = nearbyintf(x[r * cols + c] * inv);
            q[r * cols + c] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
        }
    }
}

Test(export, safetensors_round_trip_and_reference_rules)
{
    json_decref(run("load " FIX "model.gguf srcK"));
    json_decref(run("scheme int8 sym per-channel axis=0"));
    char path[256];
    snprintf(path, sizeof path, "%s/w.safetensors", dir);
    json_t *o = run("export %s", path);
    cr_expect_str_eq(json_string_value(json_object_get(o, "dtype")), "I8");
    json_decref(o);
    cr_expect(no_temp_files());

    /* the reference rules: header length a multiple of 8, offsets contiguous from 0 */
    size_t len;
    uint8_t *b = slurp(path, &len);
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = hl << 8 | b[i];
    cr_expect_eq(hl % 8, 0u);
    json_error_t je;
    json_t *h = json_loadb((const char *)b + 8, (size_t)hl, 0, &je);
    cr_assert_not_null(h, "%s", je.text);
    uint64_t at = 0, dsize = len - 8 - hl;
    const char *names[] = {"srcK", "srcK.scale", "srcK.zero_point"};
    for (int i = 0; i < 3; i++) {
        json_t *e = json_object_get(h, names[i]);
        cr_assert_not_null(e, "%s", names[i]);
        json_t *off = json_object_get(e, "data_offsets");
        cr_expect_eq((uint64_t)json_integer_value(json_array_get(off, 0)), at);
        at = (uint64_t)json_integer_value(json_array_get(off, 1));
    }
    cr_expect_eq(at, dsize, "no hole after the last tensor");
    json_t *meta = json_object_get(h, "__metadata__");
    cr_expect_str_eq(json_string_value(json_object_get(meta, "granularity")), "per-channel");
    cr_expect_str_eq(json_string_value(json_object_get(meta, "qmin")), "-128");
    json_decref(h);
    free(b);

    /* reload: codes and scales equal the rule computed here */
    int64_t n;
    float *x = golden_f(GGUF_GOLD, "srcK", &n);
    int8_t want[512];
    float scale[2];
    expected_codes(x, 2, 256, want, scale);
    qs_file *f = NULL;
    qs_err err = {""};
    cr_assert_eq(qs_file_open(path, &f, &err), QS_OK, "%s", err.msg);
    qs_tensor *t = NULL;
    cr_assert_eq(qs_file_read(f, qs_file_find(f, "srcK"), &t, &err), QS_OK, "%s", err.msg);
    cr_expect_eq(t->src_dtype, QS_DT_I8);
    for (int i = 0; i < 512; i++) cr_expect_eq(t->data[i], (float)want[i], "code %d", i);
    qs_tensor_free(t);
    cr_assert_eq(qs_file_read(f, qs_file_find(f, "srcK.scale"), &t, &err), QS_OK);
    cr_expect_eq(t->data[0], scale[0]);
    cr_expect_eq(t->data[1], scale[1]);
    qs_tensor_free(t);
    cr_assert_eq(qs_file_read(f, qs_file_find(f, "srcK.zero_point"), &t, &err), QS_OK);
    cr_expect_eq(t->data[0], 0.f);
    qs_tensor_free(t);
    qs_file_close(f);
    free(x);
}

Test(export, never_overwrites_without_force)
{
    json_decref(run("values -20 0 250 1000"));
    char path[256], line[300];
    snprintf(path, sizeof path, "%s/v.safetensors", dir);
    FILE *fp = fopen(path, "w");
    fputs("precious", fp);
    fclose(fp);
    qs_err err = {""};
    snprintf(line, sizeof line, "export %s", path);
    cr_expect_eq(run_fails(line, &err), QS_ERR);
    cr_expect(strstr(err.msg, "already exists (add --force to replace it)") != NULL, "%s",
              err.msg);
    size_t len;
    uint8_t *b = slurp(path, &len);
    cr_expect_eq(len, 8u);
    cr_expect(!memcmp(b, "precious", 8));
    free(b);
    json_t *o = run("export %s --force", path);
    cr_expect(json_is_true(json_object_get(o, "replaced")));
    json_decref(o);
    b = slurp(path, &len);
    cr_expect_gt(len, 8u);
    free(b);
    cr_expect(no_temp_files());
    /* uint8 affine: the seeds' example, -20 -> 0, 1000 -> 255, zero point 5 */
    qs_file *f = NULL;
    cr_assert_eq(qs_file_open(path, &f, &err), QS_OK, "%s", err.msg);
    qs_tensor *t = NULL;
    cr_assert_eq(qs_file_read(f, 0, &t, &err), QS_OK);
    cr_expect_eq(t->src_dtype, QS_DT_I8);     /* default scheme int8 asym: -128..127 */
    cr_expect_eq(t->data[0], -128.f);
    cr_expect_eq(t->data[3], 127.f);
    qs_tensor_free(t);
    qs_file_close(f);
    snprintf(line, sizeof line, "export %s/x.bin", dir);
    cr_expect_eq(run_fails(line, &err), QS_ERR);
    cr_expect(strstr(err.msg, "cannot tell the format") != NULL, "%s", err.msg);
    snprintf(line, sizeof line, "export %s/y.npy --bogus", dir);
    cr_expect_eq(run_fails(line, &err), QS_ERR);
    cr_expect(strstr(err.msg, "unknown option '--bogus'") != NULL, "%s", err.msg);
}

Test(export, npy_with_json_side_file)
{
    json_decref(run("values -20 0 250 1000"));
    json_decref(run("scheme uint8"));
    char path[256], jpath[300];
    snprintf(path, sizeof path, "%s/c.npy", dir);
    snprintf(jpath, sizeof jpath, "%s.json", path);
    json_decref(run("export %s", path));
    qs_file *f = NULL;
    qs_err err = {""};
    cr_assert_eq(qs_file_open(path, &f, &err), QS_OK, "%s", err.msg);
    qs_tensor *t = NULL;
    cr_assert_eq(qs_file_read(f, 0, &t, &err), QS_OK);
    cr_expect_eq(t->src_dtype, QS_DT_U8);
    /* scale 4, zero point 5 (REFERENCE.md); 250/4 = 62.5 rounds to even: 5 + 62 */
    const float want[] = {0, 5, 67, 255};
    for (int i = 0; i < 4; i++) cr_expect_eq(t->data[i], want[i], "%d: %g", i, t->data[i]);
    qs_tensor_free(t);
    qs_file_close(f);
    json_error_t je;
    json_t *side = json_load_file(jpath, 0, &je);
    cr_assert_not_null(side, "%s", je.text);
    cr_expect_float_eq(json_real_value(json_array_get(json_object_get(side, "scale"), 0)), 4.0,
                       1e-6);
    cr_expect_eq(json_integer_value(json_array_get(json_object_get(side, "zero_point"), 0)), 5);
    json_decref(side);
}

Test(export, gguf_blocks_equal_numpy_reference)
{
    json_decref(run("load " FIX "model.gguf src32"));
    char path[256];
    snprintf(path, sizeof path, "%s/q.gguf", dir);
    json_t *o = run("export %s --type q8_0", path);
    cr_expect_str_eq(json_string_value(json_object_get(o, "type")), "Q8_0");
    json_decref(o);
    qs_file *f = NULL;
    qs_err err = {""};
    cr_assert_eq(qs_file_open(path, &f, &err), QS_OK, "%s", err.msg);
    cr_assert_eq(f->n, 1);
    cr_expect_eq(f->entries[0].dtype, QS_DT_Q8_0);
    cr_expect_eq(f->entries[0].shape[0], 2);
    cr_expect_eq(f->entries[0].shape[1], 32);
    int64_t nb, nv;
    float *bytes = golden_f(GGUF_GOLD, "bytes.q8_0", &nb);
    cr_assert_eq((int64_t)f->entries[0].nbytes, nb);
    for (int64_t i = 0; i < nb; i++)
        cr_expect_eq(f->map[f->entries[0].offset + (size_t)i], (uint8_t)bytes[i], "byte %lld",
                     (long long)i);
    float *vals = golden_f(GGUF_GOLD, "blk.0.q8_0", &nv);
    qs_tensor *t = NULL;
    cr_assert_eq(qs_file_read(f, 0, &t, &err), QS_OK);
    for (int64_t i = 0; i < nv; i++) cr_expect_eq(t->data[i], vals[i]);
    qs_tensor_free(t);
    qs_file_close(f);
    free(bytes);
    free(vals);
    /* rows that are not whole blocks are refused */
    json_decref(run("values 1 2 3"));
    char line[300];
    snprintf(line, sizeof line, "export %s/r.gguf", dir);
    cr_expect_eq(run_fails(line, &err), QS_ERR);
    cr_expect(strstr(err.msg, "multiple of 32") != NULL, "%s", err.msg);
}

Test(export, report_sorted_worst_first)
{
    json_decref(run("load " FIX "model.gguf"));
    json_t *o = run("report int4 sym");
    json_t *rows = json_object_get(o, "rows");
    cr_assert_eq(json_array_size(rows), 14u);     /* the IQ2_XS tensor is skipped */
    double prev = -INFINITY;
    for (size_t i = 0; i < json_array_size(rows); i++) {
        json_t *r = json_array_get(rows, i);
        json_t *q = json_object_get(r, "sqnr_db");
        double v = json_is_null(q) ? INFINITY : json_real_value(q);
        cr_expect_geq(v, prev, "row %zu not sorted", i);
        prev = v;
        cr_expect_not_null(json_object_get(r, "mse"));
        cr_expect_not_null(json_object_get(r, "max_abs_err"));
    }
    json_t *sk = json_object_get(o, "skipped");
    cr_assert_eq(json_array_size(sk), 1u);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(sk, 0), "tensor")),
                     "unsupported.iq2_xs");
    json_decref(o);
    /* 4 bits lose more than 8: every tensor's SQNR drops */
    o = run("report q8_0");
    json_t *o4 = run("report q4_0");
    cr_expect_gt(json_real_value(json_object_get(o, "overall_sqnr_db")),
                 json_real_value(json_object_get(o4, "overall_sqnr_db")) + 15);
    json_decref(o);
    json_decref(o4);
}

Test(export, blocks_of_a_stored_tensor)
{
    json_decref(run("load " FIX "model.gguf blk.0.q4_k"));
    json_t *o = run("blocks block=1");
    cr_expect_str_eq(json_string_value(json_object_get(o, "type")), "Q4_K");
    cr_expect_str_eq(json_string_value(json_object_get(o, "source")), "stored in the file");
    cr_expect_eq(json_array_size(json_object_get(o, "subblocks")), 8u);
    int64_t n;
    float *want = golden_f(GGUF_GOLD, "blk.0.q4_k", &n);
    json_t *vals = json_object_get(o, "values");
    for (int i = 0; i < 256; i++)
        cr_expect_eq((float)json_real_value(json_array_get(vals, (size_t)i)), want[256 + i]);
    free(want);
    json_decref(o);
    o = run("blocks q6_k");
    cr_expect_str_eq(json_string_value(json_object_get(o, "source")), "quantized by qscope");
    cr_expect_lt(json_real_value(json_object_get(o, "max_abs_err")), 0.01);
    json_decref(o);
    qs_err err = {""};
    cr_expect_eq(run_fails("blocks block=5", &err), QS_ERR);
    cr_expect(strstr(err.msg, "block=5 is past the last block (2 blocks of 256)") != NULL, "%s",
              err.msg);
}

/* --all: every tensor of the loaded file; GGUF keeps rows that are not whole blocks as F32. */
Test(export, all_tensors)
{
    json_decref(run("load " FIX "model.gguf"));
    json_decref(run("scheme int8 sym"));
    char path[256], line[300];
    qs_err err = {""};
    snprintf(line, sizeof line, "export %s/all.safetensors --all", dir);
    cr_expect_eq(run_fails(line, &err), QS_ERR);     /* the IQ2_XS tensor cannot be read */
    cr_expect(strstr(err.msg, "IQ2_XS") != NULL, "%s", err.msg);
    cr_expect(no_temp_files());

    json_decref(run("load " FIX "torch_sd.pt"));
    snprintf(path, sizeof path, "%s/all.safetensors", dir);
    json_decref(run("export %s --all", path));
    qs_file *f = NULL;
    cr_assert_eq(qs_file_open(path, &f, &err), QS_OK, "%s", err.msg);
    cr_expect_eq(f->n, 3 * 8);
    cr_expect_geq(qs_file_find(f, "view.zero_point"), 0);
    qs_file_close(f);

    snprintf(path, sizeof path, "%s/all.gguf", dir);
    json_t *o = run("export %s --all --type q8_0", path);
    cr_expect_eq(json_integer_value(json_object_get(o, "n_tensors")), 8);
    cr_expect_eq(json_integer_value(json_object_get(o, "n_quantized")), 0);  /* rows < 32 */
    json_decref(o);
    cr_assert_eq(qs_file_open(path, &f, &err), QS_OK, "%s", err.msg);
    int i = qs_file_find(f, "bias");
    cr_assert_geq(i, 0);
    cr_expect_eq(f->entries[i].dtype, QS_DT_F32);
    qs_tensor *t = NULL, *src = NULL;
    cr_assert_eq(qs_file_read(f, i, &t, &err), QS_OK);
    qs_file *g = NULL;
    cr_assert_eq(qs_file_open(FIX "torch_sd.pt", &g, &err), QS_OK);
    cr_assert_eq(qs_file_read(g, qs_file_find(g, "bias"), &src, &err), QS_OK);
    for (int k = 0; k < 4; k++) cr_expect_eq(t->data[k], src->data[k]);
    qs_tensor_free(t);
    qs_tensor_free(src);
    qs_file_close(g);
    qs_file_close(f);
    cr_expect(no_temp_files());
}

/* The ggml table: every default row, bits as ggml's block sizes give them, and the numbers of
 * the q8_0 row equal to the statistics of the numpy round trip. */
Test(export, ggml_table)
{
    json_decref(run("load " FIX "model.gguf src32"));
    json_t *o = run("ggml");
    json_t *rows = json_object_get(o, "rows");
    cr_assert_eq(json_array_size(rows), 13u);
    static const struct { const char *f; double bits; } want[] = {
        {"q8_0", 8.5}, {"q6_k", 6.5625}, {"q5_1", 6.0}, {"q5_0", 5.5}, {"q4_k", 4.5},
        {"q4_1", 5.0}, {"q4_0", 4.5}};
    for (int i = 0; i < 7; i++) {
        json_t *r = json_array_get(rows, (size_t)i);
        cr_expect_str_eq(json_string_value(json_object_get(r, "format")), want[i].f);
        cr_expect_float_eq(json_real_value(json_object_get(r, "bits")), want[i].bits, 1e-12);
    }
    int64_t n;
    float *x = golden_f(GGUF_GOLD, "src32", &n), *y = golden_f(GGUF_GOLD, "blk.0.q8_0", &n);
    double e2 = 0, x2 = 0;
    for (int64_t i = 0; i < n; i++) {
        e2 += ((double)y[i] - x[i]) * ((double)y[i] - x[i]);
        x2 += (double)x[i] * x[i];
    }
    json_t *r = json_array_get(rows, 0);
    cr_expect_float_eq(json_real_value(json_object_get(r, "mse")), e2 / (double)n, 1e-15);
    cr_expect_float_eq(json_real_value(json_object_get(r, "sqnr_db")), 10 * log10(x2 / e2),
                       1e-9);
    json_decref(o);
    free(x);
    free(y);
    o = run("ggml q4_k 'int4 sym per-channel'");
    cr_expect_eq(json_array_size(json_object_get(o, "rows")), 2u);
    json_decref(o);
}
