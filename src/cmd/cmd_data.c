/* cmd_data.c — data commands: load, tensors, use, values, synth, stats, hist. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/cmd.h"
#include "qscope/io.h"
#include "qscope/kernels.h"
#include "qscope/quant.h"
#include "qscope/stats.h"
#include "qscope/synth.h"

#include "cmd_priv.h"

static json_t *shape_json(int ndim, const int64_t *shape)
{
    json_t *a = json_array();
    for (int i = 0; i < ndim; i++) json_array_append_new(a, json_integer(shape[i]));
    return a;
}

/* The "current tensor" summary every data command returns. */
static json_t *tensor_summary(const qs_session *s)
{
    const qs_tensor *t = s->tensor;
    json_t *o = json_object();
    if (!t && s->file && s->tensor_index >= 0) {
        const qs_entry *e = &s->file->entries[s->tensor_index];
        json_object_set_new(o, "tensor", json_string(e->name));
        json_object_set_new(o, "dtype", json_string(qs_dtype_name(e->dtype)));
        json_object_set_new(o, "shape", shape_json(e->ndim, e->shape));
        json_object_set_new(o, "n", json_integer(e->n));
        return o;
    }
    if (!t) return o;
    json_object_set_new(o, "tensor", json_string(t->name));
    json_object_set_new(o, "dtype", json_string(qs_dtype_name(t->src_dtype)));
    json_object_set_new(o, "shape", shape_json(t->ndim, t->shape));
    json_object_set_new(o, "n", json_integer(t->n));
    return o;
}

int qs_need_tensor(qs_session *s, const char *cmd, qs_err *err)
{
    if (!s->tensor && s->file && s->tensor_index >= 0) {
        if (qs_session_materialize(s, err) != QS_OK) return qs_err_prefix(err, cmd);
    }
    if (s->tensor) return QS_OK;
    return qs_err_set(err, "%s: no tensor loaded (try 'synth normal', 'values 0 250 1000' "
                      "or 'load FILE')", cmd);
}

/* ---- load / tensors / use -------------------------------------------------------------- */

/* Tensors up to this many stored bytes are converted when selected (so a bad tensor fails at
 * `load`); larger ones are converted by the first command that needs the values, so opening
 * and listing a 10 GB file stays instant. */
#define QS_EAGER_BYTES (64u << 20)

static int select_tensor(qs_session *s, qs_file *f, int idx, qs_err *err)
{
    qs_tensor *t = NULL;
    if (f->entries[idx].nbytes <= QS_EAGER_BYTES && qs_file_read(f, idx, &t, err) != QS_OK)
        return QS_ERR;
    qs_session_set_tensor(s, t);
    s->tensor_index = idx;
    return QS_OK;
}

int qs_session_materialize(qs_session *s, qs_err *err)
{
    qs_tensor *t = NULL;
    if (s->tensor || !s->file || s->tensor_index < 0 || s->tensor_index >= s->file->n)
        return QS_OK;
    qs_session_progress(s, "converting tensor", 0, 1);
    if (qs_file_read(s->file, s->tensor_index, &t, err) != QS_OK) return QS_ERR;
    qs_session_set_tensor(s, t);
    qs_session_progress(s, "converting tensor", 1, 1);
    return QS_OK;
}

static int run_load(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    qs_file *f = NULL;
    if (argc < 1 || argc > 2)
        return qs_err_set(err, "load: expected a path and optionally a tensor name "
                          "(usage: load PATH [TENSOR])");
    if (qs_cmd_check_path(s, "load", argv[0], 0, err) != QS_OK) return QS_ERR;
    int orc = qs_file_open_cancel(argv[0], s->cancel, &f, err);   /* Ctrl-C, Esc stop it */
    if (orc != QS_OK) return orc;
    if (s->sandbox) {
        /* a folder opened its model file, a sharded index its shards: links in the lesson's
         * folder may point anywhere, so each file read is checked too (a lesson read
         * ../secret.safetensors through a shard link) */
        int crc = strcmp(f->path, argv[0]) ? qs_cmd_check_path(s, "load", f->path, 0, err)
                                           : QS_OK;
        for (int i = 0; crc == QS_OK && i < qs_file_nshards(f); i++) {
            char *p = qs_file_shard_path(f, i);
            crc = p ? qs_cmd_check_path(s, "load", p, 0, err)
                    : qs_err_set(err, "load: out of memory");
            free(p);
        }
        if (crc != QS_OK) {
            qs_file_close(f);
            return QS_ERR;
        }
    }
    if (f->n == 0) {
        qs_err_set(err, "%s: the file holds no tensors", argv[0]);
        qs_file_close(f);
        return QS_ERR;
    }
    int idx = 0;
    if (argc == 2) {
        idx = qs_file_find(f, argv[1]);
        if (idx < 0) {
            qs_err_set(err, "%s: no tensor named '%s' (%d tensors; 'tensors' lists them)",
                       argv[0], argv[1], f->n);
            qs_file_close(f);
            return QS_ERR;
        }
    }
    /* Load into temporaries first: a failure keeps the session's previous file and tensor. */
    qs_tensor *t = NULL;
    if (f->entries[idx].nbytes <= QS_EAGER_BYTES && qs_file_read(f, idx, &t, err) != QS_OK) {
        qs_file_close(f);
        return QS_ERR;
    }
    qs_file_close(s->file);
    s->file = f;
    qs_session_set_tensor(s, t);
    s->tensor_index = idx;
    json_t *o = tensor_summary(s);
    json_object_set_new(o, "file", json_string(f->path));
    json_object_set_new(o, "format", json_string(f->format));
    json_object_set_new(o, "n_tensors", json_integer(f->n));
    if (t && (t->src_dtype == QS_DT_F64 || t->src_dtype == QS_DT_TEXT)) {
        int64_t ninf = 0;       /* float32 has no room past ±3.40282e+38: say so on loading */
        for (int64_t i = 0; i < t->n; i++) ninf += isinf(t->data[i]);
        if (ninf) {
            char w[300];
            snprintf(w, sizeof w, "%lld of %lld values are ±inf in float32: an infinity in "
                     "the file, or a %s value beyond float32's largest (3.40282e+38), which "
                     "the conversion to float32 makes infinite", (long long)ninf,
                     (long long)t->n, t->src_dtype == QS_DT_F64 ? "float64" : "text");
            json_object_set_new(o, "warning", json_string(w));
        }
    }
    *out = o;
    return QS_OK;
}

static int run_tensors(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    (void)argv;
    if (argc > 0)
        return qs_err_set(err, "tensors: unexpected argument '%s' (usage: tensors)", argv[0]);
    json_t *arr = json_array();
    json_t *o = json_object();
    if (s->file) {
        const qs_file *f = s->file;
        for (int i = 0; i < f->n; i++) {
            const qs_entry *e = &f->entries[i];
            json_t *t = json_object();
            json_object_set_new(t, "name", json_string(e->name));
            json_object_set_new(t, "dtype", json_string(e->type_name ? e->type_name
                                                                     : qs_dtype_name(e->dtype)));
            json_object_set_new(t, "shape", shape_json(e->ndim, e->shape));
            json_object_set_new(t, "n", json_integer(e->n));
            json_object_set_new(t, "bytes", json_integer((json_int_t)e->nbytes));
            json_object_set_new(t, "current", json_boolean(i == s->tensor_index));
            json_array_append_new(arr, t);
        }
        json_object_set_new(o, "file", json_string(f->path));
        json_object_set_new(o, "format", json_string(f->format));
        if (f->nmeta > 0) {
            json_t *m = json_object();
            for (int i = 0; i < f->nmeta; i++)
                json_object_set_new(m, f->meta[i].key, json_string(f->meta[i].value));
            json_object_set_new(o, "metadata", m);
        }
    } else if (s->tensor) {
        const qs_tensor *t = s->tensor;
        json_t *e = json_object();
        json_object_set_new(e, "name", json_string(t->name));
        json_object_set_new(e, "dtype", json_string(qs_dtype_name(t->src_dtype)));
        json_object_set_new(e, "shape", shape_json(t->ndim, t->shape));
        json_object_set_new(e, "n", json_integer(t->n));
        json_object_set_new(e, "bytes", json_integer(t->n * 4));
        json_object_set_new(e, "current", json_true());
        json_array_append_new(arr, e);
    }
    json_object_set_new(o, "tensors", arr);
    *out = o;
    return QS_OK;
}

static int run_use(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    if (argc != 1) return qs_err_set(err, "use: expected one tensor name (usage: use TENSOR)");
    if (!s->file) return qs_err_set(err, "use: no file loaded (usage: load PATH [TENSOR])");
    int idx = qs_file_find(s->file, argv[0]);
    if (idx < 0)
        return qs_err_set(err, "use: %s has no tensor named '%s'", s->file->path, argv[0]);
    if (select_tensor(s, s->file, idx, err) != QS_OK) return QS_ERR;
    *out = tensor_summary(s);
    return QS_OK;
}

/* ---- values / synth -------------------------------------------------------------------- */

static int run_values(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    if (argc < 1) return qs_err_set(err, "values: expected at least one number (usage: values V...)");
    float *v = malloc((size_t)argc * sizeof *v);
    if (!v) return qs_err_set(err, "values: out of memory");
    for (int i = 0; i < argc; i++) {
        double d;
        if (qs_parse_double(argv[i], &d) < 0) {
            free(v);
            return qs_err_set(err, "values: '%s' is not a number", argv[i]);
        }
        /* beyond float32 (or double: strtod's overflow) would silently become ±inf */
        if ((isfinite(d) && fabs(d) > FLT_MAX) || (isinf(d) && !strcasestr(argv[i], "inf"))) {
            free(v);
            return qs_err_set(err, "values: '%s' is beyond float32's largest value %g (write "
                              "inf for infinity)", argv[i], (double)FLT_MAX);
        }
        v[i] = (float)d;
    }
    qs_tensor *t = qs_tensor_from_values("values", v, argc, err);
    free(v);
    if (!t) return QS_ERR;
    qs_file_close(s->file);
    s->file = NULL;
    s->tensor_index = -1;
    qs_session_set_tensor(s, t);
    *out = tensor_summary(s);
    return QS_OK;
}

static int run_synth(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    const char *dist = qs_arg_pos(argc, argv, 0);
    long long n = 100000, seed = 1;
    qs_tensor *t = NULL;
    if (!dist) return qs_err_set(err, "synth: expected a distribution (usage: synth DIST "
                                 "[n=N] [seed=S] [param=value ...])");
    if (qs_arg_pos(argc, argv, 1))
        return qs_err_set(err, "synth: unexpected argument '%s'", qs_arg_pos(argc, argv, 1));
    if (qs_arg_int(argc, argv, "n", 1, 1LL << 31, &n, err) ||
        qs_arg_int(argc, argv, "seed", 0, INT64_MAX, &seed, err))
        return QS_ERR;
    qs_progress prog = qs_session_sink(s);
    int rc = qs_synth_cmd_progress(dist, n, (uint64_t)seed, argc, argv, &prog, &t, err);
    if (rc != QS_OK) return rc;
    qs_file_close(s->file);
    s->file = NULL;
    s->tensor_index = -1;
    qs_session_set_tensor(s, t);
    *out = tensor_summary(s);
    return QS_OK;
}

/* ---- stats / hist ---------------------------------------------------------------------- */

static int run_stats(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    (void)argv;
    if (argc > 0)
        return qs_err_set(err, "stats: unexpected argument '%s' (usage: stats)", argv[0]);
    if (qs_need_tensor(s, "stats", err)) return QS_ERR;
    qs_stats st;
    if (qs_stats_compute(s->tensor->data, s->tensor->n, &st, err) != QS_OK) return QS_ERR;
    json_t *o = tensor_summary(s);
    qs_json_set_real(o, "min", st.min);
    qs_json_set_real(o, "max", st.max);
    qs_json_set_real(o, "mean", st.mean);
    qs_json_set_real(o, "std", st.std);
    qs_json_set_real(o, "absmax", st.absmax);
    json_t *pc = json_object();
    for (int i = 0; i < QS_STATS_NPCT; i++) {
        char key[32];
        snprintf(key, sizeof key, "p%g", qs_stats_pct_levels[i]);
        qs_json_set_real(pc, key, st.pct[i]);
    }
    json_object_set_new(o, "percentiles", pc);
    json_object_set_new(o, "zeros", json_integer(st.zeros));
    json_object_set_new(o, "nan", json_integer(st.nan));
    json_object_set_new(o, "inf", json_integer(st.inf));
    /* already-quantized weights: few distinct values on a uniform grid (src/quant/grid.c) */
    qs_grid g;
    if (qs_grid_detect(s->tensor->data, s->tensor->n, &g, err) != QS_OK) {
        json_decref(o);
        return QS_ERR;
    }
    json_object_set_new(o, "distinct", g.more ? json_null() : json_integer(g.distinct));
    if (g.more) json_object_set_new(o, "distinct_over", json_integer(QS_GRID_MAX_DISTINCT));
    json_object_set_new(o, "grid_step", isfinite(g.step) ? qs_json_real(g.step) : json_null());
    if (isfinite(g.step)) json_object_set_new(o, "grid_levels", json_integer(g.levels));
    if (qs_grid_quantized(&g)) {
        char note[600];
        qs_cmd_grid_note(&g, NULL, 0, note, sizeof note);
        json_object_set_new(o, "quantized", json_string(note));
    }
    *out = o;
    return QS_OK;
}

static int parse_range(const char *r, double *lo, double *hi)
{
    const char *colon = strchr(r, ':');
    char buf[128];
    if (!colon || (size_t)(colon - r) >= sizeof buf) return -1;
    memcpy(buf, r, (size_t)(colon - r));
    buf[colon - r] = '\0';
    if (qs_parse_double(buf, lo) < 0 || qs_parse_double(colon + 1, hi) < 0) return -1;
    if (!(isfinite(*lo) && isfinite(*hi) && *hi > *lo)) return -1;
    return 0;
}

static int run_hist(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    long long bins = 40;
    double lo, hi;
    if (qs_args_check(qs_cmd_find("hist"), argc, argv, err)) return QS_ERR;
    if (qs_arg_int(argc, argv, "bins", 1, 100000, &bins, err)) return QS_ERR;
    if (qs_need_tensor(s, "hist", err)) return QS_ERR;
    const char *r = qs_arg_kv(argc, argv, "range");
    if (r) {
        if (parse_range(r, &lo, &hi) < 0)
            return qs_err_set(err, "hist: range=%s: expected LO:HI with LO < HI", r);
    } else {
        /* the finite range, as stats reports it: an Inf must not push the range aside */
        float mn, mx;
        int64_t nfin;
        qs_finite_minmax(s->tensor->data, s->tensor->n, &mn, &mx, &nfin, NULL, NULL);
        lo = nfin ? mn : 0;
        hi = nfin ? mx : 1;
        if (!(hi > lo)) { lo -= 0.5; hi += 0.5; }
    }
    uint64_t *counts = calloc((size_t)bins, sizeof *counts);
    if (!counts) return qs_err_set(err, "hist: out of memory");
    qs_hist h = {(int)bins, lo, hi, counts, 0, 0, 0};
    if (qs_session_hist(s, &h, err) != QS_OK) {     /* the TUI asks again per scheme change */
        free(counts);
        return QS_ERR;
    }
    json_t *o = json_object();
    json_t *c = json_array(), *e = json_array();
    for (long long i = 0; i < bins; i++) json_array_append_new(c, json_integer((json_int_t)counts[i]));
    for (long long i = 0; i <= bins; i++) json_array_append_new(e, qs_json_real(lo + (hi - lo) * (double)i / (double)bins));
    json_object_set_new(o, "tensor", json_string(s->tensor->name));
    json_object_set_new(o, "bins", json_integer(bins));
    qs_json_set_real(o, "lo", lo);
    qs_json_set_real(o, "hi", hi);
    json_object_set_new(o, "counts", c);
    json_object_set_new(o, "edges", e);
    json_object_set_new(o, "under", json_integer((json_int_t)h.under));
    json_object_set_new(o, "over", json_integer((json_int_t)h.over));
    json_object_set_new(o, "nan", json_integer((json_int_t)h.nan));
    json_object_set_new(o, "log", json_boolean(qs_arg_flag(argc, argv, "log")));
    free(counts);
    *out = o;
    return QS_OK;
}

static const qs_arg synth_args[] = {
    { QS_ARG_WORD, "DIST", NULL, 0, 0, NULL, NULL, qs_synth_names, NULL,
      qs_vocab_synth_params },
    { QS_ARG_INT, "n", "N", 1, (double)(1LL << 31), "100000", NULL, NULL, NULL },
    { QS_ARG_INT, "seed", "S", 0, 9e18, "1", NULL, NULL, NULL },
    { 0 },
};
static const qs_arg hist_args[] = {
    { QS_ARG_INT, "bins", "B", 1, 100000, "40", NULL, NULL, NULL },
    { QS_ARG_TEXT, "range", "LO:HI", 0, 0, NULL, NULL, NULL, NULL },
    { QS_ARG_FLAG, "log", NULL, 0, 0, NULL, NULL, NULL, NULL },
    { 0 },
};

const qs_cmd qs_cmds_data[] = {
    {"load", "data", "load PATH [TENSOR]",
     "open a .npy, .safetensors, .gguf, PyTorch (.pt/.pth/.bin) or text/CSV file, or a "
     "sharded checkpoint folder, and select a tensor (the first by default)",
     "PATH    the file (its format is detected from its first bytes), a folder holding\n"
     "        model.safetensors.index.json, or that index itself\n"
     "TENSOR  the tensor to select; names may contain '/' and '.' (quote them if they "
     "contain spaces)",
     "load datasets/default.npy", NULL, QS_COMPL_FILE | QS_COMPL_TENSOR,
     QS_CMD_SLOW | QS_CMD_NOTENSOR | QS_CMD_READS, run_load, .kinds = QS_RK(QS_R_OBJECT)},
    {"tensors", "data", "tensors", "list the tensors of the loaded file: name, dtype, shape, "
     "elements, bytes", "", "tensors", NULL, 0, QS_CMD_NOTENSOR, run_tensors,
     .kinds = QS_RK(QS_R_TABLE)},
    {"use", "data", "use TENSOR", "select another tensor of the loaded file",
     "TENSOR  a name from 'tensors'", "use default", NULL, QS_COMPL_TENSOR,
     QS_CMD_NOTENSOR, run_use, .kinds = QS_RK(QS_R_OBJECT)},
    {"values", "data", "values V...", "make a tensor of numbers typed in by hand",
     "V  numbers (e.g. 0 250 1000)", "values -20 1000", NULL, 0, QS_CMD_NOTENSOR, run_values,
     .kinds = QS_RK(QS_R_OBJECT)},
    {"synth", "data", "synth DIST [n=N] [seed=S] [param=value ...]",
     "generate a seeded synthetic tensor (same numbers on every machine)",
     "DIST    a distribution, with its parameters and their defaults:\n"
     "  normal     mean=0 std=1\n"
     "  uniform    lo=-1 hi=1 (on [lo, hi))\n"
     "  laplace    loc=0 b=1 (std = b·sqrt 2)\n"
     "  student-t  df=3 loc=0 scale=1 (fewer degrees of freedom, heavier tails)\n"
     "  lognormal  mu=0 sigma=1 (mean and std of the log)\n"
     "  bimodal    mean1=-2 std1=0.5 mean2=2 std2=0.5 weight=0.5 (of the first mode)\n"
     "  outliers   mean=0 std=1 frac=0.01 scale=10 (a share frac, scale times wider)\n"
     "  relu       mean=0 std=1 (of the normal before max(0, x))\n"
     "n=N     number of values (default 100000)\n"
     "seed=S  generator seed (default 1)\n"
     "param=value  set a parameter of DIST (listed above)",
     "synth laplace n=100000 seed=3", NULL, 0, QS_CMD_SLOW | QS_CMD_NOTENSOR, run_synth,
     synth_args,
     .kinds = QS_RK(QS_R_OBJECT)},
    {"stats", "data", "stats", "statistics of the current tensor: n, min, max, mean, std, "
     "absmax, percentiles, zeros, NaN, Inf, distinct values and their grid step",
     "keys: n min max mean std absmax percentiles{p0.01 ... p99.99} zeros nan inf distinct "
     "(null past 65536: distinct_over) grid_step (the step of the uniform grid every value "
     "lies on, else null) grid_levels quantized (present when the tensor looks already "
     "quantized: at most 4096 distinct values on a grid of at most 12-bit codes)",
     "stats", NULL, 0, 0, run_stats, .kinds = QS_RK(QS_R_STATS)},
    {"hist", "data", "hist [bins=B] [range=LO:HI] [log]", "histogram of the current tensor",
     "bins=B       number of bins (default 40)\n"
     "range=LO:HI  range (default: min..max)\n"
     "log          show counts on a log scale", "hist bins=20 range=-3:3", NULL, 0, 0,
     run_hist, hist_args, .kinds = QS_RK(QS_R_HIST)},
    {0},
};
