/* cmd_gpt.c — `lab gpt train|load|save|eval|sweep|generate|qat|lora|qlora|acts|status`: the
 * GPT lab's commands, each returning a JSON object (keys in the help text of `lab`). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "qscope/cmd.h"
#include "qscope/gpt.h"
#include "qscope/io.h"
#include "qscope/kernels.h"
#include "qscope/nn.h"
#include "cmd_priv.h"

/* issue 17's methods (cmd_gpt_ptq.c) */
int qs_cmd_gpt_ptq(qs_session *s, qs_gpt_lab *g, const uint8_t *tok, int64_t n, int argc,
                   char **argv, json_t **out, qs_err *err);
int qs_gpt_sweep_methods(qs_session *s, qs_gpt_lab *g, const char *list, const double *lp,
                         const uint8_t *tok, int64_t n, qs_gpt_row **rows, int *nrows,
                         qs_err *err);

#define GEN_MAX 2000

int qs_cmd_lab_gpt(qs_session *s, int argc, char **argv, json_t **out, qs_err *err);
extern const qs_cmd qs_gpt_subs[];
const char *qs_gpt_vocab_method(int i, const char **help);     /* cmd_gpt_ptq.c */
const char *qs_gpt_vocab_methods(int i, const char **help);

static const qs_cmd *lab_row(void)
{
    return qs_cmd_find("lab");
}

/* The GPT lab's state: its own extension slot of the session (freed with it). */
static const char gpt_tag;     /* its address is the slot's tag */

static void gpt_free(void *p) { qs_gpt_lab_free(p); }

static qs_gpt_lab *gpt_lab(qs_session *s)
{
    qs_gpt_lab *g = qs_session_ext_get(s, &gpt_tag);
    if (g) return g;
    g = calloc(1, sizeof *g);
    if (g && qs_session_ext_set(s, &gpt_tag, g, gpt_free) != QS_OK) {
        free(g);
        g = NULL;
    }
    return g;
}

static json_t *tokstr(const uint8_t *t, int64_t n)
{
    char *b = malloc((size_t)n + 1);
    if (!b) return json_null();
    for (int64_t i = 0; i < n; i++) b[i] = qs_gpt_chr(t[i]);
    b[n] = 0;
    json_t *j = json_string(b);
    free(b);
    return j;
}

static int64_t peak_rss_bytes(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? (int64_t)ru.ru_maxrss * 1024 : -1;
}

/* ---- data and the model ---------------------------------------------------------------- */

static int find_data(const char *base, char *path, size_t len, qs_err *err, const char *how)
{
    if (qs_nn_find_file(NULL, base, path, len)) return QS_OK;
    return qs_err_set(err, "lab gpt: datasets/%s not found (%s; or set QSCOPE_DATASETS)", base,
                      how);
}

static int ensure_held(qs_gpt_lab *g, qs_err *err)
{
    if (g->held) return QS_OK;
    char path[1024];
    if (find_data(QS_GPT_HELDOUT, path, sizeof path, err, "it ships with qscope") != QS_OK)
        return QS_ERR;
    if (qs_gpt_read_text(path, &g->held, &g->nheld, NULL, err) != QS_OK) return QS_ERR;
    snprintf(g->held_path, sizeof g->held_path, "%s", path);
    return QS_OK;
}

static int ensure_model(qs_gpt_lab *g, qs_err *err)
{
    if (ensure_held(g, err) != QS_OK) return QS_ERR;
    if (g->m) return QS_OK;
    char path[1024];
    if (find_data(QS_GPT_DEFAULT_MODEL, path, sizeof path, err,
                  "it ships with qscope; `lab gpt train` makes one") != QS_OK)
        return QS_ERR;
    if (qs_gpt_load(path, &g->m, err) != QS_OK) return QS_ERR;
    snprintf(g->source, sizeof g->source, "%s", path);
    return QS_OK;
}

/* Text to evaluate: text=PATH or the held-out excerpt, at most chars= characters. */
static int eval_text(qs_gpt_lab *g, int argc, char **argv, long long defchars, uint8_t **tok,
                     int64_t *n, uint8_t **owned, qs_err *err)
{
    long long chars = defchars;
    if (qs_arg_int(argc, argv, "chars", 2, 1LL << 30, &chars, err) != QS_OK) return QS_ERR;
    const char *path = qs_arg_kv(argc, argv, "text");
    *owned = NULL;
    if (path) {
        if (qs_gpt_read_text(path, owned, n, NULL, err) != QS_OK) return QS_ERR;
        *tok = *owned;
    } else {
        *tok = g->held;
        *n = g->nheld;
    }
    if (chars > 0 && *n > chars) *n = chars;
    if (*n / g->m->c.ctx < 1) {
        free(*owned);
        *owned = NULL;
        return qs_err_set(err, "lab gpt: %s has %lld characters, fewer than one window of %d",
                          path ? path : "the held-out text", (long long)*n, g->m->c.ctx);
    }
    return QS_OK;
}

static void eval_json(json_t *o, const qs_gpt_eval *e, int vs_ref)
{
    json_object_set_new(o, "predictions", json_integer(e->n));
    qs_json_set_real(o, "nll", e->nll);
    qs_json_set_real(o, "ppl", e->ppl);
    qs_json_set_real(o, "bpc", e->bpc);
    qs_json_set_real(o, "top1", e->top1);
    if (vs_ref) {
        qs_json_set_real(o, "kld", e->kld_mean);
        qs_json_set_real(o, "kld_median", e->kld_median);
        qs_json_set_real(o, "kld_p99", e->kld_p99);
        qs_json_set_real(o, "kld_max", e->kld_max);
        qs_json_set_real(o, "top1_agree", e->top1_agree);
        qs_json_set_real(o, "dp_correct", e->dp_correct);
    }
}

static json_t *cfg_json(const qs_gpt *m)
{
    return json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:I}", "vocab", QS_GPT_V, "ctx", m->c.ctx,
                     "d", m->c.d, "layers", m->c.layers, "heads", m->c.heads, "ff", m->c.ff,
                     "params", (json_int_t)m->n);
}

/* ---- formats --------------------------------------------------------------------------- */

typedef struct gfmt {
    const char *name;       /* row label and format= value */
    const char *words;      /* weight scheme words, or NULL (fp32 weights) */
    int kv, act, per_token;
} gfmt;

static const gfmt formats[] = {
    { "fp32", NULL, 0, 0, 0 },
    { "int8-channel", "int8 sym per-channel axis=0", 0, 0, 0 },
    { "int4-channel", "int4 sym per-channel axis=0", 0, 0, 0 },
    { "int4-g128-sym", "int4 sym per-group size=128", 0, 0, 0 },
    { "int4-g128-affine", "uint4 asym per-group size=128", 0, 0, 0 },
    { "int4-g32-sym", "int4 sym per-group size=32", 0, 0, 0 },
    { "int4-g32-affine", "uint4 asym per-group size=32", 0, 0, 0 },
    { "int3-g32-sym", "int3 sym per-group size=32", 0, 0, 0 },
    { "nf4", "nf4 no-dq", 0, 0, 0 },
    { "nf4-dq", "nf4 dq", 0, 0, 0 },
    { "q8_0", "q8_0", 0, 0, 0 },
    { "q6_k", "q6_k", 0, 0, 0 },
    { "q4_k", "q4_k", 0, 0, 0 },
    { "q4_0", "q4_0", 0, 0, 0 },
    { "fp8-e4m3", "fp8-e4m3", 0, 0, 0 },
    { "w8a8-tensor", "int8 sym narrow per-channel axis=0", 0, 8, 0 },
    { "w8a8-token", "int8 sym narrow per-channel axis=0", 0, 8, 1 },
    { "kv-int8", NULL, 8, 0, 0 },
    { "kv-int4", NULL, 4, 0, 0 },
    /* issue 17: asked for by name (formats=, methods= sweeps), not in the default sweep */
    { "mxfp4", "mxfp4", 0, 0, 0 },
    { "nvfp4", "nvfp4", 0, 0, 0 },
};
#define NFORMATS ((int)(sizeof formats / sizeof formats[0]))
#define NDEFAULT (NFORMATS - 2)     /* the default sweep: all but the last two rows */

static const gfmt *find_format(const char *name)
{
    for (int i = 0; i < NFORMATS; i++)
        if (strcmp(formats[i].name, name) == 0) return &formats[i];
    return NULL;
}

static int format_error(const char *name, qs_err *err)
{
    char list[1024] = "";
    size_t o = 0;
    for (int i = 0; i < NFORMATS && o < sizeof list; i++)
        o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? " " : "", formats[i].name);
    return qs_err_set(err, "lab gpt: format '%s' is not one of: %s", name, list);
}

/* A quantized copy of m and its run options for a format. */
static int make_format(const qs_gpt *m, const gfmt *f, int embed, qs_gpt **q,
                       qs_gpt_run_opts *o, double *bits, qs_err *err)
{
    memset(o, 0, sizeof *o);
    *bits = 32;
    *q = qs_gpt_clone(m, err);
    if (!*q) return QS_ERR;
    if (f->words && qs_gpt_quantize(*q, f->words, embed, bits, err) != QS_OK) {
        qs_gpt_free(*q);
        *q = NULL;
        return QS_ERR;
    }
    o->kv_bits = f->kv;
    o->act_bits = f->act;
    o->act_per_token = f->per_token;
    o->act_head = embed && f->act;
    return QS_OK;
}

/* ---- subcommands ----------------------------------------------------------------------- */

static int sub_load(qs_session *s, qs_gpt_lab *g, int argc, char **argv, json_t **out,
                    qs_err *err)
{
    (void)s;
    if (argc != 1 || strchr(argv[0], '='))
        return qs_err_set(err, "lab gpt load: expected one PATH (usage: lab gpt load PATH)");
    qs_gpt *m = NULL;
    if (qs_gpt_load(argv[0], &m, err) != QS_OK) return qs_err_prefix(err, "lab gpt load");
    qs_gpt_free(g->m);
    g->m = m;
    snprintf(g->source, sizeof g->source, "%s", argv[0]);
    json_t *o = json_object();
    json_object_set_new(o, "loaded", json_string(argv[0]));
    json_object_set_new(o, "config", cfg_json(m));
    *out = o;
    return QS_OK;
}

static int sub_save(qs_session *s, qs_gpt_lab *g, int argc, char **argv, json_t **out,
                    qs_err *err)
{
    (void)s;
    int force = 0;
    const char *path = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--force") == 0) force = 1;
        else if (path || strchr(argv[i], '='))
            return qs_err_set(err, "lab gpt save: expected one PATH (usage: lab gpt save PATH "
                              "[--force])");
        else path = argv[i];
    }
    if (!path)
        return qs_err_set(err, "lab gpt save: expected one PATH (usage: lab gpt save PATH "
                          "[--force])");
    if (qs_io_check_target("lab gpt save", path, force, NULL, err) != QS_OK) return QS_ERR;
    if (ensure_model(g, err) != QS_OK) return QS_ERR;
    if (qs_gpt_save(g->m, path, g->source, force, err) != QS_OK)
        return qs_err_prefix(err, "lab gpt save");
    json_t *o = json_object();
    json_object_set_new(o, "saved", json_string(path));
    json_object_set_new(o, "config", cfg_json(g->m));
    *out = o;
    return QS_OK;
}

static void sample_json(json_t *o, const char *key, const qs_gpt *m, const char *prompt, int n)
{
    uint8_t *pt = NULL, *gen = malloc((size_t)n);
    int64_t np = 0;
    qs_err e;
    memset(&e, 0, sizeof e);
    if (gen && qs_gpt_tokenize(prompt, strlen(prompt), &pt, &np, NULL, &e) == QS_OK &&
        qs_gpt_generate(m, NULL, pt, (int)np, n, 0.0, 1, gen, &e) == QS_OK)
        json_object_set_new(o, key, tokstr(gen, n));
    free(pt);
    free(gen);
}

#define SAMPLE_PROMPT "And God said, "

static int sub_train(qs_session *s, qs_gpt_lab *g, int argc, char **argv, json_t **out,
                     qs_err *err)
{
    long long steps = 1500, batch = 16, seed = 1, ctx = 64, d = 64, layers = 4, heads = 4,
              ff = 0, warmup = 100;
    double lr = 3e-3, wd = 0.1, clip = 1.0;
    if (qs_arg_int(argc, argv, "steps", 1, 1000000, &steps, err) ||
        qs_arg_int(argc, argv, "batch", 1, 4096, &batch, err) ||
        qs_arg_int(argc, argv, "seed", 0, INT64_MAX, &seed, err) ||
        qs_arg_int(argc, argv, "ctx", 2, QS_GPT_MAX_CTX, &ctx, err) ||
        qs_arg_int(argc, argv, "d", 4, QS_GPT_MAX_D, &d, err) ||
        qs_arg_int(argc, argv, "layers", 1, QS_GPT_MAX_LAYERS, &layers, err) ||
        qs_arg_int(argc, argv, "heads", 1, QS_GPT_MAX_D, &heads, err) ||
        qs_arg_int(argc, argv, "ff", 0, 4 * QS_GPT_MAX_D, &ff, err) ||
        qs_arg_int(argc, argv, "warmup", 0, 1000000, &warmup, err) ||
        qs_arg_double(argc, argv, "lr", 1e-9, 10, &lr, err) ||
        qs_arg_double(argc, argv, "wd", 0, 10, &wd, err) ||
        qs_arg_double(argc, argv, "clip", 0, 1e9, &clip, err))
        return QS_ERR;
    char path[1024];
    const char *cp = qs_arg_kv(argc, argv, "corpus");
    if (cp) snprintf(path, sizeof path, "%s", cp);
    else if (!qs_nn_find_file(NULL, QS_GPT_CORPUS, path, sizeof path))
        return qs_err_set(err, "lab gpt train: datasets/%s not found (run `make datasets`, or "
                          "give corpus=PATH)", QS_GPT_CORPUS);
    uint8_t *all = NULL, *tr = NULL, *he = NULL;
    int64_t nall, ntr, nhe, dropped;
    if (qs_gpt_read_text(path, &all, &nall, &dropped, err) != QS_OK) return QS_ERR;
    int rc = qs_gpt_split(all, nall, &tr, &ntr, &he, &nhe, err);
    free(all);
    if (rc != QS_OK) return QS_ERR;
    qs_gpt_cfg c = { (int)ctx, (int)d, (int)layers, (int)heads, (int)(ff ? ff : 4 * d) };
    qs_gpt *m = NULL;
    qs_gpt_train_res res;
    memset(&res, 0, sizeof res);
    if (ntr < ctx + 1) {
        rc = qs_err_set(err, "%s: %lld training characters, fewer than one window of %lld + 1",
                        path, (long long)ntr, ctx);
        goto done;
    }
    m = qs_gpt_new(&c, (uint64_t)seed, err);
    if (!m) { rc = QS_ERR; goto done; }
    qs_gpt_train_cfg tc = { (int)steps, (int)batch, lr, (int)warmup, wd, clip, (uint64_t)seed,
                            QS_GPT_FULL, 0, 0, 0, 0, "lab gpt train" };
    rc = qs_gpt_train(QS_SINK(s), m, tr, ntr, &tc, &res, err);
    if (rc != QS_OK) goto done;
    json_t *o = json_object();
    json_object_set_new(o, "corpus", json_string(path));
    json_object_set_new(o, "train_chars", json_integer(ntr));
    json_object_set_new(o, "heldout_chars", json_integer(nhe));
    json_object_set_new(o, "dropped_chars", json_integer(dropped));
    json_object_set_new(o, "config", cfg_json(m));
    json_object_set_new(o, "steps", json_integer(res.steps));
    json_object_set_new(o, "tokens", json_integer((json_int_t)res.steps * batch * ctx));
    qs_json_set_real(o, "seconds", res.seconds);
    qs_json_set_real(o, "steps_per_s", res.steps / res.seconds);
    json_object_set_new(o, "peak_bytes", json_integer(res.peak_bytes));
    json_object_set_new(o, "peak_rss_bytes", json_integer(peak_rss_bytes()));
    double last = 0;
    int nl = res.steps < 50 ? res.steps : 50;
    for (int i = res.steps - nl; i < res.steps; i++) last += res.loss[i];
    qs_json_set_real(o, "train_loss_last50", last / nl);
    json_t *curve = json_array();
    for (int i = 0; i < res.steps; i += (res.steps + 99) / 100)
        json_array_append_new(curve, qs_json_real(res.loss[i]));
    json_object_set_new(o, "loss_curve", curve);
    if (nhe >= ctx) {
        qs_gpt_eval ev;
        int64_t nev = nhe < 65536 ? nhe : 65536;
        if (qs_gpt_evaluate(QS_SINK(s), m, NULL, NULL, he, nev, "lab gpt eval", &ev, err) == QS_OK) {
            json_t *h = json_object();
            eval_json(h, &ev, 0);
            json_object_set_new(h, "chars", json_integer(nev));
            json_object_set_new(o, "heldout", h);
            double u, b;
            qs_gpt_baselines(tr, ntr, he, nev, &u, &b);
            json_object_set_new(o, "baselines",
                                json_pack("{s:o, s:o, s:o, s:o}", "unigram_nll", qs_json_real(u),
                                          "unigram_bpc", qs_json_real(u / log(2.0)),
                                          "bigram_nll", qs_json_real(b),
                                          "bigram_bpc", qs_json_real(b / log(2.0))));
        }
    }
    json_object_set_new(o, "prompt", json_string(SAMPLE_PROMPT));
    sample_json(o, "greedy_sample", m, SAMPLE_PROMPT, 200);
    qs_gpt_free(g->m);
    g->m = m;
    m = NULL;
    snprintf(g->source, sizeof g->source, "trained on %s", path);
    *out = o;
done:
    qs_gpt_free(m);
    qs_gpt_train_res_fini(&res);
    free(tr);
    free(he);
    return rc;
}

static int sub_eval(qs_session *s, qs_gpt_lab *g, int argc, char **argv, json_t **out,
                    qs_err *err)
{
    if (ensure_model(g, err) != QS_OK) return QS_ERR;
    const char *fname = qs_arg_kv(argc, argv, "format");
    const gfmt *f = find_format(fname ? fname : "fp32");
    if (!f) return format_error(fname, err);
    int embed = qs_arg_flag(argc, argv, "embed");
    uint8_t *tok, *owned;
    int64_t n;
    if (eval_text(g, argc, argv, 0, &tok, &n, &owned, err) != QS_OK) return QS_ERR;
    qs_gpt *q = NULL;
    qs_gpt_run_opts o;
    double bits;
    qs_gpt_eval ev;
    int rc = make_format(g->m, f, embed, &q, &o, &bits, err);
    if (rc == QS_OK)
        rc = qs_gpt_evaluate(QS_SINK(s), q, &o, strcmp(f->name, "fp32") ? g->m : NULL, tok, n,
                             "lab gpt eval", &ev, err);
    if (rc == QS_OK) {
        json_t *j = json_object();
        json_object_set_new(j, "model", json_string(g->source));
        json_object_set_new(j, "text", json_string(owned ? qs_arg_kv(argc, argv, "text") : g->held_path));
        json_object_set_new(j, "chars", json_integer(n));
        json_object_set_new(j, "format", json_string(f->name));
        json_object_set_new(j, "embed", json_boolean(embed));
        qs_json_set_real(j, "bits_per_weight", bits);
        eval_json(j, &ev, strcmp(f->name, "fp32") != 0);
        *out = j;
    }
    qs_gpt_free(q);
    free(owned);
    return rc;
}

static int sub_sweep(qs_session *s, qs_gpt_lab *g, int argc, char **argv, json_t **out,
                     qs_err *err)
{
    if (ensure_model(g, err) != QS_OK) return QS_ERR;
    int embed = qs_arg_flag(argc, argv, "embed");
    const gfmt *sel[NFORMATS];
    int nsel = 0;
    const char *fl = qs_arg_kv(argc, argv, "formats");
    const char *ml = qs_arg_kv(argc, argv, "methods");     /* issue 17: cmd_gpt_ptq.c */
    if (ml && !fl) fl = "fp32,mxfp4,nvfp4";
    if (fl) {
        char buf[1024];
        snprintf(buf, sizeof buf, "%s", fl);
        for (char *p = strtok(buf, ","); p; p = strtok(NULL, ",")) {
            const gfmt *f = find_format(p);
            if (!f) return format_error(p, err);
            if (nsel < NFORMATS) sel[nsel++] = f;
        }
    } else {
        for (int i = 0; i < NDEFAULT; i++) sel[nsel++] = &formats[i];
    }
    uint8_t *tok, *owned;
    int64_t n, nwin;
    if (eval_text(g, argc, argv, 8192, &tok, &n, &owned, err) != QS_OK) return QS_ERR;
    double *lp = NULL;
    qs_gpt_row *rows = calloc((size_t)nsel, sizeof *rows);
    int rc = rows ? QS_OK : qs_err_set(err, "lab gpt sweep: out of memory");
    if (rc == QS_OK) rc = qs_gpt_ref_logp(g->m, tok, n, &lp, &nwin, err);
    for (int i = 0; i < nsel && rc == QS_OK; i++) {
        qs_gpt *q = NULL;
        qs_gpt_run_opts o;
        rc = make_format(g->m, sel[i], embed, &q, &o, &rows[i].bits, err);
        if (rc != QS_OK) break;
        /* the fp32 row is the reference, not rounded to anything */
        snprintf(rows[i].method, sizeof rows[i].method, "%s",
                 strcmp(sel[i]->name, "fp32") == 0 ? "none" : "rtn");
        snprintf(rows[i].format, sizeof rows[i].format, "%s", sel[i]->name);
        rc = qs_gpt_evaluate_lp(NULL, q, &o, lp, tok, n, NULL, &rows[i].ev, err);
        qs_gpt_free(q);
        if (rc == QS_OK && qs_session_progress(s, "lab gpt sweep", i + 1, nsel) != QS_OK) {
            rc = qs_err_set(err, "lab gpt sweep: cancelled after %d of %d formats", i + 1, nsel);
            rc = QS_CANCELLED;
        }
    }
    if (rc == QS_OK && ml) rc = qs_gpt_sweep_methods(s, g, ml, lp, tok, n, &rows, &nsel, err);
    qs_free_aligned(lp);
    if (rc == QS_OK) {
        json_t *o = json_object(), *arr = json_array();
        json_object_set_new(o, "model", json_string(g->source));
        json_object_set_new(o, "chars", json_integer(n));
        json_object_set_new(o, "embed", json_boolean(embed));
        json_object_set_new(o, "columns", json_pack("[s,s,s,s,s,s]", "method", "format",
                                                     "bits_per_weight", "ppl", "kld",
                                                     "top1_agree"));
        for (int i = 0; i < nsel; i++) {
            json_t *r = json_object();
            json_object_set_new(r, "method", json_string(rows[i].method));
            json_object_set_new(r, "format", json_string(rows[i].format));
            qs_json_set_real(r, "bits_per_weight", rows[i].bits);
            eval_json(r, &rows[i].ev, 1);
            json_array_append_new(arr, r);
        }
        json_object_set_new(o, "rows", arr);
        json_object_set_new(o, "peak_rss_bytes", json_integer(peak_rss_bytes()));
        free(g->rows);
        g->rows = rows;
        g->nrows = nsel;
        rows = NULL;
        *out = o;
    }
    free(rows);
    free(owned);
    return rc;
}

static int sub_generate(qs_session *s, qs_gpt_lab *g, int argc, char **argv, json_t **out,
                        qs_err *err)
{
    (void)s;
    if (ensure_model(g, err) != QS_OK) return QS_ERR;
    long long n = 200, seed = 1;
    double temp = 0;
    if (qs_arg_int(argc, argv, "n", 1, GEN_MAX, &n, err) ||
        qs_arg_int(argc, argv, "seed", 0, INT64_MAX, &seed, err) ||
        qs_arg_double(argc, argv, "temp", 0, 100, &temp, err))
        return QS_ERR;
    const char *prompt = qs_arg_kv(argc, argv, "prompt");
    if (!prompt) prompt = SAMPLE_PROMPT;
    for (const char *p = prompt; *p; p++)
        if (qs_gpt_tok((unsigned char)*p) < 0)
            return qs_err_set(err, "lab gpt generate: prompt= has character 0x%02x at %d, "
                              "outside the model's vocabulary (printable ASCII and newline)",
                              (unsigned char)*p, (int)(p - prompt) + 1);
    size_t pl = strlen(prompt);
    if (pl == 0) return qs_err_set(err, "lab gpt generate: prompt= is empty");
    if ((long long)pl > g->m->c.ctx)
        return qs_err_set(err, "lab gpt generate: prompt= has %zu characters, longer than the "
                          "model's context of %d", pl, g->m->c.ctx);
    const char *fl = qs_arg_kv(argc, argv, "formats");
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", fl ? fl : "fp32,int8-channel,int4-channel,nf4,q4_k");
    const gfmt *sel[NFORMATS];
    int nsel = 0;
    for (char *p = strtok(buf, ","); p; p = strtok(NULL, ",")) {
        const gfmt *f = find_format(p);
        if (!f) return format_error(p, err);
        if (nsel < NFORMATS) sel[nsel++] = f;
    }
    uint8_t *pt = NULL, *gen = malloc((size_t)n);
    int64_t np;
    qs_gpt_gen *gens = calloc((size_t)nsel, sizeof *gens);
    int rc = gen && gens ? qs_gpt_tokenize(prompt, pl, &pt, &np, NULL, err)
                         : qs_err_set(err, "lab gpt generate: out of memory");
    json_t *arr = json_array();
    for (int i = 0; i < nsel && rc == QS_OK; i++) {
        qs_gpt *q = NULL;
        qs_gpt_run_opts o;
        double bits;
        rc = make_format(g->m, sel[i], qs_arg_flag(argc, argv, "embed"), &q, &o, &bits, err);
        if (rc == QS_OK)
            rc = qs_gpt_generate(q, &o, pt, (int)np, (int)n, temp, (uint64_t)seed, gen, err);
        qs_gpt_free(q);
        if (rc != QS_OK) break;
        snprintf(gens[i].format, sizeof gens[i].format, "%s", sel[i]->name);
        gens[i].text = malloc((size_t)n + 1);
        if (!gens[i].text) { rc = qs_err_set(err, "lab gpt generate: out of memory"); break; }
        for (long long k = 0; k < n; k++) gens[i].text[k] = qs_gpt_chr(gen[k]);
        gens[i].text[n] = 0;
        json_t *r = json_object();
        json_object_set_new(r, "format", json_string(sel[i]->name));
        qs_json_set_real(r, "bits_per_weight", bits);
        json_object_set_new(r, "text", json_string(gens[i].text));
        int same = 0;
        if (i > 0) {
            while (same < n && gens[i].text[same] == gens[0].text[same]) same++;
            json_object_set_new(r, "same_as_first", json_integer(same));
        }
        json_array_append_new(arr, r);
    }
    free(pt);
    free(gen);
    if (rc != QS_OK) {
        json_decref(arr);
        for (int i = 0; i < nsel && gens; i++) free(gens[i].text);
        free(gens);
        return rc;
    }
    for (int i = 0; i < g->ngens; i++) free(g->gens[i].text);
    free(g->gens);
    g->gens = gens;
    g->ngens = nsel;
    snprintf(g->prompt, sizeof g->prompt, "%s", prompt);
    json_t *o = json_object();
    json_object_set_new(o, "prompt", json_string(prompt));
    json_object_set_new(o, "n", json_integer(n));
    qs_json_set_real(o, "temp", temp);
    json_object_set_new(o, "seed", json_integer(seed));
    json_object_set_new(o, "generations", arr);
    *out = o;
    return QS_OK;
}

static int fcmp(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

static int sub_acts(qs_session *s, qs_gpt_lab *g, int argc, char **argv, json_t **out,
                    qs_err *err)
{
    (void)s;
    if (ensure_model(g, err) != QS_OK) return QS_ERR;
    long long top = 5;
    if (qs_arg_int(argc, argv, "top", 1, 64, &top, err) != QS_OK) return QS_ERR;
    uint8_t *tok, *owned;
    int64_t n, rows;
    if (eval_text(g, argc, argv, 8192, &tok, &n, &owned, err) != QS_OK) return QS_ERR;
    float **X = NULL;
    int rc = qs_gpt_capture(g->m, tok, n, n, &X, &rows, err);
    free(owned);
    if (rc != QS_OK) return rc;
    int nl = qs_gpt_nlinear(g->m);
    for (int i = 0; i < g->nacts; i++) free(g->act_max[i]);
    g->nacts = 0;
    json_t *o = json_object(), *arr = json_array();
    json_object_set_new(o, "rows", json_integer(rows));
    for (int i = 0; i < nl; i++) {
        qs_gpt_linear L;
        qs_gpt_linear_get(g->m, i, &L);
        float *mx = calloc((size_t)L.in, sizeof *mx), *srt = malloc((size_t)L.in * sizeof *srt);
        if (!mx || !srt) {
            free(mx);
            free(srt);
            rc = qs_err_set(err, "lab gpt acts: out of memory");
            break;
        }
        for (int64_t r = 0; r < rows; r++)
            for (int c = 0; c < L.in; c++) mx[c] = fmaxf(mx[c], fabsf(X[i][r * L.in + c]));
        memcpy(srt, mx, (size_t)L.in * sizeof *srt);
        qsort(srt, (size_t)L.in, sizeof *srt, fcmp);
        double med = L.in % 2 ? srt[L.in / 2] : 0.5 * (srt[L.in / 2 - 1] + srt[L.in / 2]);
        json_t *r = json_object(), *tops = json_array();
        json_object_set_new(r, "layer", json_string(L.name));
        json_object_set_new(r, "in", json_integer(L.in));
        qs_json_set_real(r, "absmax", srt[L.in - 1]);
        qs_json_set_real(r, "median_channel_absmax", med);
        qs_json_set_real(r, "max_median_ratio", med > 0 ? srt[L.in - 1] / med : INFINITY);
        /* the channels whose absmax is the largest, with their ratio to the median */
        int *used = calloc((size_t)L.in, sizeof *used);
        for (int k = 0; k < top && k < L.in && used; k++) {
            int best = -1;
            for (int c = 0; c < L.in; c++)
                if (!used[c] && (best < 0 || mx[c] > mx[best])) best = c;
            used[best] = 1;
            json_array_append_new(tops, json_pack("{s:i, s:o, s:o}", "channel", best, "absmax",
                                                  qs_json_real(mx[best]), "ratio",
                                                  qs_json_real(med > 0 ? mx[best] / med : INFINITY)));
        }
        free(used);
        json_object_set_new(r, "top_channels", tops);
        /* every input channel's absmax, in channel order: the TUI's channel strip */
        json_t *ch = json_array();
        for (int c = 0; c < L.in && ch; c++) json_array_append_new(ch, qs_json_real(mx[c]));
        if (ch) json_object_set_new(r, "channels", ch);
        json_array_append_new(arr, r);
        snprintf(g->act_name[i], sizeof g->act_name[i], "%s", L.name);
        g->act_in[i] = L.in;
        g->act_max[i] = mx;
        g->nacts = i + 1;
        free(srt);
    }
    for (int i = 0; i < nl; i++) qs_free_aligned(X[i]);
    free(X);
    if (rc != QS_OK) {
        json_decref(o);
        json_decref(arr);
        return rc;
    }
    json_object_set_new(o, "layers", arr);
    *out = o;
    return QS_OK;
}

/* ---- QAT, LoRA, QLoRA ------------------------------------------------------------------ */

static int ft_corpus(uint8_t **tr, int64_t *ntr, uint8_t **he, int64_t *nhe, char *path,
                     size_t plen, const char *given, qs_err *err)
{
    if (given) snprintf(path, plen, "%s", given);
    else if (find_data(QS_GPT_FT, path, plen, err, "it ships with qscope") != QS_OK)
        return QS_ERR;
    uint8_t *all;
    int64_t n;
    if (qs_gpt_read_text(path, &all, &n, NULL, err) != QS_OK) return QS_ERR;
    int rc = qs_gpt_split(all, n, tr, ntr, he, nhe, err);
    free(all);
    return rc;
}

static int sub_qat(qs_session *s, qs_gpt_lab *g, int argc, char **argv, json_t **out,
                   qs_err *err)
{
    if (ensure_model(g, err) != QS_OK) return QS_ERR;
    long long group = 32, steps = 150, batch = 8, seed = 1;
    double lr = 5e-4;
    if (qs_arg_int(argc, argv, "group", 2, 4096, &group, err) ||
        qs_arg_int(argc, argv, "steps", 1, 100000, &steps, err) ||
        qs_arg_int(argc, argv, "batch", 1, 4096, &batch, err) ||
        qs_arg_int(argc, argv, "seed", 0, INT64_MAX, &seed, err) ||
        qs_arg_double(argc, argv, "lr", 1e-9, 10, &lr, err))
        return QS_ERR;
    const char *bl = qs_arg_kv(argc, argv, "bits");
    int bits[8], nb = 0;
    char buf[64];
    snprintf(buf, sizeof buf, "%s", bl ? bl : "3,4");
    for (char *p = strtok(buf, ","); p && nb < 8; p = strtok(NULL, ",")) {
        long long v;
        if (qs_parse_ll(p, &v) < 0 || v < 2 || v > 8)
            return qs_err_set(err, "lab gpt qat: bits='%s': expected bit widths 2..8 "
                              "separated by commas", bl);
        bits[nb++] = (int)v;
    }
    /* QAT trains on the KJV's training part (corpus= or datasets/kjv.txt from `make
     * datasets`) and is scored on the first 16384 held-out characters. Without the full
     * text it trains on the shipped held-out excerpt after those 16384 characters (text
     * the base model never saw either), so the scored text is never trained on. */
    char path[1200];
    const char *cp = qs_arg_kv(argc, argv, "corpus");
    uint8_t *all = NULL, *tr = NULL, *he = NULL, *tok, *owned = NULL;
    int64_t nall, ntr, nhe, n;
    int rc;
    qs_err e2;
    if (cp || find_data(QS_GPT_CORPUS, path, sizeof path, &e2, "") == QS_OK) {
        if (cp) snprintf(path, sizeof path, "%s", cp);
        if (qs_gpt_read_text(path, &all, &nall, NULL, err) != QS_OK) return QS_ERR;
        rc = qs_gpt_split(all, nall, &tr, &ntr, &he, &nhe, err);
        free(all);
        free(he);
        if (rc != QS_OK) return rc;
        rc = eval_text(g, argc, argv, 16384, &tok, &n, &owned, err);
    } else {
        if (qs_arg_kv(argc, argv, "text") || qs_arg_kv(argc, argv, "chars"))
            return qs_err_set(err, "lab gpt qat: text= and chars= need the full corpus "
                              "(make datasets, or corpus=PATH)");
        n = 16384;
        if (g->nheld < n + 4 * g->m->c.ctx)
            return qs_err_set(err, "lab gpt qat: %s is too short to train and score on",
                              g->held_path);
        tok = g->held;
        ntr = g->nheld - n;
        tr = malloc((size_t)ntr);
        if (!tr) return qs_err_set(err, "lab gpt qat: out of memory");
        memcpy(tr, g->held + n, (size_t)ntr);
        snprintf(path, sizeof path, "%s (after the first %lld characters)", g->held_path,
                 (long long)n);
        rc = QS_OK;
    }
    json_t *arr = json_array();
    double *lp = NULL;
    int64_t nwin;
    if (rc == QS_OK) rc = qs_gpt_ref_logp(g->m, tok, n, &lp, &nwin, err);
    int64_t peak = 0;
    double secs = 0;
    for (int i = 0; i < nb && rc == QS_OK; i++) {
        char words[64];
        snprintf(words, sizeof words, "int%d sym per-group size=%lld", bits[i], group);
        qs_gpt *ptq = qs_gpt_clone(g->m, err), *qat = qs_gpt_clone(g->m, err);
        qs_gpt_eval ep, eq;
        qs_gpt_train_res res;
        memset(&res, 0, sizeof res);
        double bpw = 0;
        rc = ptq && qat ? QS_OK : QS_ERR;
        if (rc == QS_OK) rc = qs_gpt_quantize(ptq, words, 0, &bpw, err);
        if (rc == QS_OK) rc = qs_gpt_evaluate_lp(NULL, ptq, NULL, lp, tok, n, NULL, &ep, err);
        qs_gpt_train_cfg tc = { (int)steps, (int)batch, lr, (int)(steps / 10), 0.0, 1.0,
                                (uint64_t)seed, QS_GPT_QAT, 0, 0, bits[i], (int)group,
                                "lab gpt qat" };
        if (rc == QS_OK) rc = qs_gpt_train(QS_SINK(s), qat, tr, ntr, &tc, &res, err);
        if (rc == QS_OK) rc = qs_gpt_quantize(qat, words, 0, NULL, err);
        if (rc == QS_OK) rc = qs_gpt_evaluate_lp(NULL, qat, NULL, lp, tok, n, NULL, &eq, err);
        if (rc == QS_OK) {
            json_t *r = json_object(), *jp = json_object(), *jq = json_object();
            json_object_set_new(r, "bits", json_integer(bits[i]));
            json_object_set_new(r, "format", json_string(words));
            qs_json_set_real(r, "bits_per_weight", bpw);
            eval_json(jp, &ep, 1);
            eval_json(jq, &eq, 1);
            json_object_set_new(r, "ptq", jp);
            json_object_set_new(r, "qat", jq);
            qs_json_set_real(r, "ptq_ppl", ep.ppl);
            qs_json_set_real(r, "qat_ppl", eq.ppl);
            json_array_append_new(arr, r);
            if (res.peak_bytes > peak) peak = res.peak_bytes;
            secs += res.seconds;
        }
        qs_gpt_train_res_fini(&res);
        qs_gpt_free(ptq);
        qs_gpt_free(qat);
    }
    qs_free_aligned(lp);
    free(owned);
    free(tr);
    if (rc != QS_OK) {
        json_decref(arr);
        return rc;
    }
    json_t *o = json_object();
    json_object_set_new(o, "corpus", json_string(path));
    json_object_set_new(o, "steps", json_integer(steps));
    json_object_set_new(o, "batch", json_integer(batch));
    qs_json_set_real(o, "lr", lr);
    json_object_set_new(o, "eval_chars", json_integer(n));
    json_object_set_new(o, "rows", arr);
    qs_json_set_real(o, "seconds", secs);
    json_object_set_new(o, "peak_bytes", json_integer(peak));
    *out = o;
    return QS_OK;
}

static int sub_lora(qs_session *s, qs_gpt_lab *g, int argc, char **argv, json_t **out,
                    qs_err *err, int qlora)
{
    if (ensure_model(g, err) != QS_OK) return QS_ERR;
    long long rank = 8, steps = 150, batch = 8, seed = 1, chars = 16384;
    double alpha = -1, lr = 3e-3, full_lr = 5e-4;
    if (qs_arg_int(argc, argv, "rank", 1, g->m->c.d, &rank, err) ||
        qs_arg_int(argc, argv, "steps", 1, 100000, &steps, err) ||
        qs_arg_int(argc, argv, "batch", 1, 4096, &batch, err) ||
        qs_arg_int(argc, argv, "seed", 0, INT64_MAX, &seed, err) ||
        qs_arg_int(argc, argv, "chars", 2, 1LL << 30, &chars, err) ||
        qs_arg_double(argc, argv, "alpha", 1e-9, 1e6, &alpha, err) ||
        qs_arg_double(argc, argv, "lr", 1e-9, 10, &lr, err) ||
        qs_arg_double(argc, argv, "full_lr", 1e-9, 10, &full_lr, err))
        return QS_ERR;
    if (alpha < 0) alpha = 2.0 * rank;
    char path[1024];
    uint8_t *tr = NULL, *he = NULL;
    int64_t ntr, nhe;
    if (ft_corpus(&tr, &ntr, &he, &nhe, path, sizeof path, qs_arg_kv(argc, argv, "corpus"),
                  err) != QS_OK)
        return QS_ERR;
    int64_t nb = g->nheld < chars ? g->nheld : chars, nf = nhe < chars ? nhe : chars;
    int rc = QS_OK;
    if (nf < g->m->c.ctx) {
        rc = qs_err_set(err, "%s: its held-out part has %lld characters, fewer than one window "
                        "of %d", path, (long long)nhe, g->m->c.ctx);
    }
    json_t *o = json_object(), *methods = json_array();
    qs_gpt_eval b0, f0;
    if (rc == QS_OK) rc = qs_gpt_evaluate(NULL, g->m, NULL, NULL, g->held, nb, NULL, &b0, err);
    if (rc == QS_OK) rc = qs_gpt_evaluate(NULL, g->m, NULL, NULL, he, nf, NULL, &f0, err);
    if (rc == QS_OK) {
        json_object_set_new(o, "corpus", json_string(path));
        json_object_set_new(o, "train_chars", json_integer(ntr));
        json_object_set_new(o, "heldout_chars", json_integer(nf));
        json_object_set_new(o, "base_chars", json_integer(nb));
        qs_json_set_real(o, "before_base_ppl", b0.ppl);
        qs_json_set_real(o, "before_ft_ppl", f0.ppl);
        json_object_set_new(o, "rank", json_integer(rank));
        qs_json_set_real(o, "alpha", alpha);
        json_object_set_new(o, "steps", json_integer(steps));
    }
    qs_gpt_mode modes[2] = { QS_GPT_FULL, qlora ? QS_GPT_QLORA : QS_GPT_LORA };
    const char *names[2] = { "full", qlora ? "qlora" : "lora" };
    if (qlora) {
        /* QLoRA beside LoRA, so both margins come out of one run */
        modes[0] = QS_GPT_LORA;
        names[0] = "lora";
    }
    for (int k = 0; k < 2 && rc == QS_OK; k++) {
        qs_gpt *m = qs_gpt_clone(g->m, err);
        qs_gpt_train_res res;
        memset(&res, 0, sizeof res);
        if (!m) { rc = QS_ERR; break; }
        qs_gpt_train_cfg tc = { (int)steps, (int)batch, modes[k] == QS_GPT_FULL ? full_lr : lr,
                                (int)(steps / 10), 0.0, 1.0, (uint64_t)seed, modes[k],
                                (int)rank, alpha, 0, 0, names[k] };
        qs_gpt_eval eb, ef;
        rc = qs_gpt_train(QS_SINK(s), m, tr, ntr, &tc, &res, err);
        if (rc == QS_OK) rc = qs_gpt_evaluate(NULL, m, NULL, NULL, g->held, nb, NULL, &eb, err);
        if (rc == QS_OK) rc = qs_gpt_evaluate(NULL, m, NULL, NULL, he, nf, NULL, &ef, err);
        if (rc == QS_OK) {
            json_t *r = json_object();
            json_object_set_new(r, "method", json_string(names[k]));
            json_object_set_new(r, "trainable", json_integer(res.trainable));
            json_object_set_new(r, "weight_bytes", json_integer(res.weight_bytes));
            json_object_set_new(r, "peak_bytes", json_integer(res.peak_bytes));
            qs_json_set_real(r, "seconds", res.seconds);
            qs_json_set_real(r, "ft_ppl", ef.ppl);
            qs_json_set_real(r, "base_ppl", eb.ppl);
            qs_json_set_real(r, "ft_bpc", ef.bpc);
            qs_json_set_real(r, "base_bpc", eb.bpc);
            sample_json(r, "sample", m, "Q: ", 160);
            json_array_append_new(methods, r);
        }
        qs_gpt_train_res_fini(&res);
        qs_gpt_free(m);
    }
    free(tr);
    free(he);
    if (rc != QS_OK) {
        json_decref(o);
        json_decref(methods);
        return rc;
    }
    json_object_set_new(o, "params", json_integer(g->m->n));
    json_object_set_new(o, "methods", methods);
    *out = o;
    return QS_OK;
}

static int sub_status(qs_session *s, qs_gpt_lab *g, int argc, char **argv, json_t **out,
                      qs_err *err)
{
    (void)s;
    (void)argv;
    if (argc) return qs_err_set(err, "lab gpt status: takes no arguments");
    json_t *o = json_object();
    json_object_set_new(o, "model", g->m ? json_string(g->source) : json_null());
    if (g->m) json_object_set_new(o, "config", cfg_json(g->m));
    json_object_set_new(o, "sweep_rows", json_integer(g->nrows));
    json_object_set_new(o, "generations", json_integer(g->ngens));
    *out = o;
    return QS_OK;
}

/* ---- the nested table: `lab gpt NAME ...` runs row NAME with the words after it -------- */

/* format= / formats= take the rows of formats[] */
static const char *vocab_format(int i, const char **help)
{
    if (help) *help = NULL;
    return i >= 0 && i < NFORMATS ? formats[i].name : NULL;
}

static int gpt_ptq(qs_session *s, qs_gpt_lab *g, int argc, char **argv, json_t **out,
                   qs_err *err)
{
    uint8_t *tok, *owned;
    int64_t n;
    if (ensure_model(g, err) != QS_OK ||
        eval_text(g, argc, argv, 8192, &tok, &n, &owned, err) != QS_OK)
        return QS_ERR;
    int rc = qs_cmd_gpt_ptq(s, g, tok, n, argc, argv, out, err);
    free(owned);
    return rc;
}

/* Each row's run: the session's GPT lab, then the sub_ function (its words already passed
 * the row's specs: qs_cmd_run_sub). */
#define GPT_SUB(fn, call)                                                                  \
    static int fn(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)          \
    {                                                                                      \
        qs_gpt_lab *g = gpt_lab(s);                                                        \
        if (!g) return qs_err_set(err, "lab gpt: out of memory");                          \
        return call;                                                                       \
    }
GPT_SUB(gsub_train, sub_train(s, g, argc, argv, out, err))
GPT_SUB(gsub_load, sub_load(s, g, argc, argv, out, err))
GPT_SUB(gsub_save, sub_save(s, g, argc, argv, out, err))
GPT_SUB(gsub_eval, sub_eval(s, g, argc, argv, out, err))
GPT_SUB(gsub_sweep, sub_sweep(s, g, argc, argv, out, err))
GPT_SUB(gsub_ptq, gpt_ptq(s, g, argc, argv, out, err))
GPT_SUB(gsub_generate, sub_generate(s, g, argc, argv, out, err))
GPT_SUB(gsub_qat, sub_qat(s, g, argc, argv, out, err))
GPT_SUB(gsub_lora, sub_lora(s, g, argc, argv, out, err, 0))
GPT_SUB(gsub_qlora, sub_lora(s, g, argc, argv, out, err, 1))
GPT_SUB(gsub_acts, sub_acts(s, g, argc, argv, out, err))
GPT_SUB(gsub_status, sub_status(s, g, argc, argv, out, err))

#define G_SEED { QS_ARG_INT, "seed", "S", 0, (double)((long long)1 << 62), "1", "seed of the "  \
                 "run (same seed, same numbers)", NULL, NULL }
#define G_TEXT { QS_ARG_TEXT, "text", "PATH", 0, 0, NULL, "evaluate on this text file "     \
                 "(default: the shipped held-out KJV excerpt)", NULL, NULL }
#define G_CHARS(d) { QS_ARG_INT, "chars", "N", 2, (double)(1LL << 30), d, "at most N "       \
                     "characters of the text", NULL, NULL }
#define G_CORPUS_TRAIN { QS_ARG_TEXT, "corpus", "PATH", 0, 0, "datasets/kjv.txt", "training "    \
                         "text (datasets/kjv.txt is written by make datasets)", NULL, NULL }
#define G_CORPUS_QAT { QS_ARG_TEXT, "corpus", "PATH", 0, 0, "datasets/kjv.txt", "training text; " \
                       "without it and without datasets/kjv.txt (make datasets), the shipped " \
                       "held-out excerpt after its first 16384 characters", NULL, NULL }
#define G_CORPUS_FT { QS_ARG_TEXT, "corpus", "PATH", 0, 0, "datasets/gpt-fortunes.txt",         \
                      "fine-tuning text (the default ships with qscope)", NULL, NULL }
#define G_EMBED { QS_ARG_FLAG, "embed", NULL, 0, 0, NULL, "also quantize the tied embedding / " \
                  "output layer", NULL, NULL }
#define G_STEPS(d) { QS_ARG_INT, "steps", "N", 1, 100000, d, "optimizer steps", NULL, NULL }
#define G_BATCH(d) { QS_ARG_INT, "batch", "N", 1, 4096, d, "windows per step", NULL, NULL }
#define G_LR(d) { QS_ARG_REAL, "lr", "LR", 1e-9, 10, d, "learning rate", NULL, NULL }

static const qs_arg gtrain_args[] = {
    G_CORPUS_TRAIN,
    { QS_ARG_INT, "steps", "N", 1, 1000000, "1500", "optimizer steps", NULL, NULL },
    G_BATCH("16"), G_LR("0.003"),
    { QS_ARG_INT, "warmup", "N", 0, 1000000, "100", "linear warm-up steps", NULL, NULL },
    { QS_ARG_REAL, "wd", "W", 0, 10, "0.1", "AdamW weight decay", NULL, NULL },
    { QS_ARG_REAL, "clip", "C", 0, 1e9, "1", "gradient norm clip (0: none)", NULL, NULL },
    G_SEED,
    { QS_ARG_INT, "ctx", "N", 2, QS_GPT_MAX_CTX, "64", "context length", NULL, NULL },
    { QS_ARG_INT, "d", "N", 4, QS_GPT_MAX_D, "64", "model width", NULL, NULL },
    { QS_ARG_INT, "layers", "N", 1, QS_GPT_MAX_LAYERS, "4", "transformer blocks", NULL, NULL },
    { QS_ARG_INT, "heads", "N", 1, QS_GPT_MAX_D, "4", "attention heads", NULL, NULL },
    { QS_ARG_INT, "ff", "N", 0, 4 * QS_GPT_MAX_D, "0", "MLP width (0: 4d)", NULL, NULL },
    { 0 },
};
static const qs_arg gload_args[] = {
    { QS_ARG_POS, "PATH", NULL, 0, 0, NULL, "a model written by lab gpt save", NULL, NULL },
    { 0 },
};
static const qs_arg gsave_args[] = {
    { QS_ARG_POS, "PATH", NULL, 0, 0, NULL, "the safetensors file to write", NULL, NULL },
    { QS_ARG_FLAG, "--force", NULL, 0, 0, NULL, "replace an existing PATH", NULL, NULL },
    { 0 },
};
static const qs_arg geval_args[] = {
    { QS_ARG_TEXT, "format", "F", 0, 0, "fp32", "the weight / activation / KV format", NULL,
      vocab_format },
    G_EMBED, G_TEXT, G_CHARS("all"), { 0 },
};
static const qs_arg gsweep_args[] = {
    { QS_ARG_LIST, "formats", "F,...", 0, 0, NULL, "the formats (default: all but mxfp4 and "
      "nvfp4; with methods=: fp32,mxfp4,nvfp4)", NULL, vocab_format },
    { QS_ARG_LIST, "methods", "M,...", 0, 0, NULL, "add the PTQ method rows (all: every "
      "method)", NULL, qs_gpt_vocab_methods },
    G_EMBED, G_TEXT, G_CHARS("8192"), { 0 },
};
static const qs_arg gptq_args[] = {
    { QS_ARG_TEXT, "method", "M", 0, 0, "rtn", "the PTQ method", NULL, qs_gpt_vocab_method },
    { QS_ARG_INT, "bits", "B", 0, 8, "4", "rtn, gptq, awq, rotate: weight bits (0: rotate "
      "only, the fp32 equivalence check)", NULL, NULL },
    { QS_ARG_INT, "group", "G", 0, 1 << 16, "32", "rtn, gptq, awq, rotate: weights per scale (0: "
      "per channel)", NULL, NULL },
    { QS_ARG_FLAG, "sym", NULL, 0, 0, NULL, "rtn, gptq, awq, rotate: symmetric weight grid "
      "(default affine)", NULL,
      NULL },
    { QS_ARG_FLAG, "actorder", NULL, 0, 0, NULL, "gptq: columns by decreasing Hessian "
      "diagonal", NULL, NULL },
    { QS_ARG_FLAG, "noclip", NULL, 0, 0, NULL, "awq: skip llm-awq's clipping search (scales "
      "only)", NULL, NULL },
    { QS_ARG_REAL, "damp", "D", 0, 10, "0.01", "gptq: Hessian dampening (fraction of its mean "
      "diagonal)", NULL, NULL },
    { QS_ARG_REAL, "alpha", "A", 0, 1, "0.5", "smoothquant: migration strength", NULL, NULL },
    { QS_ARG_REAL, "threshold", "T", 0, 1e30, "6", "llmint8: outlier threshold", NULL, NULL },
    { QS_ARG_INT, "seed", "S", 0, (long long)1 << 62, "1", "rotate: seed of the random "
      "signs", NULL, NULL },
    { QS_ARG_INT, "grid", "G", 1, 100, "20", "awq: scale search grid points", NULL, NULL },
    { QS_ARG_INT, "calib", "N", 128, 1 << 16, "2048", "gptq, awq, smoothquant, llmint8: "
      "calibration tokens (held-out characters from 32768 on)", NULL, NULL },
    G_TEXT, G_CHARS("8192"), { 0 },
};
static const qs_arg ggenerate_args[] = {
    { QS_ARG_TEXT, "prompt", "TEXT", 0, 0, "\"" SAMPLE_PROMPT "\"", "the prompt (printable "
      "ASCII and newline)", NULL, NULL },
    { QS_ARG_INT, "n", "N", 1, GEN_MAX, "200", "characters to generate", NULL, NULL },
    { QS_ARG_LIST, "formats", "F,...", 0, 0, "fp32,int8-channel,int4-channel,nf4,q4_k",
      "one generation per format; each after the first has same_as_first, the number of its "
      "leading characters equal to the first's (a count, not yes/no)", NULL, vocab_format },
    { QS_ARG_REAL, "temp", "T", 0, 100, "0", "sampling temperature (0: greedy)", NULL, NULL },
    G_SEED, G_EMBED, { 0 },
};
static const char *const gbits_names[] = {"2", "3", "4", "5", "6", "7", "8", NULL};
static const qs_arg gqat_args[] = {
    { QS_ARG_LIST, "bits", "B,...", 0, 0, "3,4", "weight bit widths", gbits_names, NULL },
    { QS_ARG_INT, "group", "G", 2, 4096, "32", "weights per scale", NULL, NULL },
    G_STEPS("150"), G_BATCH("8"), G_LR("0.0005"), G_SEED, G_CORPUS_QAT, G_TEXT, G_CHARS("16384"),
    { 0 },
};
static const qs_arg glora_args[] = {
    { QS_ARG_INT, "rank", "R", 1, QS_GPT_MAX_D, "8", "adapter rank, at most the model "
      "width d (64 for the shipped model)", NULL, NULL },
    { QS_ARG_REAL, "alpha", "A", 1e-9, 1e6, "2r", "adapter scale numerator", NULL, NULL },
    G_STEPS("150"), G_BATCH("8"), G_LR("0.003"),
    { QS_ARG_REAL, "full_lr", "LR", 1e-9, 10, "0.0005", "full fine-tuning's learning rate",
      NULL, NULL },
    G_SEED, G_CORPUS_FT, G_CHARS("16384"), { 0 },
};
static const qs_arg gacts_args[] = {
    { QS_ARG_INT, "top", "N", 1, 64, "5", "channels listed per layer", NULL, NULL },
    G_TEXT, G_CHARS("8192"), { 0 },
};

/* The rows of `lab gpt`: help, completion and the check of every word follow from them. */
const qs_cmd qs_gpt_subs[] = {
    {"train", "lab", "lab gpt train [steps=1500] [batch=16] [lr=0.003] [warmup=100] [wd=0.1] "
     "[clip=1] [seed=1] [ctx=64] [d=64] [layers=4] [heads=4] [ff=0] [corpus=PATH]",
     "train the character-level transformer on the King James Bible", NULL,
     "lab gpt train steps=300", NULL, 0, QS_CMD_SLOW, gsub_train, gtrain_args,
     .kinds = QS_RK(QS_R_OBJECT) | QS_RK(QS_R_TABLE)},
    {"load", "lab", "lab gpt load PATH", "a model saved by lab gpt save", NULL,
     "lab gpt load datasets/gpt-kjv.safetensors", NULL, QS_COMPL_FILE, 0, gsub_load,
     gload_args, .kinds = QS_RK(QS_R_OBJECT) | QS_RK(QS_R_TABLE)},
    {"save", "lab", "lab gpt save PATH [--force]", "the lab's model as safetensors", NULL,
     "lab gpt save gpt.safetensors", NULL, QS_COMPL_FILE, 0, gsub_save, gsave_args,
     .kinds = QS_RK(QS_R_OBJECT) | QS_RK(QS_R_TABLE)},
    {"eval", "lab", "lab gpt eval [format=F] [embed] [text=PATH] [chars=N]",
     "perplexity of the model in one format, and its divergence from fp32", NULL,
     "lab gpt eval format=int4-g32-sym", NULL, 0, QS_CMD_SLOW, gsub_eval, geval_args,
     .kinds = QS_RK(QS_R_OBJECT) | QS_RK(QS_R_TABLE)},
    {"sweep", "lab", "lab gpt sweep [formats=F,...] [methods=M,...|all] [embed] [text=PATH] "
     "[chars=8192]", "every format (and PTQ method) against the fp32 model", NULL,
     "lab gpt sweep formats=fp32,int8-channel,nf4", NULL, 0, QS_CMD_SLOW, gsub_sweep,
     gsweep_args, .kinds = QS_RK(QS_R_OBJECT) | QS_RK(QS_R_TABLE)},
    {"ptq", "lab", "lab gpt ptq [method=M] [bits=4] [group=32] [sym] [actorder] [noclip] "
     "[damp=0.01] [alpha=0.5] [threshold=6] [seed=1] [grid=20] [calib=2048] [text=PATH] [chars=8192]",
     "one post-training quantization method next to its baseline", NULL,
     "lab gpt ptq method=gptq bits=4 group=32", NULL, 0, QS_CMD_SLOW, gsub_ptq, gptq_args,
     .kinds = QS_RK(QS_R_OBJECT) | QS_RK(QS_R_TABLE)},
    {"generate", "lab", "lab gpt generate [prompt=TEXT] [n=200] [formats=F,...] [temp=0] "
     "[seed=1] [embed]", "sample text from the model in several formats", NULL,
     "lab gpt generate n=80", NULL, 0, QS_CMD_SLOW, gsub_generate, ggenerate_args,
     .kinds = QS_RK(QS_R_OBJECT) | QS_RK(QS_R_TABLE)},
    {"qat", "lab", "lab gpt qat [bits=3,4] [group=32] [steps=150] [batch=8] [lr=0.0005] "
     "[seed=1] [corpus=PATH] [text=PATH] [chars=16384]",
     "quantization-aware fine-tuning at each bit width, against PTQ", NULL,
     "lab gpt qat bits=4 steps=50", NULL, 0, QS_CMD_SLOW, gsub_qat, gqat_args,
     .kinds = QS_RK(QS_R_OBJECT) | QS_RK(QS_R_TABLE)},
    {"lora", "lab", "lab gpt lora [rank=8] [alpha=2r] [steps=150] [batch=8] [lr=0.003] "
     "[full_lr=0.0005] [seed=1] [corpus=PATH] [chars=16384]",
     "LoRA fine-tuning beside full fine-tuning", NULL, "lab gpt lora steps=50", NULL, 0,
     QS_CMD_SLOW, gsub_lora, glora_args, .kinds = QS_RK(QS_R_OBJECT) | QS_RK(QS_R_TABLE)},
    {"qlora", "lab", "lab gpt qlora [rank=8] [alpha=2r] [steps=150] [batch=8] [lr=0.003] "
     "[full_lr=0.0005] [seed=1] [corpus=PATH] [chars=16384]",
     "QLoRA (NF4 base) fine-tuning beside LoRA", NULL, "lab gpt qlora steps=50", NULL, 0,
     QS_CMD_SLOW, gsub_qlora, glora_args, .kinds = QS_RK(QS_R_OBJECT) | QS_RK(QS_R_TABLE)},
    {"acts", "lab", "lab gpt acts [top=5] [text=PATH] [chars=8192]",
     "every linear layer's input channels' absmax (the outliers SmoothQuant and LLM.int8() "
     "target)", NULL, "lab gpt acts top=3", NULL, 0, QS_CMD_SLOW, gsub_acts, gacts_args,
     .kinds = QS_RK(QS_R_OBJECT) | QS_RK(QS_R_TABLE)},
    {"status", "lab", "lab gpt status", "what the GPT lab holds", NULL, "lab gpt status",
     NULL, 0, 0, gsub_status, NULL, .kinds = QS_RK(QS_R_OBJECT) | QS_RK(QS_R_TABLE)},
    {0},
};

int qs_cmd_lab_gpt(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    const qs_cmd *me = qs_cmd_sub(lab_row(), "gpt");
    if (!me) return qs_err_set(err, "lab gpt: not in the command table");
    return qs_cmd_run_sub(me, s, argc, argv, out, err);
}
