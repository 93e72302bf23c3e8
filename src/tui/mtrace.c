/* mtrace.c — the Derive screen's method traces: besides the scheme's own derivation, the
 * screen steps through the `steps` of `gptq` (the first columns: quantize, error, update of
 * the later columns) and `smoothquant` (one channel's smoothing factor), as the library
 * returns them. `m` cycles the source, r runs the trace again, ] / [ move to the next GPTQ
 * column or SmoothQuant channel. Every number comes from the commands' results; the methods
 * run through the command table (recorded like any key that runs a command). No ncurses. */
#include "tui_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front/front.h"

/* The trace sources, in the order `m` cycles them. */
const qs_tui_dsrc_row qs_tui_dsrcs[QS_DSRC_COUNT] = {
    [QS_DSRC_SCHEME] = {"scheme", NULL, NULL},
    [QS_DSRC_GPTQ] = {"GPTQ", "gptq", "gptq trace=2"},
    [QS_DSRC_SMOOTH] = {"SmoothQuant", "smoothquant", "smoothquant"},
};

qs_tui_dsrc qs_tui_dsrc_of(const char *cmd)
{
    for (int i = 0; cmd && i < QS_DSRC_COUNT; i++)
        if (qs_tui_dsrcs[i].cmd && strcmp(qs_tui_dsrcs[i].cmd, cmd) == 0) return (qs_tui_dsrc)i;
    return QS_DSRC_SCHEME;
}

json_t *qs_tui_derive_result(const qs_tui_model *m)
{
    if (m->dsrc > QS_DSRC_SCHEME && m->dsrc < QS_DSRC_COUNT) return m->mt[m->dsrc].res;
    return m->derive;
}

void qs_tui_mtrace_clear(qs_tui_mtrace *t)
{
    json_decref(t->res);
    memset(t, 0, sizeof *t);
}

/* The words of line but those for which drop() says 1, joined by spaces into out. 0 when the
 * line does not split (unbalanced quotes) or does not fit. */
static int line_without(const char *line, int (*drop)(const char *w), char *out, size_t len)
{
    char **argv = NULL;
    qs_err err = {{0}};
    int argc = qs_split(line, &argv, &err);
    if (argc < 0) return 0;
    size_t off = 0;
    int ok = 1;
    out[0] = '\0';
    for (int i = 0; i < argc && ok; i++) {
        if (drop(argv[i])) continue;
        int k = snprintf(out + off, len - off, "%s%s", off ? " " : "", argv[i]);
        if (k < 0 || (size_t)k >= len - off) ok = 0;
        else off += (size_t)k;
    }
    qs_split_free(argv);
    return ok && off > 0;
}

static int is_apply(const char *w) { return strcmp(w, "apply") == 0; }
static int is_channel(const char *w) { return strncmp(w, "channel=", 8) == 0; }

/* A method runs on the session's tensor, not on a seed example: stop showing one. */
static void leave_example(qs_tui_model *m)
{
    if (!m->example) return;
    m->example = 0;
    m->has_value = 0;
    m->elem = -1;
}

int qs_tui_mtrace_route(qs_tui_model *m, qs_tui_dsrc src, json_t *out, const char *line)
{
    if (src <= QS_DSRC_SCHEME || src >= QS_DSRC_COUNT) return 0;
    if (json_array_size(json_object_get(out, "steps")) == 0) return 0;  /* trace=0: metrics */
    qs_tui_mtrace *t = &m->mt[src];
    qs_tui_mtrace_clear(t);
    t->res = json_incref(out);
    /* what r reruns: the same options, without replacing the tensor again */
    if (!line || !line_without(line, is_apply, t->line, sizeof t->line))
        snprintf(t->line, sizeof t->line, "%s", qs_tui_dsrcs[src].line);
    t->applied = json_object_get(out, "applied") != NULL;
    snprintf(t->key, sizeof t->key, "%s", m->tensor_key);
    snprintf(t->on, sizeof t->on, "%.250s %.96s", m->t_name, m->t_shape);
    /* the same source again (r, ] / [ to another channel): the step stays, as when the
     * scheme's derivation follows another element */
    int n = (int)json_array_size(json_object_get(out, "steps"));
    if (m->dsrc != (int)src || m->step >= n) m->step = 0;
    m->dsrc = src;
    leave_example(m);
    return 1;
}

/* Runs src's trace on the current tensor: its last line, or the default one. */
static int run_trace(qs_tui_model *m, qs_tui_dsrc src)
{
    const char *line = m->mt[src].line[0] ? m->mt[src].line : qs_tui_dsrcs[src].line;
    return qs_tui_run_user(m, line);
}

/* The first step of part p (GPTQ's p-th traced column), or -1. */
static int part_start(json_t *steps, int p)
{
    size_t i;
    json_t *st;
    json_array_foreach(steps, i, st) {
        json_t *v = json_object_get(st, "part");
        if (json_is_integer(v) && json_integer_value(v) == p) return (int)i;
    }
    return -1;
}

/* The part the step belongs to, or the last part before it (0: before the first). */
static int part_at(json_t *steps, int step)
{
    int p = 0;
    for (int i = 0; i <= step && i < (int)json_array_size(steps); i++) {
        json_t *v = json_object_get(json_array_get(steps, (size_t)i), "part");
        if (json_is_integer(v)) p = (int)json_integer_value(v);
    }
    return p;
}

/* ] / [ on a GPTQ trace: the first step of the next traced column / back to the first step
 * of this one (of the previous one when already there; the set-up steps before column 1). */
static void gptq_part(qs_tui_model *m, int dir)
{
    json_t *steps = json_object_get(m->mt[QS_DSRC_GPTQ].res, "steps");
    int p = part_at(steps, m->step);
    if (dir > 0) {
        int k = part_start(steps, p + 1);
        if (k < 0) qs_tui_status(m, 0, "the last traced column (:gptq trace=C traces C)");
        else m->step = k;
        return;
    }
    int at = part_start(steps, p), target = at >= 0 && at < m->step ? p : p - 1;
    int k = target > 0 ? part_start(steps, target) : 0;
    m->step = k > 0 ? k : 0;
}

/* ] / [ on a SmoothQuant trace: the same command on the next / previous channel. */
static int smooth_channel(qs_tui_model *m, int dir)
{
    const qs_tui_mtrace *t = &m->mt[QS_DSRC_SMOOTH];
    json_t *ch = json_object_get(t->res, "channel");
    json_t *in = json_array_get(json_object_get(t->res, "matrix"), 1);
    if (!json_is_integer(ch) || !json_is_integer(in) || json_integer_value(in) < 1) {
        qs_tui_status(m, 1, "this SmoothQuant result names no channel (r runs it again)");
        return QS_TUI_REDRAW;
    }
    long long n = json_integer_value(in), j = (json_integer_value(ch) + (dir > 0 ? 1 : n - 1)) % n;
    char base[256], line[300];
    if (!line_without(t->line[0] ? t->line : qs_tui_dsrcs[QS_DSRC_SMOOTH].line, is_channel,
                      base, sizeof base))
        snprintf(base, sizeof base, "%s", qs_tui_dsrcs[QS_DSRC_SMOOTH].line);
    snprintf(line, sizeof line, "%s channel=%lld", base, j);
    return qs_tui_run_user(m, line);
}

/* Shows source src: its kept trace when it is of the current tensor, else runs it. */
static int show_source(qs_tui_model *m, qs_tui_dsrc src)
{
    m->dsrc = src;
    m->step = 0;
    if (src == QS_DSRC_SCHEME) {
        qs_tui_status(m, 0, "Derive: the scheme's derivation (m: GPTQ / SmoothQuant traces)");
        return QS_TUI_REDRAW;
    }
    leave_example(m);
    const qs_tui_mtrace *t = &m->mt[src];
    if (t->res && strcmp(t->key, m->tensor_key) == 0) {
        qs_tui_status(m, 0, "Derive: %s trace (`%s`; m: next source, r: run again)",
                      qs_tui_dsrcs[src].title, t->line);
        return QS_TUI_REDRAW;
    }
    if (!m->has_tensor) {
        qs_tui_status(m, 1, "%s needs a tensor (the matrix W): load or synth one",
                      qs_tui_dsrcs[src].title);
        return QS_TUI_REDRAW;
    }
    return run_trace(m, src);
}

int qs_tui_mtrace_key(qs_tui_model *m, qs_tui_act act)
{
    qs_tui_dsrc src = (qs_tui_dsrc)m->dsrc;
    json_t *res = qs_tui_derive_result(m);
    int n = (int)json_array_size(json_object_get(res, "steps"));
    int flags = QS_TUI_HANDLED | QS_TUI_REDRAW;
    switch (act) {
    case QA_TRACE_SRC:
        return show_source(m, (qs_tui_dsrc)((src + 1) % QS_DSRC_COUNT)) | flags;
    case QA_TRACE_RERUN:
        if (src == QS_DSRC_SCHEME) {
            qs_tui_status(m, 0, "r runs a GPTQ / SmoothQuant trace again: m shows one");
            return flags;
        }
        if (!m->has_tensor) {
            qs_tui_status(m, 1, "no tensor loaded");
            return flags;
        }
        return run_trace(m, src) | flags;
    default: break;
    }
    if (src == QS_DSRC_SCHEME) return 0;    /* the scheme's derivation: derive_key's keys */
    switch (act) {
    case QA_STEP_NEXT:
    case QA_ELEM_NEXT:
        if (m->step + 1 < n) m->step++;
        else if (n) qs_tui_status(m, 0, "last step (p or ← goes back)");
        break;
    case QA_STEP_PREV:
    case QA_ELEM_PREV:
        if (m->step > 0) m->step--;
        break;
    case QA_PART_NEXT:
    case QA_PART_PREV:
        if (!res) {
            qs_tui_status(m, 1, "no %s trace yet (r runs `%s`)", qs_tui_dsrcs[src].title,
                          qs_tui_dsrcs[src].line);
            break;
        }
        if (src == QS_DSRC_SMOOTH) return smooth_channel(m, act == QA_PART_NEXT ? 1 : -1) | flags;
        gptq_part(m, act == QA_PART_NEXT ? 1 : -1);
        break;
    case QA_EXAMPLE:
    case QA_VALUE:
        /* seed examples and typed values are the scheme's derivation's */
        m->dsrc = QS_DSRC_SCHEME;
        m->step = 0;
        return 0;
    default: return 0;
    }
    return flags;
}
