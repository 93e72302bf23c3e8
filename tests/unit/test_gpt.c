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
