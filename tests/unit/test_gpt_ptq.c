/* test_gpt_ptq.c — issue 17's methods on the GPT lab's model (gpt_ptq.h), on a small random
 * model (ctx 16, d 32, 2 layers, ff 64) with random calibration and evaluation tokens:
 * rotation without quantization computes the fp32 model's outputs; LLM.int8() with a
 * threshold of 0 keeps every column (fp32) and with an unreachable one is plain W8A8; GPTQ
 * and AWQ lower the divergence from fp32 below round-to-nearest on the same grid; bits per
 * weight of the grids. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/gpt_ptq.h"
#include "qscope/tensor.h"

static const qs_gpt_cfg small = { 16, 32, 2, 2, 64 };

static void fill_tokens(uint8_t *t, int n, uint64_t seed)
{
    for (int i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        t[i] = (uint8_t)((seed >> 33) % QS_GPT_V);
    }
}

static qs_gpt *model(void)
{
    qs_err err = {""};
    qs_gpt *m = qs_gpt_new(&small, 5, &err);
    cr_assert_not_null(m, "%s", err.msg);
    /* heavier weights than the 0.02 init, so that 3-bit rounding matters */
    uint64_t s = 99;
    for (int64_t i = 0; i < m->n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        float u = (float)((s >> 40) & 0xffffff) / 16777216.0f - 0.5f;
        m->p[i] += 0.3f * u * u * u * 8.0f;     /* a heavy-tailed nudge */
    }
    return m;
}

static qs_gpt_eval run(const qs_gpt *m, const qs_gpt_ptq_opts *o, const uint8_t *cal, int ncal,
                       const uint8_t *tok, int n, double *bits)
{
    qs_gpt_ptq p;
    qs_gpt_eval e;
    qs_err err = {""};
    cr_assert_eq(qs_gpt_ptq_run(m, cal, ncal, ncal, o, &p, &err), QS_OK, "%s", err.msg);
    cr_assert_eq(qs_gpt_evaluate(NULL, p.m, &p.run, m, tok, n, NULL, &e, &err), QS_OK, "%s",
                 err.msg);
    if (bits) *bits = p.bits;
    qs_gpt_ptq_fini(&p);
    return e;
}

Test(gpt_ptq, methods_on_a_small_model)
{
    qs_gpt *m = model();
    uint8_t cal[512], tok[512];
    fill_tokens(cal, 512, 1);
    fill_tokens(tok, 512, 2);
    qs_gpt_ptq_opts o;
    qs_gpt_ptq_defaults(&o);
    double bits;
    /* rotation without quantization: the same model in fp32 */
    o.method = QS_PTQ_ROTATE;
    o.bits = 0;
    qs_gpt_eval e = run(m, &o, cal, 512, tok, 512, &bits);
    cr_expect_lt(e.kld_max, 1e-6, "rotated fp32 model: max KL %g", e.kld_max);
    cr_expect_eq(e.top1_agree, 1.0);
    cr_expect_eq(bits, 32.0);
    /* LLM.int8() at threshold 0 keeps every column in fp32; unreachable: plain W8A8 */
    qs_gpt_ptq_defaults(&o);
    o.method = QS_PTQ_LLMINT8;
    o.threshold = 0.0;
    e = run(m, &o, cal, 512, tok, 512, NULL);
    cr_expect_lt(e.kld_max, 1e-6);
    o.threshold = 1e30;
    qs_gpt_eval e8 = run(m, &o, cal, 512, tok, 512, NULL);
    o.method = QS_PTQ_W8A8;
    qs_gpt_eval ew = run(m, &o, cal, 512, tok, 512, NULL);
    cr_expect_eq(e8.nll, ew.nll, "LLM.int8() with no outlier column is W8A8");
    cr_expect_gt(ew.kld_mean, 0.0);
    /* GPTQ and AWQ against round to nearest at 3 bits, groups of 16 */
    qs_gpt_ptq_defaults(&o);
    o.bits = 3;
    o.group = 16;
    o.method = QS_PTQ_RTN;
    qs_gpt_eval er = run(m, &o, cal, 512, cal, 512, &bits);
    cr_expect_float_eq(bits, 3.0 + (32.0 + 3.0) / 16.0, 1e-12);
    o.method = QS_PTQ_GPTQ;
    qs_gpt_eval eg = run(m, &o, cal, 512, cal, 512, NULL);
    cr_expect_lt(eg.kld_mean, er.kld_mean, "GPTQ KL %g vs RTN %g", eg.kld_mean, er.kld_mean);
    o.method = QS_PTQ_AWQ;
    qs_gpt_eval ea = run(m, &o, cal, 512, cal, 512, NULL);
    cr_expect_lt(ea.kld_mean, er.kld_mean * 1.0001, "AWQ KL %g vs RTN %g", ea.kld_mean,
                 er.kld_mean);
    qs_gpt_free(m);
}

Test(gpt_ptq, names_and_errors)
{
    cr_expect_eq(qs_ptq_method_find("gptq"), QS_PTQ_GPTQ);
    cr_expect_eq(qs_ptq_method_find("nope"), -1);
    cr_expect_str_eq(qs_ptq_method_name(QS_PTQ_SMOOTHQUANT), "smoothquant");
    qs_gpt_cfg c = { 16, 24, 1, 2, 48 };            /* 24 is not a power of two */
    qs_err err = {""};
    qs_gpt *m = qs_gpt_new(&c, 1, &err);
    cr_assert_not_null(m);
    uint8_t cal[64];
    fill_tokens(cal, 64, 3);
    qs_gpt_ptq_opts o;
    qs_gpt_ptq_defaults(&o);
    o.method = QS_PTQ_ROTATE;
    qs_gpt_ptq p;
    cr_expect_neq(qs_gpt_ptq_run(m, cal, 64, 64, &o, &p, &err), QS_OK);
    cr_expect(strstr(err.msg, "power of two") != NULL, "%s", err.msg);
    qs_gpt_free(m);
}
