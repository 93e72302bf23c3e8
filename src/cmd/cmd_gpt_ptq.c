/* cmd_gpt_ptq.c — `lab gpt ptq method=...` and the method rows of `lab gpt sweep methods=...`
 * (issue 17): runs a PTQ method of gpt_ptq.h on the lab's fp32 model, calibrated on the
 * held-out excerpt's characters from CALIB_OFF on (never the scored ones), and evaluates it
 * against the fp32 model next to its baseline (round to nearest on the same grid, or plain
 * W8A8). cmd_gpt.c hands over the model and the evaluation text. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/cmd.h"
#include "qscope/gpt.h"
#include "qscope/gpt_ptq.h"
#include "qscope/tensor.h"

#define CALIB_OFF 32768         /* calibration text: held-out characters from here on */
#define CALIB_ROWS 2048         /* at most this many calibration tokens (whole windows) */

int qs_cmd_gpt_ptq(qs_session *s, qs_gpt_lab *g, const uint8_t *tok, int64_t n, int argc,
                   char **argv, json_t **out, qs_err *err);
int qs_gpt_sweep_methods(qs_session *s, qs_gpt_lab *g, const char *list, const double *lp,
                         const uint8_t *tok, int64_t n, qs_gpt_row **rows, int *nrows,
                         qs_err *err);

/* method= (one) and methods= (a list, or all) take the rows of gpt_ptq.h's method table */
const char *qs_gpt_vocab_method(int i, const char **help);
const char *qs_gpt_vocab_methods(int i, const char **help);

const char *qs_gpt_vocab_method(int i, const char **help)
{
    if (help) *help = NULL;
    return i >= 0 && i < QS_PTQ_COUNT ? qs_ptq_method_name(i) : NULL;
}

const char *qs_gpt_vocab_methods(int i, const char **help)
{
    if (help) *help = NULL;
    return i == QS_PTQ_COUNT ? "all" : qs_gpt_vocab_method(i, help);
}

static int calib_text(const qs_gpt_lab *g, const uint8_t *tok, int64_t n, long long calib,
                      const uint8_t **ct, int64_t *cn, qs_err *err)
{
    if (g->nheld <= CALIB_OFF + g->m->c.ctx)
        return qs_err_set(err, "lab gpt ptq: the held-out text has %lld characters; "
                          "calibration reads them from %d on", (long long)g->nheld, CALIB_OFF);
    if (tok == g->held && n > CALIB_OFF)
        return qs_err_set(err, "lab gpt ptq: chars=%lld would score the calibration text "
                          "(held-out characters %d on); use chars=%d or less", (long long)n,
                          CALIB_OFF, CALIB_OFF);
    *ct = g->held + CALIB_OFF;
    *cn = g->nheld - CALIB_OFF;
    if (*cn > calib) *cn = calib;
    return QS_OK;
}

static void eval_into(json_t *o, const qs_gpt_eval *e)
{
    qs_json_set_real(o, "ppl", e->ppl);
    qs_json_set_real(o, "bpc", e->bpc);
    qs_json_set_real(o, "kld", e->kld_mean);
    qs_json_set_real(o, "kld_p99", e->kld_p99);
    qs_json_set_real(o, "top1_agree", e->top1_agree);
    qs_json_set_real(o, "dp_correct", e->dp_correct);
}

static int parse_opts(int argc, char **argv, qs_gpt_ptq_opts *o, long long *calib, qs_err *err)
{
    qs_gpt_ptq_defaults(o);
    const char *m = qs_arg_kv(argc, argv, "method");
    if (m) {
        o->method = qs_ptq_method_find(m);
        if (o->method < 0)
            return qs_err_set(err, "method=%s: expected rtn, gptq, awq, smoothquant, llmint8, "
                              "w8a8 or rotate", m);
    }
    /* an option the method does not read is refused (`method=w8a8 bits=3` ran W8A8 and
     * said nothing about the 3) */
    static const struct { const char *opt; unsigned methods; } reads[] = {
#define M(x) (1u << QS_PTQ_##x)
        { "bits", M(RTN) | M(GPTQ) | M(AWQ) | M(ROTATE) },
        { "group", M(RTN) | M(GPTQ) | M(AWQ) | M(ROTATE) },
        { "sym", M(RTN) | M(GPTQ) | M(AWQ) | M(ROTATE) },
        { "actorder", M(GPTQ) }, { "damp", M(GPTQ) },
        { "alpha", M(SMOOTHQUANT) }, { "threshold", M(LLMINT8) },
        { "grid", M(AWQ) }, { "noclip", M(AWQ) }, { "seed", M(ROTATE) },
        { "calib", M(GPTQ) | M(AWQ) | M(SMOOTHQUANT) | M(LLMINT8) },
#undef M
    };
    for (size_t r = 0; r < sizeof reads / sizeof reads[0]; r++) {
        if (reads[r].methods >> o->method & 1) continue;
        if (!qs_arg_kv(argc, argv, reads[r].opt) && !qs_arg_flag(argc, argv, reads[r].opt))
            continue;
        char list[160] = "";
        size_t n = 0;
        for (size_t k = 0; k < sizeof reads / sizeof reads[0] && n < sizeof list; k++)
            if (reads[k].methods >> o->method & 1)
                n += (size_t)snprintf(list + n, sizeof list - n, " %s", reads[k].opt);
        return qs_err_set(err, "lab gpt ptq: method=%s does not read %s (it reads:%s text chars)",
                          qs_ptq_method_name(o->method), reads[r].opt, list);
    }
    long long bits = 4, group = 32, seed = 1, grid = 20;
    *calib = CALIB_ROWS;
    if (qs_arg_int(argc, argv, "bits", 0, 8, &bits, err) != QS_OK ||
        qs_arg_int(argc, argv, "group", 0, 1 << 16, &group, err) != QS_OK ||
        qs_arg_int(argc, argv, "seed", 0, (long long)1 << 62, &seed, err) != QS_OK ||
        qs_arg_int(argc, argv, "grid", 1, 100, &grid, err) != QS_OK ||
        qs_arg_int(argc, argv, "calib", 128, 1 << 16, calib, err) != QS_OK ||
        qs_arg_double(argc, argv, "alpha", 0.0, 1.0, &o->alpha, err) != QS_OK ||
        qs_arg_double(argc, argv, "threshold", 0.0, 1e30, &o->threshold, err) != QS_OK ||
        qs_arg_double(argc, argv, "damp", 0.0, 10.0, &o->damp, err) != QS_OK)
        return QS_ERR;
    if (bits == 0 && o->method != QS_PTQ_ROTATE)
        return qs_err_set(err, "bits=0: only method=rotate runs without quantizing (the fp32 "
                          "equivalence check)");
    if (bits == 1) return qs_err_set(err, "bits=1: expected 2..8 (0 with method=rotate)");
    if (bits == 0)                  /* rotate's fp32 check quantizes nothing */
        for (const char *const *k = (const char *const[]){ "group", "sym", NULL }; *k; k++)
            if (qs_arg_kv(argc, argv, *k) || qs_arg_flag(argc, argv, *k))
                return qs_err_set(err, "lab gpt ptq: method=rotate bits=0 quantizes nothing: "
                                  "%s does not apply", *k);
    o->bits = (int)bits;
    o->group = (int)group;
    o->seed = (uint64_t)seed;
    o->grid = (int)grid;
    o->sym = qs_arg_flag(argc, argv, "sym");
    o->actorder = qs_arg_flag(argc, argv, "actorder");
    o->noclip = qs_arg_flag(argc, argv, "noclip");
    return QS_OK;
}

/* The baseline of a method: round to nearest on the same grid, or plain W8A8. */
static int baseline_of(const qs_gpt_ptq_opts *o, qs_gpt_ptq_opts *b)
{
    *b = *o;
    switch (o->method) {
    case QS_PTQ_GPTQ: case QS_PTQ_AWQ: b->method = QS_PTQ_RTN; return 1;
    case QS_PTQ_ROTATE: if (o->bits == 0) return 0; b->method = QS_PTQ_RTN; return 1;
    case QS_PTQ_SMOOTHQUANT: case QS_PTQ_LLMINT8: b->method = QS_PTQ_W8A8; return 1;
    default: return 0;
    }
}

int qs_cmd_gpt_ptq(qs_session *s, qs_gpt_lab *g, const uint8_t *tok, int64_t n, int argc,
                   char **argv, json_t **out, qs_err *err)
{
    /* the words passed the `lab gpt ptq` row's specs (cmd_gpt.c) */
    qs_gpt_ptq_opts o, b;
    long long calib;
    if (parse_opts(argc, argv, &o, &calib, err) != QS_OK) return QS_ERR;
    const uint8_t *ct;
    int64_t cn;
    if (calib_text(g, tok, n, calib, &ct, &cn, err) != QS_OK) return QS_ERR;
    int have_b = baseline_of(&o, &b);
    qs_gpt_ptq p, pb;
    memset(&pb, 0, sizeof pb);
    qs_gpt_eval e, eb;
    double *lp = NULL;
    int64_t nwin;
    int rc = qs_gpt_ref_logp(g->m, tok, n, &lp, &nwin, err);
    if (rc == QS_OK) rc = qs_gpt_ptq_run(g->m, ct, cn, cn, &o, &p, err);
    if (rc != QS_OK) { qs_free_aligned(lp); return rc; }
    rc = qs_gpt_evaluate_lp(QS_SINK(s), p.m, &p.run, lp, tok, n, "lab gpt ptq", &e, err);
    if (rc == QS_OK && have_b) {
        rc = qs_gpt_ptq_run(g->m, ct, cn, cn, &b, &pb, err);
        if (rc == QS_OK)
            rc = qs_gpt_evaluate_lp(QS_SINK(s), pb.m, &pb.run, lp, tok, n, "lab gpt ptq", &eb, err);
    }
    qs_free_aligned(lp);
    if (rc == QS_OK) {
        json_t *j = json_object();
        json_object_set_new(j, "model", json_string(g->source));
        json_object_set_new(j, "method", json_string(qs_ptq_method_name(o.method)));
        json_object_set_new(j, "format", json_string(p.format));
        qs_json_set_real(j, "bits_per_weight", p.bits);
        json_object_set_new(j, "chars", json_integer(n));
        json_object_set_new(j, "calib_tokens", json_integer(p.calib_rows));
        eval_into(j, &e);
        if (o.method == QS_PTQ_AWQ) {
            qs_json_set_real(j, "awq_ratio_mean", p.awq_ratio_mean);
            json_object_set_new(j, "awq_clip", json_boolean(!o.noclip));
            if (!o.noclip) qs_json_set_real(j, "awq_clip_frac", p.awq_clip_frac);
        }
        if (o.method == QS_PTQ_LLMINT8) {
            json_object_set_new(j, "kept_columns", json_integer(p.kept_columns));
            json_object_set_new(j, "total_columns", json_integer(p.total_columns));
            qs_json_set_real(j, "threshold", o.threshold);
            if (p.kept_columns == 0)
                json_object_set_new(j, "note", json_string(
                    "no input column of this model reaches the threshold on the calibration "
                    "text: LLM.int8() is plain int8 here (the outlier features it targets "
                    "emerge in much larger models; see `llmint8` on planted outlier channels)"));
        }
        if (o.method == QS_PTQ_SMOOTHQUANT) qs_json_set_real(j, "alpha", o.alpha);
        if (have_b) {
            json_t *bj = json_object();
            json_object_set_new(bj, "method", json_string(qs_ptq_method_name(b.method)));
            json_object_set_new(bj, "format", json_string(pb.format));
            qs_json_set_real(bj, "bits_per_weight", pb.bits);
            eval_into(bj, &eb);
            json_object_set_new(j, "baseline", bj);
            qs_json_set_real(j, "ppl_gain", eb.ppl - e.ppl);
        }
        json_object_set_new(j, "calibration", json_string(
            "held-out characters 32768 on (the scored text is the first chars= characters)"));
        *out = j;
    }
    qs_gpt_ptq_fini(&p);
    qs_gpt_ptq_fini(&pb);
    return rc;
}

/* The method rows: (method, bits, group) combinations; "all" takes every row. */
static const struct { int method, bits, group; } combos[] = {
    {QS_PTQ_RTN, 4, 32}, {QS_PTQ_GPTQ, 4, 32}, {QS_PTQ_AWQ, 4, 32}, {QS_PTQ_ROTATE, 4, 32},
    {QS_PTQ_RTN, 4, 128}, {QS_PTQ_GPTQ, 4, 128}, {QS_PTQ_AWQ, 4, 128},
    {QS_PTQ_RTN, 3, 32}, {QS_PTQ_GPTQ, 3, 32}, {QS_PTQ_AWQ, 3, 32}, {QS_PTQ_ROTATE, 3, 32},
    {QS_PTQ_W8A8, 8, 0}, {QS_PTQ_SMOOTHQUANT, 8, 0}, {QS_PTQ_LLMINT8, 8, 0},
    {QS_PTQ_ROTATE, 0, 0},
};
#define NCOMBOS ((int)(sizeof combos / sizeof combos[0]))

int qs_gpt_sweep_methods(qs_session *s, qs_gpt_lab *g, const char *list, const double *lp,
                         const uint8_t *tok, int64_t n, qs_gpt_row **rows, int *nrows,
                         qs_err *err)
{
    int want[QS_PTQ_COUNT] = {0};
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *p = strtok(buf, ","); p; p = strtok(NULL, ",")) {
        if (!strcmp(p, "all")) { for (int i = 0; i < QS_PTQ_COUNT; i++) want[i] = 1; continue; }
        int m = qs_ptq_method_find(p);
        if (m < 0) return qs_err_set(err, "methods=%s: '%s' is not rtn, gptq, awq, smoothquant, "
                                     "llmint8, w8a8, rotate or all", list, p);
        want[m] = 1;
    }
    const uint8_t *ct;
    int64_t cn;
    if (calib_text(g, tok, n, CALIB_ROWS, &ct, &cn, err) != QS_OK) return QS_ERR;
    int total = 0;
    for (int i = 0; i < NCOMBOS; i++) total += want[combos[i].method];
    qs_gpt_row *r = realloc(*rows, (size_t)(*nrows + total + 1) * sizeof *r);
    if (!r) return qs_err_set(err, "lab gpt sweep: out of memory");
    *rows = r;
    int done = 0;
    for (int i = 0; i < NCOMBOS; i++) {
        if (!want[combos[i].method]) continue;
        qs_gpt_ptq_opts o;
        qs_gpt_ptq_defaults(&o);
        o.method = combos[i].method;
        o.bits = combos[i].bits;
        o.group = combos[i].group;
        qs_gpt_ptq p;
        if (qs_gpt_ptq_run(g->m, ct, cn, cn, &o, &p, err) != QS_OK) return QS_ERR;
        qs_gpt_row *row = &r[*nrows];
        memset(row, 0, sizeof *row);
        snprintf(row->method, sizeof row->method, "%s", qs_ptq_method_name(o.method));
        snprintf(row->format, sizeof row->format, "%s", p.format);
        row->bits = p.bits;
        int rc = qs_gpt_evaluate_lp(NULL, p.m, &p.run, lp, tok, n, NULL, &row->ev, err);
        qs_gpt_ptq_fini(&p);
        if (rc != QS_OK) return rc;
        (*nrows)++;
        if (qs_session_progress(s, "lab gpt sweep (methods)", ++done, total) != QS_OK)
            return qs_err_set(err, "lab gpt sweep: cancelled"), QS_CANCELLED;
    }
    return QS_OK;
}
