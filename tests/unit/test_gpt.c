/* test_gpt.c — Criterion tests of the GPT lab (src/nn/gpt*.c) on a tiny configuration:
 * gradients against central finite differences (double-checked in float32), logits against
 * an independent PyTorch implementation (tests/golden/make_gpt_golden.py), determinism, the
 * KV-cache generation against the full forward, save / load round trip and bad files, the
 * linear hook, the split rule, evaluation identities. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qscope/gpt.h"
#include "qscope/kernels.h"
#include "qscope/tensor.h"
#include "nn/gpt_priv.h"

#define GOLDEN "tests/golden/"

static const qs_gpt_cfg tiny = { 8, 8, 2, 2, 16 };

static void fill_tokens(uint8_t *t, int n, uint64_t seed)
{
    for (int i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        t[i] = (uint8_t)((seed >> 33) % QS_GPT_V);
    }
}

/* Randomises LayerNorm gains/biases and linear biases too, so their gradients are not at a
 * special point. */
static qs_gpt *tiny_model(uint64_t seed)
{
    qs_err err;
    qs_gpt *m = qs_gpt_new(&tiny, seed, &err);
    cr_assert_not_null(m, "%s", err.msg);
    uint64_t s = seed * 7 + 3;
    for (int64_t i = 0; i < m->n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        float u = (float)((s >> 40) & 0xffffff) / 16777216.0f - 0.5f;
        m->p[i] += 0.2f * u;
    }
    return m;
}

Test(gpt, gradient_matches_finite_differences)
{
    qs_gpt *m = tiny_model(5);
    enum { B = 2, T = 7 };
    uint8_t tok[B * T];
    fill_tokens(tok, B * T, 11);
    float *g = calloc((size_t)m->n, sizeof *g);
    qs_err err;
    double l0 = qs_gpt_loss_grad(m, tok, B, T, g, &err);
    cr_assert(isfinite(l0), "%s", err.msg);
    float *scratch = calloc((size_t)m->n, sizeof *scratch);
    int checked = 0, bad = 0;
    double worst = 0;
    for (int64_t i = 0; i < m->n; i += 7) {
        float keep = m->p[i];
        const float h = 1e-2f;
        m->p[i] = keep + h;
        double lp = qs_gpt_loss_grad(m, tok, B, T, scratch, &err);
        m->p[i] = keep - h;
        double lm = qs_gpt_loss_grad(m, tok, B, T, scratch, &err);
        m->p[i] = keep;
        double fd = (lp - lm) / (2.0 * h), an = g[i];
        double e = fabs(fd - an) / fmax(2e-3, fabs(fd) + fabs(an));
        if (e > worst) worst = e;
        if (fabs(fd - an) > 2e-3 + 3e-2 * fabs(fd)) bad++;
        checked++;
    }
    cr_assert_gt(checked, 100);
    cr_assert_eq(bad, 0, "%d of %d gradients differ from finite differences (worst rel %g)",
                 bad, checked, worst);
    free(g);
    free(scratch);
    qs_gpt_free(m);
}

/* ---- against PyTorch -------------------------------------------------------------------- */

#include <jansson.h>

Test(gpt, forward_loss_and_grads_match_torch)
{
    qs_err err;
    qs_gpt *m = NULL;
    cr_assert_eq(qs_gpt_load(GOLDEN "gpt_tiny.safetensors", &m, &err), QS_OK, "%s", err.msg);
    json_error_t je;
    json_t *g = json_load_file(GOLDEN "gpt_tiny.json", 0, &je);
    cr_assert_not_null(g);
    int B = (int)json_integer_value(json_object_get(g, "B"));
    int T = (int)json_integer_value(json_object_get(g, "T"));
    uint8_t tok[64];
    json_t *jt = json_object_get(g, "tokens");
    for (int i = 0; i < B * T; i++) tok[i] = (uint8_t)json_integer_value(json_array_get(jt, (size_t)i));
    float *lg = calloc((size_t)B * T * QS_GPT_V, sizeof *lg);
    cr_assert_eq(qs_gpt_logits(m, NULL, tok, B, T, lg, &err), QS_OK, "%s", err.msg);
    json_t *jl = json_object_get(g, "logits");
    double worst = 0;
    for (int i = 0; i < B * T * QS_GPT_V; i++) {
        double e = fabs(lg[i] - json_real_value(json_array_get(jl, (size_t)i)));
        if (e > worst) worst = e;
    }
    cr_assert_lt(worst, 2e-5, "logits differ from torch by %g", worst);
    float *gr = calloc((size_t)m->n, sizeof *gr);
    double loss = qs_gpt_loss_grad(m, tok, B, T, gr, &err);
    cr_assert_float_eq(loss, json_real_value(json_object_get(g, "loss")), 1e-5);
    qs_gpt_ptrs gp;
    qs_gpt_map(&m->c, gr, &gp);
    struct { const char *name; const float *v; } gs[] = {
        { "wte.weight", gp.wte }, { "h.0.attn.c_attn.weight", gp.b[0].qkv_w },
        { "h.1.mlp.c_fc.bias", gp.b[1].fc1_b }, { "ln_f.weight", gp.lnf_g } };
    json_t *jg = json_object_get(g, "grads");
    for (size_t k = 0; k < 4; k++) {
        json_t *a = json_object_get(jg, gs[k].name);
        cr_assert_not_null(a);
        for (size_t i = 0; i < json_array_size(a); i++)
            cr_assert_float_eq(gs[k].v[i], json_real_value(json_array_get(a, i)), 2e-6,
                               "%s[%zu]", gs[k].name, i);
    }
    free(lg);
    free(gr);
    json_decref(g);
    qs_gpt_free(m);
}

/* ---- generation, hook, determinism ------------------------------------------------------ */

Test(gpt, kv_cache_generation_matches_full_forward)
{
    qs_gpt *m = tiny_model(9);
    qs_err err;
    uint8_t prompt[3] = { 40, 41, 72 }, out[5];
    cr_assert_eq(qs_gpt_generate(m, NULL, prompt, 3, 5, 0.0, 1, out, &err), QS_OK, "%s", err.msg);
    /* each greedy token is the argmax of the full forward's last logits over the sequence */
    uint8_t seq[8];
    memcpy(seq, prompt, 3);
    float lg[8 * QS_GPT_V];
    for (int i = 0; i < 5; i++) {
        int T = 3 + i;
        cr_assert_eq(qs_gpt_logits(m, NULL, seq, 1, T, lg, &err), QS_OK);
        const float *z = lg + (T - 1) * QS_GPT_V;
        int best = 0;
        for (int j = 1; j < QS_GPT_V; j++) if (z[j] > z[best]) best = j;
        cr_assert_eq(out[i], best, "token %d: cache %d, full forward %d", i, out[i], best);
        seq[T] = (uint8_t)best;
    }
    qs_gpt_free(m);
}

typedef struct hook_ctx { int calls; int last_layer; } hook_ctx;

static int plain_linear(void *ctx, int layer, const float *X, int rows, int in, const float *W,
                        const float *b, int out, float *Y)
{
    hook_ctx *h = ctx;
    h->calls++;
    h->last_layer = layer;
    for (int r = 0; r < rows; r++)
        for (int o = 0; o < out; o++) {
            double a = b ? b[o] : 0;
            for (int i = 0; i < in; i++) a += (double)X[r * in + i] * W[o * in + i];
            Y[r * out + o] = (float)a;
        }
    return 0;
}

static int failing_linear(void *ctx, int layer, const float *X, int rows, int in,
                          const float *W, const float *b, int out, float *Y)
{
    return layer == 3;
}

Test(gpt, linear_hook_replaces_every_matmul)
{
    qs_gpt *m = tiny_model(3);
    qs_err err;
    uint8_t tok[16];
    fill_tokens(tok, 16, 4);
    float a[16 * QS_GPT_V], b[16 * QS_GPT_V];
    cr_assert_eq(qs_gpt_logits(m, NULL, tok, 2, 8, a, &err), QS_OK);
    hook_ctx h = { 0, -1 };
    qs_gpt_run_opts o = { plain_linear, &h, 0, 0, 0, 0 };
    cr_assert_eq(qs_gpt_logits(m, &o, tok, 2, 8, b, &err), QS_OK);
    cr_assert_eq(h.calls, qs_gpt_nlinear(m));
    cr_assert_eq(h.last_layer, qs_gpt_nlinear(m) - 1);
    for (int i = 0; i < 16 * QS_GPT_V; i++) cr_assert_float_eq(a[i], b[i], 1e-4);
    qs_gpt_run_opts f = { failing_linear, NULL, 0, 0, 0, 0 };
    cr_assert_eq(qs_gpt_logits(m, &f, tok, 2, 8, b, &err), QS_ERR);
    /* capture: one row per token for every layer, the lm_head input is normalised */
    float **X;
    int64_t rows;
    cr_assert_eq(qs_gpt_capture(m, tok, 16, 1000, &X, &rows, &err), QS_OK, "%s", err.msg);
    cr_assert_eq(rows, 16);
    qs_gpt_linear L;
    qs_gpt_linear_get(m, 2, &L);
    cr_assert_str_eq(L.name, "h.0.mlp.c_fc");
    cr_assert_eq(L.in, 8);
    cr_assert_eq(L.out, 16);
    for (int i = 0; i < qs_gpt_nlinear(m); i++) qs_free_aligned(X[i]);
    free(X);
    qs_gpt_free(m);
}

/* AWQ's module outputs (gpt_module_fwd) are what the forward pass computes: the attention
 * output is the captured input of attn.c_proj, gelu(fc1) that of mlp.c_proj; another qkv
 * weight changes the attention output */
Test(gpt, module_forward_matches_the_captured_inputs)
{
    qs_gpt *m = tiny_model(7);
    qs_err err = {""};
    uint8_t tok[32];
    fill_tokens(tok, 32, 9);
    float **X;
    int64_t rows;
    cr_assert_eq(qs_gpt_capture(m, tok, 32, 1000, &X, &rows, &err), QS_OK, "%s", err.msg);
    cr_assert_eq(rows, 32);
    gpt_buf b;
    cr_assert_eq(gpt_buf_init(&b, &m->c, 4, 8, 0, &err), QS_OK);
    for (int l = 0; l < m->c.layers; l++)
        for (int k = 0; k <= 2; k += 2) {
            qs_gpt_linear L, N;
            qs_gpt_linear_get(m, 4 * l + k, &L);
            qs_gpt_linear_get(m, 4 * l + k + 1, &N);
            const float *A = gpt_module_fwd(m, 4 * l + k, L.W, X[4 * l + k], &b);
            for (int64_t i = 0; i < rows * N.in; i++)
                cr_assert_float_eq(A[i], X[4 * l + k + 1][i], 1e-5, "layer %d [%lld]: %g vs %g",
                                   4 * l + k, (long long)i, A[i], X[4 * l + k + 1][i]);
        }
    qs_gpt_linear L;
    qs_gpt_linear_get(m, 0, &L);
    float *W2 = malloc((size_t)L.out * L.in * sizeof *W2);
    for (int i = 0; i < L.out * L.in; i++) W2[i] = L.W[i] * 1.5f;
    const float *A = gpt_module_fwd(m, 0, W2, X[0], &b);
    double diff = 0.0;
    for (int64_t i = 0; i < rows * L.in; i++) diff += fabs((double)A[i] - X[1][i]);
    cr_expect_gt(diff, 1e-3);
    free(W2);
    gpt_buf_fini(&b);
    for (int i = 0; i < qs_gpt_nlinear(m); i++) qs_free_aligned(X[i]);
    free(X);
    qs_gpt_free(m);
}

Test(gpt, training_is_deterministic_and_lowers_the_loss)
{
    qs_err err;
    const char *txt = "And God said, Let there be light: and there was light. And God saw the "
                      "light, that it was good: and God divided the light from the darkness. ";
    uint8_t *tok;
    int64_t n, drop;
    cr_assert_eq(qs_gpt_tokenize(txt, strlen(txt), &tok, &n, &drop, &err), QS_OK);
    cr_assert_eq(drop, 0);
    qs_gpt_train_cfg tc = { 40, 4, 1e-2, 5, 0.1, 1.0, 7, QS_GPT_FULL, 0, 0, 0, 0, NULL };
    qs_gpt *a = qs_gpt_new(&tiny, 1, &err), *b = qs_gpt_new(&tiny, 1, &err);
    qs_gpt_train_res ra, rb;
    cr_assert_eq(qs_gpt_train(NULL, a, tok, n, &tc, &ra, &err), QS_OK, "%s", err.msg);
    cr_assert_eq(qs_gpt_train(NULL, b, tok, n, &tc, &rb, &err), QS_OK, "%s", err.msg);
    cr_assert_eq(memcmp(a->p, b->p, (size_t)a->n * sizeof(float)), 0);
    cr_assert_lt(ra.loss[39], ra.loss[0] - 0.5, "loss %g -> %g", ra.loss[0], ra.loss[39]);
    /* LoRA: only the adapters train; QLoRA stores fewer weight bytes */
    qs_gpt_train_cfg lc = tc;
    lc.mode = QS_GPT_LORA;
    lc.rank = 2;
    lc.alpha = 4;
    qs_gpt *c = qs_gpt_clone(a, &err);
    qs_gpt_train_res rc_;
    cr_assert_eq(qs_gpt_train(NULL, c, tok, n, &lc, &rc_, &err), QS_OK, "%s", err.msg);
    int64_t want = 0;
    for (int i = 0; i < 4 * tiny.layers; i++) {
        qs_gpt_linear L;
        qs_gpt_linear_get(c, i, &L);
        want += 2 * (L.in + L.out);
    }
    cr_assert_eq(rc_.trainable, want);
    qs_gpt_ptrs *w = &c->w;
    cr_assert_eq(memcmp(w->wte, a->w.wte, (size_t)QS_GPT_V * tiny.d * sizeof(float)), 0,
                 "LoRA changed the frozen embedding");
    /* QLoRA: the same adapters on an NF4 + double-quantized base, fewer stored bytes */
    lc.mode = QS_GPT_QLORA;
    qs_gpt *d = qs_gpt_clone(a, &err);
    qs_gpt_train_res rd;
    cr_assert_eq(qs_gpt_train(NULL, d, tok, n, &lc, &rd, &err), QS_OK, "%s", err.msg);
    cr_assert_eq(rd.trainable, want);
    cr_assert_lt(rd.weight_bytes, rc_.weight_bytes);
    /* QAT: every parameter trains and the master weights stay fp32 (off the 3-bit grid) */
    qs_gpt_train_cfg qc = tc;
    qc.mode = QS_GPT_QAT;
    qc.qbits = 3;
    qc.qgroup = 8;
    qs_gpt *e = qs_gpt_clone(a, &err), *e3 = qs_gpt_clone(a, &err);
    qs_gpt_train_res re;
    cr_assert_eq(qs_gpt_quantize(e3, "int3 sym per-group size=8", 0, NULL, &err), QS_OK);
    cr_assert_eq(qs_gpt_train(NULL, e, tok, n, &qc, &re, &err), QS_OK, "%s", err.msg);
    cr_assert_eq(re.trainable, a->n);
    cr_assert_neq(memcmp(e->p, e3->p, (size_t)a->n * sizeof(float)), 0);
    qs_gpt_train_res_fini(&rd);
    qs_gpt_train_res_fini(&re);
    qs_gpt_free(d);
    qs_gpt_free(e);
    qs_gpt_free(e3);
    qs_gpt_train_res_fini(&ra);
    qs_gpt_train_res_fini(&rb);
    qs_gpt_train_res_fini(&rc_);
    qs_gpt_free(a);
    qs_gpt_free(b);
    qs_gpt_free(c);
    free(tok);
}

/* ---- files and text --------------------------------------------------------------------- */

Test(gpt, save_load_round_trip_and_bad_files)
{
    qs_err err;
    qs_gpt *m = tiny_model(2), *r = NULL;
    char path[] = "/tmp/qs_gpt_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    cr_assert_eq(qs_gpt_save(m, path, "t", 0, &err), QS_ERR, "replaced without force");
    cr_assert_eq(qs_gpt_save(m, path, "t", 1, &err), QS_OK, "%s", err.msg);
    cr_assert_eq(qs_gpt_load(path, &r, &err), QS_OK, "%s", err.msg);
    cr_assert_eq(memcmp(m->p, r->p, (size_t)m->n * sizeof(float)), 0);
    qs_gpt_free(r);
    /* truncated: one-line error naming the file */
    FILE *f = fopen(path, "r+b");
    cr_assert_eq(ftruncate(fileno(f), 600), 0);
    fclose(f);
    cr_assert_eq(qs_gpt_load(path, &r, &err), QS_ERR);
    cr_assert_not_null(strstr(err.msg, path), "%s", err.msg);
    cr_assert_null(strchr(err.msg, '\n'));
    /* not a GPT (the MLP's digits model format) */
    cr_assert_eq(qs_gpt_load("tests/golden/gpt_tiny.json", &r, &err), QS_ERR);
    remove(path);
    qs_gpt_free(m);
}

Test(gpt, tokenizer_split_and_baselines)
{
    qs_err err;
    uint8_t *t;
    int64_t n, drop;
    const char s[] = "a\tb\r\nc\x01\xc3\xa9";
    cr_assert_eq(qs_gpt_tokenize(s, sizeof s - 1, &t, &n, &drop, &err), QS_OK);
    cr_assert_eq(n, 5);     /* a ' ' b '\n' c */
    cr_assert_eq(drop, 3);
    cr_assert_eq(qs_gpt_chr(t[1]), ' ');
    cr_assert_eq(qs_gpt_chr(t[3]), '\n');
    free(t);
    int64_t N = 10 * QS_GPT_CHUNK + 100;
    uint8_t *all = malloc((size_t)N), *tr, *he;
    for (int64_t i = 0; i < N; i++) all[i] = (uint8_t)((i / QS_GPT_CHUNK) % QS_GPT_V);
    int64_t ntr, nhe;
    cr_assert_eq(qs_gpt_split(all, N, &tr, &ntr, &he, &nhe, &err), QS_OK);
    cr_assert_eq(nhe, QS_GPT_CHUNK);
    cr_assert_eq(ntr, N - QS_GPT_CHUNK);
    cr_assert_eq(he[0], 9);     /* chunk 9 is held out */
    double u, b;
    /* a text that alternates two symbols: the bigram is near certain, the unigram ~ln 2 */
    for (int64_t i = 0; i < N; i++) all[i] = (uint8_t)(i % 2);
    qs_gpt_baselines(all, N, all, 1000, &u, &b);
    cr_assert_lt(b, 0.03);     /* add-one smoothing: -ln(5121/5216) */
    cr_assert_float_eq(u, log(2.0), 0.01);
    free(all); free(tr); free(he);
    cr_assert_eq(qs_gpt_read_text("/nonexistent/x.txt", &t, &n, NULL, &err), QS_ERR);
    cr_assert_not_null(strstr(err.msg, "/nonexistent/x.txt"));
}

Test(gpt, evaluation_against_itself_and_quantized)
{
    qs_err err;
    qs_gpt *m = tiny_model(4);
    uint8_t tok[8 * 8];
    fill_tokens(tok, 64, 5);
    qs_gpt_eval e;
    cr_assert_eq(qs_gpt_evaluate(NULL, m, NULL, m, tok, 64, NULL, &e, &err), QS_OK, "%s", err.msg);
    cr_assert_eq(e.n, 8 * 7);
    cr_assert_eq(e.kld_max, 0.0);
    cr_assert_float_eq(e.top1_agree, 1.0, 1e-12);
    cr_assert_float_eq(e.ppl, exp(e.nll), 1e-9);
    cr_assert_float_eq(e.bpc, e.nll / log(2.0), 1e-12);
    double kl[3];
    const char *w[3] = { "int8 sym per-channel axis=0", "int4 sym per-channel axis=0",
                         "int2 sym per-channel axis=0" };
    for (int i = 0; i < 3; i++) {
        qs_gpt *q = qs_gpt_clone(m, &err);
        double bits;
        cr_assert_eq(qs_gpt_quantize(q, w[i], 0, &bits, &err), QS_OK, "%s", err.msg);
        cr_assert_eq(qs_gpt_evaluate(NULL, q, NULL, m, tok, 64, NULL, &e, &err), QS_OK);
        kl[i] = e.kld_mean;
        cr_assert_geq(e.kld_p99, e.kld_median);
        cr_assert_geq(e.kld_max, e.kld_p99);
        qs_gpt_free(q);
    }
    cr_assert_lt(kl[0], kl[1]);
    cr_assert_lt(kl[1], kl[2]);
    cr_assert_eq(qs_gpt_quantize(m, "int9", 0, NULL, &err), QS_ERR);
    qs_gpt_free(m);
}
