/* gpt_eval.c — the GPT lab's measurements: perplexity and divergences from a reference
 * model, n-gram baselines, weight quantization through the quantization engine, corpora. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gpt_priv.h"
#include "nn_priv.h"
#include "qscope/calib.h"
#include "qscope/kernels.h"
#include "qscope/quant.h"
#include "qscope/tensor.h"

#define EVAL_WB 8           /* windows per forward pass */

/* ======================================================================================
 * Weight quantization (through src/quant: the same path as `quant` and `model report`)
 * ====================================================================================== */

static int quant_matrix(float *W, int64_t out, int64_t in, const qs_scheme *sc, double *bits,
                        qs_err *err)
{
    int64_t shape[2] = { out, in };
    qs_tensor *t = qs_tensor_new("w", 2, shape, QS_DT_F32, err);
    if (!t) return QS_ERR;
    memcpy(t->data, W, (size_t)(out * in) * sizeof(float));
    qs_layout l;
    qs_calib c;
    qs_calib_result cal;
    qs_qstate q;
    int have_cal = 0, rc = QS_ERR;
    memset(&cal, 0, sizeof cal);
    memset(&q, 0, sizeof q);
    q.fmt = -1;
    qs_calib_default(&c);
    const float *lo = NULL, *hi = NULL;
    int is_int = sc->kind == QS_Q_INT || sc->kind == QS_Q_GGML;
    int ggml = sc->kind == QS_Q_GGML || sc->conv == QS_CONV_GGML;
    if (qs_scheme_layout(sc, 2, shape, &l, err) != QS_OK) goto done;
    if (is_int && !ggml) {
        if (qs_calib_run(t->data, &l, sc, &c, &cal, err) != QS_OK) goto done;
        have_cal = 1;
        lo = cal.lo;
        hi = cal.hi;
    }
    if (qs_qstate_init(&q, sc, t, lo, hi, err) != QS_OK) goto done;
    if (qs_quant_apply(&q, t, W, NULL, NULL, err) != QS_OK) goto done;
    *bits = qs_scheme_bits_per_param(sc, t->n, is_int ? q.qp.nparams : q.nblocks);
    rc = QS_OK;
done:
    qs_qstate_fini(&q);
    if (have_cal) qs_calib_result_fini(&cal);
    qs_tensor_free(t);
    return rc;
}

int qs_gpt_quantize(qs_gpt *m, const char *words, int embed, double *bits, qs_err *err)
{
    char buf[256], *argv[24];
    int argc = 0;
    snprintf(buf, sizeof buf, "%s", words);
    for (char *p = strtok(buf, " "); p && argc < 24; p = strtok(NULL, " ")) argv[argc++] = p;
    qs_scheme sc;
    qs_scheme_default(&sc);
    if (argc == 0 || qs_scheme_parse(&sc, argc, argv, err) != QS_OK) {
        if (argc == 0) qs_err_set(err, "gpt: empty scheme");
        return QS_ERR;
    }
    double sbits = 0;
    int64_t sn = 0;
    int nl = qs_gpt_nlinear(m) - (embed ? 0 : 1);
    for (int i = 0; i < nl; i++) {
        qs_gpt_linear L;
        qs_gpt_linear_get(m, i, &L);
        double b;
        if (quant_matrix(L.W, L.out, L.in, &sc, &b, err) != QS_OK) return QS_ERR;
        sbits += b * L.out * L.in;
        sn += (int64_t)L.out * L.in;
    }
    if (bits) *bits = sn ? sbits / (double)sn : 32.0;
    return QS_OK;
}

/* ======================================================================================
 * Evaluation
 * ====================================================================================== */

int qs_gpt_ref_logp(const qs_gpt *m, const uint8_t *tok, int64_t ntok, double **lp,
                    int64_t *nwin_out, qs_err *err)
{
    int T = m->c.ctx;
    int64_t nwin = ntok / T;
    if (nwin < 1)
        return qs_err_set(err, "gpt eval: the text has %lld characters, fewer than one window "
                          "of %d", (long long)ntok, T);
    double *out = qs_alloc_aligned((size_t)(nwin * T * QS_GPT_V) * sizeof(double));
    gpt_buf b;
    if (!out) return qs_err_set(err, "gpt eval: out of memory");
    if (gpt_buf_init(&b, &m->c, EVAL_WB, T, 0, err) != QS_OK) {
        qs_free_aligned(out);
        return QS_ERR;
    }
    for (int64_t w = 0; w < nwin; w += EVAL_WB) {
        int nb = (int)(nwin - w < EVAL_WB ? nwin - w : EVAL_WB);
        b.B = nb;
        b.N = (int64_t)nb * T;
        gpt_forward(m, NULL, tok + w * T, &b, NULL, NULL);
        for (int64_t r = 0; r < b.N; r++) {
            const float *z = b.logits + r * QS_GPT_V;
            double *o = out + (w * T + r) * QS_GPT_V;
            double mx = z[0], s = 0;
            for (int j = 1; j < QS_GPT_V; j++) mx = fmax(mx, z[j]);
            for (int j = 0; j < QS_GPT_V; j++) s += exp(z[j] - mx);
            double lse = mx + log(s);
            for (int j = 0; j < QS_GPT_V; j++) o[j] = z[j] - lse;
        }
    }
    gpt_buf_fini(&b);
    *lp = out;
    *nwin_out = nwin;
    return QS_OK;
}

static int dcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int qs_gpt_evaluate_lp(qs_session *s, const qs_gpt *m, const qs_gpt_run_opts *opts,
                       const double *ref_lp, const uint8_t *tok, int64_t ntok,
                       const char *label, qs_gpt_eval *res, qs_err *err)
{
    int T = m->c.ctx;
    int64_t nwin = ntok / T;
    memset(res, 0, sizeof *res);
    if (nwin < 1)
        return qs_err_set(err, "gpt eval: the text has %lld characters, fewer than one window "
                          "of %d", (long long)ntok, T);
    int64_t npred = nwin * (T - 1);
    double *kl = ref_lp ? malloc((size_t)npred * sizeof(double)) : NULL;
    gpt_buf b;
    if (ref_lp && !kl) return qs_err_set(err, "gpt eval: out of memory");
    if (gpt_buf_init(&b, &m->c, EVAL_WB, T, 0, err) != QS_OK) {
        free(kl);
        return QS_ERR;
    }
    double nll = 0, dp = 0;
    int64_t k = 0, top1 = 0, agree = 0;
    int rc = QS_OK;
    for (int64_t w = 0; w < nwin; w += EVAL_WB) {
        int nb = (int)(nwin - w < EVAL_WB ? nwin - w : EVAL_WB);
        b.B = nb;
        b.N = (int64_t)nb * T;
        if (gpt_forward(m, opts, tok + w * T, &b, NULL, NULL) != QS_OK) {
            rc = qs_err_set(err, "gpt eval: the linear override failed");
            break;
        }
        for (int64_t r = 0; r < b.N; r++) {
            if (r % T == T - 1) continue;
            int64_t gr = w * T + r;
            int y = tok[gr + 1];
            const float *z = b.logits + r * QS_GPT_V;
            double mx = z[0], sm = 0, lp[QS_GPT_V];
            for (int j = 1; j < QS_GPT_V; j++) mx = fmax(mx, z[j]);
            for (int j = 0; j < QS_GPT_V; j++) sm += exp(z[j] - mx);
            double lse = mx + log(sm);
            for (int j = 0; j < QS_GPT_V; j++) lp[j] = z[j] - lse;
            nll -= lp[y];
            int am = nn_argmax(z, QS_GPT_V);
            top1 += am == y;
            if (ref_lp) {
                const double *rl = ref_lp + gr * QS_GPT_V;
                double d = 0;
                int ra = 0;
                for (int j = 0; j < QS_GPT_V; j++) {
                    d += exp(rl[j]) * (rl[j] - lp[j]);
                    if (rl[j] > rl[ra]) ra = j;
                }
                kl[k] = d > 0 ? d : 0;  /* rounding can give -1e-17 */
                agree += ra == am;
                dp += exp(lp[y]) - exp(rl[y]);
            }
            k++;
        }
        if (s && qs_session_progress(s, label ? label : "gpt eval", (double)(w + nb),
                                     (double)nwin) != QS_OK) {
            rc = QS_CANCELLED;
            qs_err_set(err, "%s: cancelled", label ? label : "gpt eval");
            break;
        }
    }
    gpt_buf_fini(&b);
    if (rc == QS_OK) {
        res->n = k;
        res->nll = nll / k;
        res->ppl = exp(res->nll);
        res->bpc = res->nll / log(2.0);
        res->top1 = (double)top1 / k;
        if (ref_lp) {
            double sum = 0;
            for (int64_t i = 0; i < k; i++) sum += kl[i];
            qsort(kl, (size_t)k, sizeof *kl, dcmp);
            res->kld_mean = sum / k;
            /* median: mean of the two middle values; p99: nearest rank ceil(0.99·n) */
            res->kld_median = k % 2 ? kl[k / 2] : 0.5 * (kl[k / 2 - 1] + kl[k / 2]);
            int64_t r99 = (int64_t)ceil(0.99 * (double)k);
            res->kld_p99 = kl[(r99 < 1 ? 1 : r99) - 1];
            res->kld_max = kl[k - 1];
            res->top1_agree = (double)agree / k;
            res->dp_correct = dp / k;
        }
    }
    free(kl);
    return rc;
}

int qs_gpt_evaluate(qs_session *s, const qs_gpt *m, const qs_gpt_run_opts *opts,
                    const qs_gpt *ref, const uint8_t *tok, int64_t ntok, const char *label,
                    qs_gpt_eval *res, qs_err *err)
{
    double *lp = NULL;
    int64_t nwin;
    if (ref && qs_gpt_ref_logp(ref, tok, ntok, &lp, &nwin, err) != QS_OK) return QS_ERR;
    int rc = qs_gpt_evaluate_lp(s, m, opts, lp, tok, ntok, label, res, err);
    qs_free_aligned(lp);
    return rc;
}

void qs_gpt_baselines(const uint8_t *train, int64_t ntrain, const uint8_t *test, int64_t ntest,
                      double *unigram, double *bigram)
{
    double c1[QS_GPT_V], (*c2)[QS_GPT_V] = calloc(QS_GPT_V, sizeof *c2);
    *unigram = *bigram = NAN;
    if (!c2) return;
    memset(c1, 0, sizeof c1);
    for (int64_t i = 0; i < ntrain; i++) {
        c1[train[i]] += 1;
        if (i + 1 < ntrain) c2[train[i]][train[i + 1]] += 1;
    }
    double u = 0, bg = 0;
    int64_t n = 0;
    for (int64_t i = 0; i + 1 < ntest; i++) {
        int a = test[i], y = test[i + 1];
        u -= log((c1[y] + 1) / ((double)ntrain + QS_GPT_V));
        double row = 0;
        for (int j = 0; j < QS_GPT_V; j++) row += c2[a][j];
        bg -= log((c2[a][y] + 1) / (row + QS_GPT_V));
        n++;
    }
    *unigram = n ? u / n : NAN;
    *bigram = n ? bg / n : NAN;
    free(c2);
}

/* ======================================================================================
 * Corpora
 * ====================================================================================== */

int qs_gpt_tokenize(const char *text, size_t len, uint8_t **tok, int64_t *ntok,
                    int64_t *dropped, qs_err *err)
{
    uint8_t *t = malloc(len + 1);
    if (!t) return qs_err_set(err, "gpt: out of memory for %zu characters", len);
    int64_t n = 0, drop = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\r' && i + 1 < len && text[i + 1] == '\n') continue;
        if (c == '\t') c = ' ';
        int k = qs_gpt_tok(c);
        if (k < 0) drop++;
        else t[n++] = (uint8_t)k;
    }
    *tok = t;
    *ntok = n;
    if (dropped) *dropped = drop;
    return QS_OK;
}

#define GPT_TEXT_MAX ((size_t)64 << 20)

int qs_gpt_read_text(const char *path, uint8_t **tok, int64_t *ntok, int64_t *dropped,
                     qs_err *err)
{
    struct stat sb;
    if (stat(path, &sb) != 0) return qs_err_set(err, "%s: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode)) return qs_err_set(err, "%s: not a regular file", path);
    if ((size_t)sb.st_size > GPT_TEXT_MAX)
        return qs_err_set(err, "%s: larger than %zu MB", path, GPT_TEXT_MAX >> 20);
    FILE *f = fopen(path, "rb");
    if (!f) return qs_err_set(err, "%s: %s", path, strerror(errno));
    size_t cap = (size_t)sb.st_size + 1;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return qs_err_set(err, "%s: out of memory", path);
    }
    size_t len = fread(buf, 1, cap - 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return qs_err_set(err, "%s: read error", path);
    }
    int rc = qs_gpt_tokenize(buf, len, tok, ntok, dropped, err);
    free(buf);
    if (rc == QS_OK && *ntok == 0) {
        free(*tok);
        *tok = NULL;
        return qs_err_set(err, "%s: no text (empty, or no character of the vocabulary)", path);
    }
    return rc;
}

int qs_gpt_split(const uint8_t *tok, int64_t n, uint8_t **train, int64_t *ntrain,
                 uint8_t **held, int64_t *nheld, qs_err *err)
{
    uint8_t *a = malloc((size_t)n + 1), *h = malloc((size_t)n + 1);
    if (!a || !h) {
        free(a);
        free(h);
        return qs_err_set(err, "gpt: out of memory");
    }
    int64_t na = 0, nh = 0;
    for (int64_t c = 0; c * QS_GPT_CHUNK < n; c++) {
        int64_t s = c * QS_GPT_CHUNK, e = s + QS_GPT_CHUNK;
        int full = e <= n;
        if (!full) e = n;
        if (full && c % QS_GPT_HOLD_EVERY == QS_GPT_HOLD_EVERY - 1) {
            memcpy(h + nh, tok + s, (size_t)(e - s));
            nh += e - s;
        } else {
            memcpy(a + na, tok + s, (size_t)(e - s));
            na += e - s;
        }
    }
    *train = a;
    *ntrain = na;
    *held = h;
    *nheld = nh;
    return QS_OK;
}

void qs_gpt_lab_free(qs_gpt_lab *g)
{
    if (!g) return;
    qs_gpt_free(g->m);
    free(g->held);
    free(g->rows);
    for (int i = 0; i < g->ngens; i++) free(g->gens[i].text);
    free(g->gens);
    for (int i = 0; i < g->nacts; i++) free(g->act_max[i]);
    free(g);
}
