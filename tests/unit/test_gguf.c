/* test_gguf.c — GGUF loading and the ggml block formats: tensors of tests/fixtures/model.gguf
 * against the dequantized values an independent numpy implementation computed
 * (tests/fixtures/make_model_fixtures.py -> tests/golden/gguf_ref.txt), qscope's quantizers
 * against the bytes that script's quantizers wrote, malformed files, sharded safetensors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/ggml.h"
#include "qscope/io.h"
#include "qscope/kernels.h"
#include "golden.h"

#define FIX "tests/fixtures/"
#define GOLD "tests/golden/gguf_ref.txt"

static qs_file *open_ok(const char *path)
{
    qs_file *f = NULL;
    qs_err err = {""};
    cr_assert_eq(qs_file_open(path, &f, &err), QS_OK, "%s", err.msg);
    return f;
}

static void expect_tensor(qs_file *f, const char *name, const char *gold)
{
    int i = qs_file_find(f, name);
    cr_assert_geq(i, 0, "no tensor %s", name);
    qs_tensor *t = NULL;
    qs_err err = {""};
    cr_assert_eq(qs_file_read(f, i, &t, &err), QS_OK, "%s", err.msg);
    int64_t n;
    float *want = golden_f(gold, name, &n);
    cr_assert_eq(t->n, n, "%s: %lld values, golden has %lld", name, (long long)t->n,
                 (long long)n);
    for (int64_t k = 0; k < n; k++)     /* %.9g round-trips float32 exactly */
        cr_assert_eq(t->data[k], want[k], "%s[%lld]: %.9g != %.9g", name, (long long)k,
                     (double)t->data[k], (double)want[k]);
    free(want);
    qs_tensor_free(t);
}

Test(gguf, header_and_metadata)
{
    qs_file *f = open_ok(FIX "model.gguf");
    cr_expect_str_eq(f->format, "gguf");
    cr_expect_eq(f->n, 15);
    int seen = 0;
    for (int i = 0; i < f->nmeta; i++) {
        if (!strcmp(f->meta[i].key, "general.architecture"))
            seen += !strcmp(f->meta[i].value, "llama");
        if (!strcmp(f->meta[i].key, "llama.context_length"))
            seen += !strcmp(f->meta[i].value, "4096");
        if (!strcmp(f->meta[i].key, "tokenizer.ggml.tokens"))
            seen += strstr(f->meta[i].value, "[10 string] <s>, </s>, a") != NULL;
        if (!strcmp(f->meta[i].key, "test.i64")) seen += !strcmp(f->meta[i].value, "-7");
    }
    cr_expect_eq(seen, 4);
    int q = qs_file_find(f, "blk.0.q4_k");
    cr_assert_geq(q, 0);
    cr_expect_eq(f->entries[q].dtype, QS_DT_Q4_K);
    cr_expect_eq(f->entries[q].ndim, 2);
    cr_expect_eq(f->entries[q].shape[0], 2);      /* ggml ne = [256, 2] -> C shape [2, 256] */
    cr_expect_eq(f->entries[q].shape[1], 256);
    cr_expect_eq(f->entries[q].nbytes, 288u);
    cr_expect_eq(f->entries[q].offset % 32, 0u);
    qs_file_close(f);
}

Test(gguf, version_2)
{
    qs_file *f = open_ok(FIX "model_v2.gguf");
    cr_assert_eq(f->n, 1);
    cr_expect_eq(f->entries[0].shape[0], 2);
    cr_expect_eq(f->entries[0].shape[1], 3);
    qs_tensor *t = NULL;
    qs_err err = {""};
    cr_assert_eq(qs_file_read(f, 0, &t, &err), QS_OK, "%s", err.msg);
    for (int i = 0; i < 6; i++) cr_expect_eq(t->data[i], (float)i);
    qs_tensor_free(t);
    qs_file_close(f);
}

Test(gguf, plain_and_block_tensors_match_numpy)
{
    static const char *names[] = {"src32", "srcK", "f16", "blk.0.q8_0", "blk.0.q4_0",
                                  "blk.0.q4_k", "blk.0.q6_k", "rand.q4_1", "rand.q5_0", "rand.q5_1",
                                  "rand.q2_k", "rand.q3_k", "rand.q5_k", "rand.q6_k"};
    qs_file *f = open_ok(FIX "model.gguf");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        expect_tensor(f, names[i], GOLD);
    qs_file_close(f);
}

Test(gguf, unsupported_type_listed_and_refused)
{
    qs_file *f = open_ok(FIX "model.gguf");
    int i = qs_file_find(f, "unsupported.iq2_xs");
    cr_assert_geq(i, 0);
    cr_expect_str_eq(f->entries[i].type_name, "IQ2_XS");
    qs_tensor *t = NULL;
    qs_err err = {""};
    cr_expect_eq(qs_file_read(f, i, &t, &err), QS_ERR);
    cr_expect(strstr(err.msg, "'unsupported.iq2_xs' has type IQ2_XS, which qscope cannot "
                              "dequantize") != NULL, "%s", err.msg);
    qs_file_close(f);
}

/* qscope's quantizers give the bytes the numpy implementation wrote, for the same floats. */
static void expect_quantize(int id, const char *src, const char *bytes)
{
    int64_t n, nb;
    float *x = golden_f(GOLD, src, &n);
    float *want = golden_f(GOLD, bytes, &nb);
    uint64_t len;
    qs_err err = {""};
    cr_assert_eq(qs_ggml_row_bytes(id, n, &len, &err), QS_OK, "%s", err.msg);
    cr_assert_eq((int64_t)len, nb);
    uint8_t *got = malloc(len);
    cr_assert_eq(qs_ggml_quantize(id, x, n, got, &err), QS_OK, "%s", err.msg);
    for (int64_t i = 0; i < nb; i++)
        cr_assert_eq(got[i], (uint8_t)want[i], "%s byte %lld: %u != %u", bytes, (long long)i,
                     got[i], (unsigned)want[i]);
    free(got);
    free(x);
    free(want);
}

Test(ggml, quantizers_match_numpy_bytes)
{
    expect_quantize(QS_GGML_Q8_0, "src32", "bytes.q8_0");
    expect_quantize(QS_GGML_Q4_0, "src32", "bytes.q4_0");
    expect_quantize(QS_GGML_Q4_K, "srcK", "bytes.q4_k");
    expect_quantize(QS_GGML_Q6_K, "srcK", "bytes.q6_k");
    expect_quantize(QS_GGML_Q4_1, "src32", "bytes.q4_1");
    expect_quantize(QS_GGML_Q5_0, "src32", "bytes.q5_0");
    expect_quantize(QS_GGML_Q5_1, "src32", "bytes.q5_1");
}

/* The engine hook: statistics of the numpy reference round trip of src32 under Q8_0. */
Test(ggml, tensor_errstats_hook)
{
    int64_t n, m;
    float *x = golden_f(GOLD, "src32", &n);
    float *y = golden_f(GOLD, "blk.0.q8_0", &m);
    cr_assert_eq(n, m);
    double e2 = 0, mx = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = (double)y[i] - x[i];
        e2 += e * e;
        if (fabs(e) > mx) mx = fabs(e);
    }
    qs_err err = {""};
    qs_tensor *t = qs_tensor_new("src32", 2, (int64_t[]){2, 32}, QS_DT_F32, &err);
    memcpy(t->data, x, 64 * sizeof(float));
    qs_errstats st;
    float out[64];
    cr_assert_eq(qs_ggml_tensor_errstats(QS_GGML_Q8_0, t, out, &st, &err), QS_OK, "%s", err.msg);
    cr_expect_eq(st.n, 64);
    cr_expect_float_eq(st.sum_e2, e2, 1e-12 + 1e-9 * e2);
    cr_expect_float_eq(st.max_abs_e, mx, 1e-12);
    for (int i = 0; i < 64; i++) cr_expect_eq(out[i], y[i]);
    qs_tensor_free(t);
    free(x);
    free(y);
}

Test(ggml, block_sizes_and_bits)
{
    cr_expect_eq(qs_ggml_type_info(QS_GGML_Q4_K)->bytes, (int)sizeof(qs_block_q4_K));
    cr_expect_eq(qs_ggml_type_info(QS_GGML_Q6_K)->bytes, (int)sizeof(qs_block_q6_K));
    cr_expect_float_eq(qs_ggml_bits_per_weight(QS_GGML_Q4_K), 4.5, 1e-12);
    cr_expect_float_eq(qs_ggml_bits_per_weight(QS_GGML_Q8_0), 8.5, 1e-12);
    cr_expect_float_eq(qs_ggml_bits_per_weight(QS_GGML_Q6_K), 6.5625, 1e-12);
    cr_expect_float_eq(qs_ggml_bits_per_weight(QS_GGML_Q2_K), 2.625, 1e-12);
    cr_expect_eq(qs_ggml_type_by_name("q4_k"), 12);
    cr_expect_eq(qs_ggml_type_by_name("Q5_1"), 7);
    cr_expect_eq(qs_ggml_type_by_name("q9_0"), -1);
    cr_expect_eq(qs_ggml_type_of_dtype(QS_DT_Q4_K), 12);
    cr_expect_eq(qs_ggml_type_of_dtype(QS_DT_F32), -1);
    cr_expect_eq(qs_ggml_type_of_dtype(QS_DT_COUNT), -1);     /* fuzz find: was Q4_2 */
    uint64_t b;
    qs_err err = {""};
    cr_expect_eq(qs_ggml_row_bytes(QS_GGML_Q4_K, 100, &b, &err), QS_ERR);
    cr_expect(strstr(err.msg, "Q4_K: 100 elements are not a whole number of 256-element") !=
              NULL, "%s", err.msg);
}

/* Hand-checked rules: Q8_0 rounds ties away from zero, Q4_0 keeps the sign of the max. */
Test(ggml, q8_0_and_q4_0_rules_by_hand)
{
    float x[32] = {0};
    x[0] = 127.f;       /* d = 1 exactly */
    x[1] = 2.5f;        /* roundf -> 3 (half away), not 2 */
    x[2] = -2.5f;       /* -> -3 */
    x[3] = 0.49999997f; /* -> 0 */
    qs_block_q8_0 b;
    qs_err err = {""};
    cr_assert_eq(qs_ggml_quantize(QS_GGML_Q8_0, x, 32, &b, &err), QS_OK);
    cr_expect_eq(b.d, 0x3c00);      /* fp16 1.0 */
    cr_expect_eq(b.qs[0], 127);
    cr_expect_eq(b.qs[1], 3);
    cr_expect_eq(b.qs[2], -3);
    cr_expect_eq(b.qs[3], 0);

    float y[32] = {0};
    y[5] = -8.f;        /* largest |x| is negative: d = -8/-8 = 1, so -8 -> code 0 */
    y[6] = 7.f;         /* 7/1 + 8.5 = 15.5 -> 15 */
    y[20] = 3.4f;       /* 11.9 -> 11 */
    qs_block_q4_0 q;
    cr_assert_eq(qs_ggml_quantize(QS_GGML_Q4_0, y, 32, &q, &err), QS_OK);
    cr_expect_eq(q.d, 0x3c00);
    cr_expect_eq(q.qs[5] & 15, 0);
    cr_expect_eq(q.qs[6] & 15, 15);
    cr_expect_eq(q.qs[4] >> 4, 11);  /* element 20 is the high nibble of byte 4 */
    float back[32];
    cr_assert_eq(qs_ggml_dequantize(QS_GGML_Q4_0, &q, 32, back, &err), QS_OK);
    cr_expect_eq(back[5], -8.f);
    cr_expect_eq(back[6], 7.f);
    cr_expect_eq(back[20], 3.f);
}

/* Every quantizer: a round trip stays within its step, NaN / Inf inputs stay defined. */
Test(ggml, fakequant_all_types_bounded)
{
    static const int ids[] = {QS_GGML_Q8_0, QS_GGML_Q4_0, QS_GGML_Q4_1, QS_GGML_Q5_0,
                              QS_GGML_Q5_1, QS_GGML_Q4_K, QS_GGML_Q6_K};
    static const double tol[] = {0.01, 0.15, 0.15, 0.07, 0.07, 0.15, 0.04};
    enum { N = 512 + 33 };
    float x[N], y[N];
    for (int i = 0; i < N; i++) x[i] = sinf((float)i * 0.37f) * (1.f + (float)(i % 7));
    for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
        qs_err err = {""};
        cr_assert_eq(qs_ggml_fakequant(ids[k], x, N, y, &err), QS_OK, "%s", err.msg);
        double worst = 0;
        for (int i = 0; i < N; i++) {
            double e = fabs((double)y[i] - x[i]) / 7.0;     /* relative to the block range */
            if (e > worst) worst = e;
        }
        cr_expect_leq(worst, tol[k], "type %d: worst error %g", ids[k], worst);
    }
    x[3] = NAN;
    x[4] = INFINITY;
    x[300] = -INFINITY;
    for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
        qs_err err = {""};
        cr_expect_eq(qs_ggml_fakequant(ids[k], x, N, y, &err), QS_OK, "%s", err.msg);
    }
}

Test(ggml, block_view_q4_k)
{
    int64_t n, nb;
    float *want = golden_f(GOLD, "blk.0.q4_k", &n);
    float *bytes = golden_f(GOLD, "bytes.q4_k", &nb);
    uint8_t raw[144];
    for (int i = 0; i < 144; i++) raw[i] = (uint8_t)bytes[i];
    qs_ggml_block_view v;
    qs_err err = {""};
    cr_assert_eq(qs_ggml_block_decode(QS_GGML_Q4_K, raw, &v, &err), QS_OK);
    cr_expect_eq(v.n, 256);
    cr_expect_eq(v.nsub, 8);
    for (int i = 0; i < 256; i++) {
        cr_expect_eq(v.y[i], want[i]);
        cr_expect(v.codes[i] >= 0 && v.codes[i] <= 15);
        int s = i / 32;
        cr_expect_eq(v.y[i], v.sub_d[s] * (float)v.codes[i] - v.sub_m[s]);
    }
    free(want);
    free(bytes);
}

/* Malformed files: one line naming the file and the problem. */
Test(gguf, malformed_files)
{
    static const struct { const char *file, *msg; } cases[] = {
        {"gguf_bad_bigendian.gguf", "big-endian GGUF (version 3 byte-swapped) is not supported"},
        {"gguf_bad_v1.gguf", "GGUF version 1 is obsolete"},
        {"gguf_bad_align0.gguf", "general.alignment 0 is not a power of two"},
        {"gguf_bad_align3.gguf", "general.alignment 3 is not a power of two"},
        {"gguf_bad_trunc.gguf", "goes past the end of the data section"},
        {"gguf_bad_strlen.gguf", "a metadata key at offset 24 has length 1152921504606846976, "
                                 "past the end"},
        {"gguf_bad_arraylen.gguf", "array of 1099511627776 u32 elements does not fit"},
        {"gguf_bad_ntensors.gguf", "tensor count 1099511627776 cannot fit"},
        {"gguf_bad_dims.gguf", "tensor 't' has 9 dimensions"},
        {"gguf_bad_type.gguf", "tensor 't' has unknown ggml type 99"},
        {"gguf_bad_rows.gguf", "rows of 16 elements, not a multiple of its 32-element blocks"},
        {"gguf_bad_dup.gguf", "duplicate tensor name 't'"},
        {"gguf_bad_past_eof.gguf", "tensor 't' data [0, +32) goes past the end"},
        {"gguf_bad_offset.gguf", "tensor 't' offset 3 is not a multiple of the alignment 32"},
        {"gguf_bad_nested.gguf", "nests arrays deeper than 4 levels"},
        {"gguf_bad_utf8.gguf", "tensor name 'bad?" "?' is not valid UTF-8"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, FIX "%s", cases[i].file);
        qs_file *f = NULL;
        qs_err err = {""};
        cr_expect_eq(qs_file_open(path, &f, &err), QS_ERR, "%s opened", path);
        cr_expect_null(f);
        cr_expect(strncmp(err.msg, path, strlen(path)) == 0, "%s", err.msg);
        cr_expect(strstr(err.msg, cases[i].msg) != NULL, "%s: %s", path, err.msg);
        cr_expect(strchr(err.msg, '\n') == NULL);
    }
}

/* ---- sharded safetensors --------------------------------------------------------------- */

Test(shards, folder_and_index_list_all_tensors)
{
    const char *paths[] = {FIX "shards", FIX "shards/model.safetensors.index.json"};
    for (int p = 0; p < 2; p++) {
        qs_file *f = open_ok(paths[p]);
        cr_expect_str_eq(f->format, "safetensors-sharded");
        cr_assert_eq(f->n, 3);
        int i = qs_file_find(f, "layers.1.weight");
        cr_assert_geq(i, 0);
        cr_expect_eq(f->entries[i].shard, 1);
        cr_expect_eq(f->entries[i].dtype, QS_DT_F16);
        qs_tensor *t = NULL;
        qs_err err = {""};
        cr_assert_eq(qs_file_read(f, i, &t, &err), QS_OK, "%s", err.msg);
        for (int k = 0; k < 6; k++) cr_expect_eq(t->data[k], 0.5f * (float)k);
        qs_tensor_free(t);
        i = qs_file_find(f, "layers.0.weight");
        cr_assert_eq(qs_file_read(f, i, &t, &err), QS_OK, "%s", err.msg);
        cr_expect_eq(t->shape[1], 4);
        for (int k = 0; k < 12; k++) cr_expect_eq(t->data[k], (float)k / 8.f);
        qs_tensor_free(t);
        int tot = 0;
        for (int k = 0; k < f->nmeta; k++)
            tot += !strcmp(f->meta[k].key, "total_size") && !strcmp(f->meta[k].value, "80");
        cr_expect_eq(tot, 1);
        qs_file_close(f);
    }
}

Test(shards, hostile_indices)
{
    qs_file *f = NULL;
    qs_err err = {""};
    cr_expect_eq(qs_file_open(FIX "shards/bad_escape.safetensors.index.json", &f, &err), QS_ERR);
    cr_expect(strstr(err.msg, "tensor 'x' maps to something that is not a shard file name in "
                              "the same folder") != NULL, "%s", err.msg);
    cr_expect_eq(qs_file_open(FIX "shards/bad_missing.safetensors.index.json", &f, &err),
                 QS_ERR);
    cr_expect(strstr(err.msg, "tensor 'layers.9.weight' is not in its shard") != NULL, "%s",
              err.msg);
    static const char idx[] = "{\"weight_map\": {\"a\": \"model.safetensors.index.json\"}}";
    cr_expect_eq(qs_file_open_mem(FIX "shards/x.safetensors.index.json", idx, sizeof idx - 1,
                                  &f, &err), QS_ERR);
    cr_expect(strstr(err.msg, "is missing or not a regular safetensors file") != NULL, "%s",
              err.msg);
}

/* A metadata string keeps its control bytes (the faces escape them: qs_escape), a NUL becomes
 * the text \x00 and a byte that is not UTF-8 the text \xNN, as every other name; a version of
 * the loader turned all three into '?'. GGUF v3 built in memory: one string key, no tensors. */
Test(gguf, metadata_string_bytes_kept)
{
    static const char key[] = "general.name", val[] = "a\x1b[31mb\nc\0d\xe9";
    unsigned char buf[256];
    size_t n = 0;
#define PUT(p, len) (memcpy(buf + n, (p), (len)), n += (len))
    uint32_t u32;
    uint64_t u64;
    PUT("GGUF", 4);
    u32 = 3; PUT(&u32, 4);                      /* version (little-endian host) */
    u64 = 0; PUT(&u64, 8);                      /* tensors */
    u64 = 1; PUT(&u64, 8);                      /* metadata keys */
    u64 = sizeof key - 1; PUT(&u64, 8); PUT(key, sizeof key - 1);
    u32 = 8; PUT(&u32, 4);                      /* GGUF_TYPE_STRING */
    u64 = sizeof val - 1; PUT(&u64, 8); PUT(val, sizeof val - 1);
#undef PUT
    qs_file *f = NULL;
    qs_err err = {""};
    cr_assert_eq(qs_file_open_mem("m.gguf", buf, n, &f, &err), QS_OK, "%s", err.msg);
    int seen = 0;
    for (int i = 0; i < f->nmeta; i++)
        if (!strcmp(f->meta[i].key, key)) {
            cr_expect_str_eq(f->meta[i].value, "a\x1b[31mb\nc\\x00d\\xe9");
            seen = 1;
        }
    cr_expect(seen, "no %s", key);
    qs_file_close(f);
}
