/* model.c — the TUI's model and key handling: builds what the screens draw from command
 * results (the same command table as the REPL), maps keys to actions through the binding
 * table, and runs long commands in a worker thread. No ncurses calls here (only KEY_*
 * constants), so tests drive it without a terminal. */
#include "tui_int.h"
#include "qscope/io.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/calib.h"
#include "qscope/result.h"
#include "front/front.h"
#include "qscope/kernels.h"
#include "qscope/metrics.h"
#include "qscope/quant.h"
#include "qscope/script.h"

/* ==== the binding table ================================================================= */

#define ESC 27
#define ALL (-1)

const qs_tui_binding qs_tui_bindings[] = {
    /* Data */
    {QS_SCR_DATA, 'l', "l", QA_LOG, "histogram counts on a log scale (on / off)"},
    {QS_SCR_DATA, 'v', "v", QA_CHANNELS,
     "view: value histogram / a row per channel along the scheme's axis (range)"},
    {QS_SCR_DATA, 't', "t", QA_TENSOR_NEXT, "next tensor of the file"},
    {QS_SCR_DATA, 'T', "T", QA_TENSOR_PREV, "previous tensor of the file"},
    {QS_SCR_DATA, KEY_DOWN, "↓/↑", QA_SCROLL_DOWN, "scroll the channel rows"},
    {QS_SCR_DATA, KEY_UP, "↑", QA_SCROLL_UP, NULL},
    /* Derive */
    {QS_SCR_DERIVE, 'n', "n", QA_STEP_NEXT, "next step of the derivation"},
    {QS_SCR_DERIVE, KEY_DOWN, "↓", QA_STEP_NEXT, NULL},
    {QS_SCR_DERIVE, ' ', "space", QA_STEP_NEXT, NULL},
    {QS_SCR_DERIVE, 'p', "p", QA_STEP_PREV, "previous step"},
    {QS_SCR_DERIVE, KEY_UP, "↑", QA_STEP_PREV, NULL},
    {QS_SCR_DERIVE, 'e', "e", QA_EXAMPLE,
     "seed examples: [0,1000] → uint8, [-20,1000] → uint8, back to the tensor"},
    {QS_SCR_DERIVE, 'v', "v", QA_VALUE, "type a value to follow through the steps"},
    {QS_SCR_DERIVE, KEY_RIGHT, "→/←", QA_ELEM_NEXT,
     "follow the next / previous element (a GPTQ / SmoothQuant trace: next / previous step)"},
    {QS_SCR_DERIVE, KEY_LEFT, "←", QA_ELEM_PREV, NULL},
    {QS_SCR_DERIVE, ']', "]/[", QA_PART_NEXT,
     "next / previous element; GPTQ: next / previous traced column; SmoothQuant: channel"},
    {QS_SCR_DERIVE, '[', "[", QA_PART_PREV, NULL},
    {QS_SCR_DERIVE, 'm', "m", QA_TRACE_SRC, "steps of: the scheme / GPTQ / SmoothQuant "
     "(runs gptq trace=2 or smoothquant on the tensor as W)"},
    {QS_SCR_DERIVE, 'r', "r", QA_TRACE_RERUN,
     "run the GPTQ / SmoothQuant trace again on the current tensor"},
    /* Bits */
    {QS_SCR_BITS, KEY_LEFT, "←/→", QA_CUR_LEFT, "move the cursor over the bits"},
    {QS_SCR_BITS, KEY_RIGHT, "→", QA_CUR_RIGHT, NULL},
    {QS_SCR_BITS, KEY_UP, "↑/↓", QA_ROW_UP, "choose the format row"},
    {QS_SCR_BITS, KEY_DOWN, "↓", QA_ROW_DOWN, NULL},
    {QS_SCR_BITS, ' ', "space", QA_FLIP, "flip the bit under the cursor"},
    {QS_SCR_BITS, 'v', "v", QA_BITS_VALUE, "type a value, or 0xHEX in the row's format"},
    {QS_SCR_BITS, 'i', "i", QA_SPECIAL, "cycle 7.32, 0, -0, subnormal, max, Inf, NaN, 0.1"},
    {QS_SCR_BITS, 'f', "f", QA_BITS_SET, "formats shown: all / classic (FP32 … UINT8) / MX "
     "(FP8, FP6, FP4, INT8 elements and the E8M0 scale)"},
    /* Error */
    {QS_SCR_ERROR, KEY_LEFT, "←/→", QA_CLIP_IN, "narrow / widen the clip range (MSE follows)"},
    {QS_SCR_ERROR, KEY_RIGHT, "→", QA_CLIP_OUT, NULL},
    {QS_SCR_ERROR, '<', "</>", QA_CLIP_LEFT, "shift the clip range left / right"},
    {QS_SCR_ERROR, '>', ">", QA_CLIP_RIGHT, NULL},
    {QS_SCR_ERROR, 'r', "r", QA_CLIP_RESET, "back to the calibrator's own range"},
    {QS_SCR_ERROR, 'x', "x", QA_COMPARE, "compare calibrators × bit widths (SQNR table)"},
    {QS_SCR_ERROR, 'm', "m", QA_METHODS, "compare methods on this tensor at the scheme's bits: "
     "RTN GPTQ AWQ rotation W8A8 SmoothQuant LLM.int8()"},
    /* Lab */
    {QS_SCR_LAB, KEY_UP, "↑/↓", QA_ROW_UP, "choose a setting"},
    {QS_SCR_LAB, KEY_DOWN, "↓", QA_ROW_DOWN, NULL},
    {QS_SCR_LAB, KEY_LEFT, "←/→", QA_CUR_LEFT, "change the setting"},
    {QS_SCR_LAB, KEY_RIGHT, "→", QA_CUR_RIGHT, NULL},
    {QS_SCR_LAB, 'r', "r", QA_LAB_RUN, "run the lab command shown (Esc cancels)"},
    {QS_SCR_LAB, '\r', "Enter", QA_LAB_RUN, NULL},
    {QS_SCR_LAB, 'w', "w", QA_LAB_GPT, "GPT lab: sweep the shipped language model's formats"},
    {QS_SCR_LAB, 'W', "W", QA_LAB_GPT_GEN, "GPT lab: the same prompt through fp32 and 4 formats"},
    {QS_SCR_LAB, 'a', "a", QA_LAB_GPT_ACTS,
     "GPT lab: activation channel strip (each linear layer's input-channel absmax)"},
    {QS_SCR_LAB, KEY_NPAGE, "PgDn/PgUp", QA_SCROLL_DOWN, "scroll the GPT generations / channel strip"},
    {QS_SCR_LAB, KEY_PPAGE, "PgUp", QA_SCROLL_UP, NULL},
    /* Lesson */
    {QS_SCR_LESSON, 'n', "n", QA_LESSON_NEXT, "next item of the lesson"},
    {QS_SCR_LESSON, '\r', "Enter", QA_LESSON_NEXT, NULL},
    {QS_SCR_LESSON, KEY_ENTER, "Enter", QA_LESSON_NEXT, NULL},
    {QS_SCR_LESSON, ' ', "space", QA_LESSON_NEXT, NULL},
    {QS_SCR_LESSON, 'p', "p", QA_LESSON_PREV, "back to the previous step"},
    {QS_SCR_LESSON, 'L', "L", QA_LESSON_OPEN, "open a lesson by name or number"},
    {QS_SCR_LESSON, 'a', "a", QA_LESSON_ANSWER, "answer the quiz"},
    {QS_SCR_LESSON, 'A', "A", QA_LESSON_AUTO, "auto-play for a classroom (steps advance by "
     "themselves; a quiz waits)"},
    {QS_SCR_LESSON, 'w', "w", QA_LESSON_LIVE, "narrow terminal: narration / the live screen"},
    {QS_SCR_LESSON, 'P', "P", QA_PRESENT, "presenter mode: narration and live screen on the "
     "whole terminal, no key hints, checks hidden (P leaves)"},
    {QS_SCR_LESSON, 'k', "k", QA_CHECKS, "presenter mode: show / hide the lesson's check lines"},
    {QS_SCR_LESSON, 'X', "X", QA_LESSON_CLOSE, "close the lesson: your own tensor, scheme and "
     "views come back"},
    {QS_SCR_LESSON, KEY_DOWN, "↓/↑", QA_SCROLL_DOWN, "scroll the narration (PgDn/PgUp too)"},
    {QS_SCR_LESSON, KEY_UP, "↑", QA_SCROLL_UP, NULL},
    {QS_SCR_LESSON, KEY_NPAGE, "PgDn", QA_SCROLL_DOWN, NULL},
    {QS_SCR_LESSON, KEY_PPAGE, "PgUp", QA_SCROLL_UP, NULL},
    /* every screen */
    {ALL, '1', "1-6", QA_SCREEN1, "go to screen 1 Data … 6 Lesson"},
    {ALL, '2', "2", QA_SCREEN2, NULL},
    {ALL, '3', "3", QA_SCREEN3, NULL},
    {ALL, '4', "4", QA_SCREEN4, NULL},
    {ALL, '5', "5", QA_SCREEN5, NULL},
    {ALL, '6', "6", QA_SCREEN6, NULL},
    {ALL, '\t', "Tab", QA_NEXT_SCREEN, "next screen (Shift-Tab: previous)"},
    {ALL, KEY_BTAB, "S-Tab", QA_PREV_SCREEN, NULL},
    {ALL, ':', ":", QA_CMDLINE,
     "command line: any REPL command, several separated by ; (Tab completes, ↑ history)"},
    {ALL, '+', "+/-", QA_BITS_UP,
     "more / fewer bits (scheme bits=N: convention, rounding, axis kept)"},
    {ALL, '-', "-", QA_BITS_DOWN, NULL},
    {ALL, 's', "s", QA_SYM, "symmetric / affine: only the zero point changes (scheme sym / asym)"},
    {ALL, 'c', "c", QA_CALIB, "next calibrator (a cycle from minmax; help calib describes each)"},
    {ALL, 'g', "g", QA_GRAN,
     "granularity: per-tensor / per-channel (axis=auto: the output channels)"},
    {ALL, 'o', "o", QA_OUTPUT, "show / hide the output (or the error) of the last ':' command"},
    {ALL, ESC, "Esc", QA_CANCEL, "cancel a running command; close panes"},
    {ALL, '?', "?", QA_HELP, "this help"},
    {ALL, 26, "^Z", QA_SUSPEND, "suspend to the shell (fg resumes)"},
    {ALL, 'q', "q", QA_QUIT, "quit"},
    {0, 0, NULL, QA_NONE, NULL},
};

const qs_tui_binding *qs_tui_binding_find(int screen, int key)
{
    const qs_tui_binding *b;
    for (b = qs_tui_bindings; b->act != QA_NONE; b++)
        if (b->screen == screen && b->key == key) return b;
    for (b = qs_tui_bindings; b->act != QA_NONE; b++)
        if (b->screen == ALL && b->key == key) return b;
    return NULL;
}

/* ==== small helpers ====================================================================== */

void qs_tui_status(qs_tui_model *m, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->status, sizeof m->status, fmt, ap);
    va_end(ap);
    m->status_err = err;
}

static void set_json(json_t **slot, json_t *v)
{
    json_decref(*slot);
    *slot = v;
}

double qs_tui_num(json_t *v, double dflt)
{
    double d;
    if (json_is_array(v)) v = json_array_get(v, 0);
    return qs_json_real_get(v, &d) == 0 ? d : dflt;
}

static double jget(json_t *o, const char *key, double dflt)
{
    return o ? qs_tui_num(json_object_get(o, key), dflt) : dflt;
}

/* Runs one command through the table on session s WITHOUT recording it (the TUI's own
 * queries: stats for drawing, hist at the screen's width...). NULL when the command fails
 * (err says why). */
static json_t *query(qs_session *s, qs_err *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static json_t *query(qs_session *s, qs_err *err, const char *fmt, ...)
{
    char line[1024];
    json_t *out = NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    qs_err_clear(err);
    /* the library's dispatch (a large tensor is converted as for any command), unrecorded */
    if (qs_cmd_query(s, line, &out, NULL, err) != QS_OK) out = NULL;
    return out;
}

const char *qs_tui_prompt_text(const qs_tui_model *m)
{
    switch (m->prompt) {
    case QS_PR_COMMAND: return ":";
    case QS_PR_DERIVE: return "value to follow: ";
    case QS_PR_BITS: return "value or 0xHEX: ";
    case QS_PR_ANSWER: return "answer: ";
    case QS_PR_LESSON: return "lesson (name or number): ";
    default: return "";
    }
}

void qs_tui_scheme_str(const qs_session *s, char *buf, size_t len)
{
    const qs_scheme *sc = &s->scheme;
    const char *ck = qs_calib_name(s->calib.kind);
    if (sc->kind == QS_Q_INT)
        snprintf(buf, len, "%sint%d %s/%s · %s", sc->is_signed ? "" : "u", sc->bits,
                 sc->symmetric ? "sym" : "asym",
                 sc->gran == QS_G_TENSOR ? "tensor" : sc->gran == QS_G_CHANNEL ? "channel"
                                                                             : "group",
                 ck);
    else
        snprintf(buf, len, "%s · %s", qs_qkind_name(sc), ck);  /* fp16 nf4 ... q4_k */
}

/* ==== tab bar layout (shared by drawing and mouse clicks) =============================== */

void qs_tui_tab_span(int i, int *x0, int *x1)
{
    int x = 1;
    for (int k = 0; k < QS_SCR_COUNT; k++) {
        int w = 2 + (int)strlen(qs_screens[k].title) + 2;   /* " 1 Data " + gap */
        if (k == i) {
            *x0 = x;
            *x1 = x + w - 2;
            return;
        }
        x += w;
    }
    *x0 = *x1 = -1;
}

int qs_tui_tab_at(int x)
{
    for (int i = 0; i < QS_SCR_COUNT; i++) {
        int a, b;
        qs_tui_tab_span(i, &a, &b);
        if (x >= a && x <= b) return i;
    }
    return -1;
}

/* ==== building the model ================================================================= */

static void refresh_channels(qs_tui_model *m)
{
    const qs_tensor *t = m->s->tensor;
    free(m->chan_min);
    free(m->chan_max);
    m->chan_min = m->chan_max = NULL;
    m->nchan = 0;
    m->chan_why[0] = '\0';
    if (!t || t->ndim < 2) return;
    /* the scheme's channel axis (axis=auto: what the tensor's file and name say) */
    int ax = qs_session_axis(m->s, &m->s->scheme, m->chan_why, sizeof m->chan_why);
    if (ax < 0 || ax >= t->ndim) {
        ax = qs_axis_auto(t->name, t->ndim, t->shape, NULL, NULL, 0);
        snprintf(m->chan_why, sizeof m->chan_why, "axis %d (the scheme's axis=%d does not fit "
                 "this shape)", ax, m->s->scheme.axis);
    }
    m->chan_axis = ax;
    qs_layout l;
    if (qs_layout_make(t->ndim, t->shape, QS_G_CHANNEL, ax, 1, &l) != 0) return;
    int64_t n = qs_layout_nparams(&l);
    if (n < 1 || n > (1 << 20)) return;
    m->chan_min = malloc((size_t)n * sizeof(float));
    m->chan_max = malloc((size_t)n * sizeof(float));
    if (!m->chan_min || !m->chan_max) {
        free(m->chan_min);
        free(m->chan_max);
        m->chan_min = m->chan_max = NULL;
        return;
    }
    qs_k()->minmax_layout(t->data, &l, m->chan_min, m->chan_max);
    m->nchan = (int)n;
}

/* The scheme's integer code of bits_input and its dequantized value, asked of the library
 * (`codes value=`: the parameters as computed, TensorRT's multiplier included) under the
 * first parameter set (the first channel's when per-channel), as `derive V` follows it. */
static void refresh_code(qs_tui_model *m)
{
    const qs_scheme *sc = &m->s->scheme;
    qs_err err;
    m->have_code = 0;
    m->code_err[0] = '\0';
    if (sc->kind != QS_Q_INT) return;   /* no integer grid: the screen says so */
    if (!m->s->tensor) {
        snprintf(m->code_err, sizeof m->code_err, "no tensor, so no scale or zero point "
                 "(:load FILE or :synth normal)");
        return;
    }
    /* ±inf and NaN too: the library has a code for them (clamped; NaN to the zero point) */
    json_t *r = query(m->s, &err, "codes value=%.17g", m->bits_input);
    if (!r) {
        snprintf(m->code_err, sizeof m->code_err, "%.250s", err.msg[0] ? err.msg : "codes failed");
        return;
    }
    double c = jget(r, "code", NAN), y = jget(r, "dequant", NAN), qmin = jget(r, "qmin", NAN);
    if (isfinite(c) && isfinite(qmin)) {
        m->code = (int)c;
        m->code_value = y;
        m->code_bits = (int)jget(r, "bits", sc->bits);
        m->code_signed = qmin < 0;
        m->have_code = 1;
    } else {
        snprintf(m->code_err, sizeof m->code_err, "codes gave no code for this value");
    }
    json_decref(r);
}

void qs_tui_bits_set(qs_tui_model *m, double v)
{
    m->bits_input = v;
    for (int i = 0; i < QS_FMT_COUNT; i++)
        qs_numfmt_fields_of(qs_numfmt_get((qs_fmt_id)i), v, QS_OVF_DEFAULT, &m->bits[i]);
    refresh_code(m);
}

int qs_tui_bits_rows(int set, qs_fmt_id *ids)
{
    static const qs_fmt_id all[] = {QS_FMT_FP32, QS_FMT_FP16, QS_FMT_BF16, QS_FMT_TF32,
                                    QS_FMT_E4M3, QS_FMT_E5M2, QS_FMT_INT8, QS_FMT_UINT8,
                                    QS_FMT_E3M2, QS_FMT_E2M3, QS_FMT_E2M1, QS_FMT_E8M0};
    static const qs_fmt_id mx[] = {QS_FMT_FP32, QS_FMT_E4M3, QS_FMT_E5M2, QS_FMT_E3M2,
                                   QS_FMT_E2M3, QS_FMT_E2M1, QS_FMT_E8M0, QS_FMT_INT8};
    const qs_fmt_id *src = set == QS_BITS_MX ? mx : all;
    int n = set == QS_BITS_ALL ? 12 : 8;
    _Static_assert(sizeof all / sizeof all[0] == QS_TUI_BITS_MAXROWS, "row sets fit");
    for (int i = 0; i < n; i++) ids[i] = src[i];
    return n;
}

const char *qs_tui_bits_set_name(int set)
{
    return set == QS_BITS_CLASSIC ? "classic" : set == QS_BITS_MX ? "MX" : "all formats";
}

/* 1 when the Bits row is a format row (else the scheme's code). */
static int bits_is_fmt(int row)
{
    return row >= 0 && row < QS_FMT_COUNT;
}

/* Width in bits of a Bits row. */
static int bits_row_width(const qs_tui_model *m, int row)
{
    if (bits_is_fmt(row)) return qs_numfmt_get((qs_fmt_id)row)->width;
    return m->have_code ? m->code_bits : 0;
}

void qs_tui_bits_flip(qs_tui_model *m)
{
    int r = m->bits_row, w = bits_row_width(m, r);
    if (w <= 0 || m->bits_cur < 0 || m->bits_cur >= w) return;
    int k = w - 1 - m->bits_cur;    /* value bit index from the LSB */
    if (bits_is_fmt(r)) {
        const qs_numfmt *f = qs_numfmt_get((qs_fmt_id)r);
        uint32_t pat = qs_numfmt_flip(f, m->bits[r].pattern, k);
        double v = qs_numfmt_decode(f, pat);
        qs_tui_bits_set(m, v);
        /* the edited row shows the exact pattern (a NaN payload or -0 survives) */
        qs_numfmt_fields(f, pat, NAN, 0, &m->bits[r]);
        qs_tui_status(m, 0, "%s bit %d flipped: %s = %.9g", f->name, k, m->bits[r].hex, v);
    } else {
        unsigned mask = (1u << m->code_bits) - 1;
        unsigned c = ((unsigned)m->code & mask) ^ (1u << k);
        int code = m->code_signed && (c & (1u << (m->code_bits - 1))) ? (int)c - (int)(mask + 1)
                                                                      : (int)c;
        /* the new code's value, asked of the library (`codes code=`) */
        qs_err err;
        json_t *res = query(m->s, &err, "codes code=%d", code);
        double y = jget(res, "dequant", NAN);
        json_decref(res);
        if (!isfinite(y)) {
            qs_tui_status(m, 1, "%s", err.msg[0] ? err.msg : "codes: no value for that code");
            return;
        }
        qs_tui_bits_set(m, y);
        qs_tui_status(m, 0, "code bit %d flipped: code %d = %.9g", k, code, y);
    }
}

/* Seed example e (1..2) on the scratch session: its values, uint8 asym, minmax, and the value
 * it follows first. */
static void example_setup(qs_tui_model *m)
{
    static const char *const ex_vals[] = {"0 1000", "-20 1000"};
    static const double ex_follow[] = {250, -20};
    qs_err err;
    int e = m->example - 1;
    json_decref(query(&m->ex, &err, "values %s", ex_vals[e]));
    json_decref(query(&m->ex, &err, "scheme uint8 asym"));
    json_decref(query(&m->ex, &err, "calib minmax"));
    set_json(&m->ex_qparams, query(&m->ex, &err, "qparams"));
    set_json(&m->ex_stats, query(&m->ex, &err, "stats"));
    m->value = ex_follow[e];
    m->has_value = 1;
    m->elem = -1;
}

static void refresh_derive(qs_tui_model *m)
{
    qs_err err;
    qs_err_clear(&err);
    /* the session the derivation runs on: a seed example's own, or the user's */
    qs_session *s = m->example ? &m->ex : m->s;
    if (m->example && !m->ex.tensor) example_setup(m);
    if (s->tensor) {
        /* an element is followed by index, so a per-channel scheme uses its channel */
        if (m->has_value && m->elem >= 0 && m->elem < s->tensor->n)
            set_json(&m->derive, query(s, &err, "derive index=%lld", (long long)m->elem));
        else if (m->has_value) set_json(&m->derive, query(s, &err, "derive %.9g", m->value));
        else set_json(&m->derive, query(s, &err, "derive"));
    } else {
        set_json(&m->derive, NULL);
    }
    if (!m->derive && err.msg[0]) qs_tui_status(m, 1, "%s", err.msg);
    if (m->dsrc != QS_DSRC_SCHEME) return;     /* the steps shown are a method's */
    int n = (int)json_array_size(json_object_get(m->derive, "steps"));
    if (m->step >= n) m->step = n > 0 ? n - 1 : 0;
}

/* The plot's x range: the data, the clip range and zero. */
static void plot_range(qs_tui_model *m)
{
    double lo = jget(m->stats, "min", -1), hi = jget(m->stats, "max", 1);
    if (!isfinite(lo) || !isfinite(hi)) {   /* no finite values: the library's "nan" */
        lo = -1;
        hi = 1;
    }
    double amax = fmax(fabs(lo), fabs(hi));
    /* the clip range widens the plot when it is near the data (a dragged range), not when it
     * is a float format's whole range (fp8: ±448) that would squash the histogram */
    if (m->clip_manual || m->qparams) {
        if (isfinite(m->clip_lo) && m->clip_lo < lo && m->clip_lo >= -2 * amax) lo = m->clip_lo;
        if (isfinite(m->clip_hi) && m->clip_hi > hi && m->clip_hi <= 2 * amax) hi = m->clip_hi;
    }
    if (lo > 0) lo = 0;
    if (hi < 0) hi = 0;
    if (!(hi > lo)) { lo -= 0.5; hi += 0.5; }
    double pad = (hi - lo) * 0.02;
    m->plot_lo = lo - pad;
    m->plot_hi = hi + pad;
}

static void refresh_scheme(qs_tui_model *m);

/* Copies what drawing needs from the session (main thread only, never while a job runs). */
static void snapshot(qs_tui_model *m)
{
    const qs_session *s = m->s;
    const qs_tensor *t = s->tensor;
    m->has_tensor = t != NULL;
    snprintf(m->t_name, sizeof m->t_name, "%s", t ? t->name : "no tensor");
    snprintf(m->t_dtype, sizeof m->t_dtype, "%s", t ? qs_dtype_name(t->src_dtype) : "");
    m->t_shape[0] = '\0';
    if (t) qs_shape_str(t->ndim, t->shape, m->t_shape, sizeof m->t_shape);
    m->t_n = t ? (long long)t->n : 0;
    snprintf(m->t_file, sizeof m->t_file, "%s", s->file ? s->file->path : "");
    m->t_index = s->tensor_index;
    qs_tui_scheme_str(s, m->scheme_str, sizeof m->scheme_str);
    snprintf(m->tensor_key, sizeof m->tensor_key, "%p|%p|%llu", (const void *)s,
             (const void *)t, (unsigned long long)s->data_gen);
    /* what a calibrator x bit-width comparison depends on: the session, its tensor and its
     * values, and the scheme but for its bit width (a comparison covers every width) */
    const qs_scheme *sc = &s->scheme;
    snprintf(m->state_key, sizeof m->state_key, "%p|%p|%llu|%d|%d|%d|%d|%d|%d|%d|%d",
             (const void *)s, (const void *)t, (unsigned long long)s->data_gen, (int)sc->kind,
             sc->is_signed, sc->symmetric, (int)sc->gran, sc->axis, sc->group, (int)sc->conv,
             (int)sc->round);
    /* a methods table depends on the values and on the line m would run */
    char line[96];
    qs_tui_methods_line(s, line, sizeof line);
    snprintf(m->methods_want, sizeof m->methods_want, "%p|%p|%llu|%s", (const void *)s,
             (const void *)t, (unsigned long long)s->data_gen, line);
}

void qs_tui_methods_line(const qs_session *s, char *buf, size_t len)
{
    const qs_scheme *sc = &s->scheme;
    int ok = sc->kind == QS_Q_INT && sc->bits >= 2 && sc->bits <= 8;
    snprintf(buf, len, "methods bits=%d%s", ok ? sc->bits : 4, ok && sc->symmetric ? " sym" : "");
}

void qs_tui_refresh(qs_tui_model *m)
{
    qs_err err;
    qs_session *s = m->s;
    set_json(&m->tensors, query(s, &err, "tensors"));
    /* a tensor too large to convert at load time is converted now, as a command would */
    if (!s->tensor && s->file && qs_session_materialize(s, &err) != QS_OK)
        qs_tui_status(m, 1, "%s", err.msg);
    if (!s->tensor) {
        set_json(&m->stats, NULL);
        set_json(&m->hist, NULL);
        set_json(&m->qparams, NULL);
        set_json(&m->quant, NULL);
        refresh_channels(m);
        refresh_derive(m);
        snapshot(m);
        return;
    }
    set_json(&m->stats, query(s, &err, "stats"));
    refresh_channels(m);
    refresh_scheme(m);
}

/* What depends on the scheme and calibrator only (the tensor's stats stay): parameters,
 * metrics, the histogram's range, the derivation, the Bits screen's code. */
static void refresh_scheme(qs_tui_model *m)
{
    qs_err err;
    qs_session *s = m->s;
    if (!s->tensor) {
        qs_tui_refresh(m);
        return;
    }
    /* a dragged range is the session's own calibrator (`calib manual`), so it stays in force
     * across scheme changes and shows in the derivation like any other */
    m->clip_manual = s->calib.kind == QS_CAL_MANUAL;
    if (!m->clip_manual) m->clip_prev = s->calib.kind;
    set_json(&m->qparams, query(s, &err, "qparams"));
    /* the reason the scheme does not fit (an axis out of range...) is shown on the screens */
    snprintf(m->scheme_err, sizeof m->scheme_err, "%.250s", m->qparams ? "" : err.msg);
    set_json(&m->quant, query(s, &err, "quant"));
    qs_qparams_view qv;         /* the clip range: per-channel, the first channel's */
    qs_qparams_view_get(m->qparams, &qv, NULL);
    m->clip_lo = qs_view_at(qv.clip_min, qv.nclip, 0);
    m->clip_hi = qs_view_at(qv.clip_max, qv.nclip, 0);
    qs_qparams_view_free(&qv);
    refresh_channels(m);        /* the `v` view follows the scheme's axis */
    plot_range(m);
    int bins = m->cols - 4;
    if (bins < 8) bins = 8;
    if (bins > 512) bins = 512;
    set_json(&m->hist, query(s, &err, "hist bins=%d range=%.9g:%.9g", bins, m->plot_lo,
                             m->plot_hi));
    refresh_derive(m);
    refresh_code(m);
    snapshot(m);
}

void qs_tui_model_init(qs_tui_model *m, qs_session *s, int cols, int rows)
{
    memset(m, 0, sizeof *m);
    m->s = s;
    qs_session_init(&m->ex);
    m->cols = cols;
    m->rows = rows;
    m->elem = -1;
    m->clip_lo = m->clip_hi = NAN;
    pthread_mutex_init(&m->job.mu, NULL);
    qs_tui_lab_init(m);
    m->lesson_log = json_array();
    qs_tui_refresh(m);
    qs_tui_bits_set(m, 7.32);
    m->bits_row = QS_FMT_FP32;
    qs_tui_status(m, 0, "Tab/1-6 screens · ? keys · : command · q quits");
}

void qs_tui_model_fini(qs_tui_model *m)
{
    if (m->job.running) {
        m->cancel = 1;
        pthread_join(m->job.thread, NULL);
        json_decref(m->job.out);
        free(m->job.line);
        m->job.running = 0;
    }
    if (m->s->cancel == &m->cancel) {
        m->s->cancel = NULL;
        m->s->progress = NULL;
        m->s->progress_ctx = NULL;
    }
    pthread_mutex_destroy(&m->job.mu);
    qs_tui_lesson_fini(m);
    json_decref(m->lesson_log);
    json_decref(m->tensors);
    json_decref(m->stats);
    json_decref(m->hist);
    json_decref(m->qparams);
    json_decref(m->derive);
    for (int i = 0; i < QS_DSRC_COUNT; i++) qs_tui_mtrace_clear(&m->mt[i]);
    json_decref(m->ex_qparams);
    json_decref(m->ex_stats);
    json_decref(m->quant);
    json_decref(m->compare);
    json_decref(m->methods);
    json_decref(m->lab);
    free(m->chan_min);
    free(m->chan_max);
    free(m->output);
    free(m->pending);
    qs_session_fini(&m->ex);
    memset(m, 0, sizeof *m);
}

void qs_tui_resize(qs_tui_model *m, int cols, int rows)
{
    int was = m->cols;
    m->cols = cols;
    m->rows = rows;
    if (cols != was && !m->job.running && m->s->tensor) {
        qs_err err;
        int bins = cols - 4;
        if (bins < 8) bins = 8;
        if (bins > 512) bins = 512;
        set_json(&m->hist, query(m->s, &err, "hist bins=%d range=%.9g:%.9g", bins,
                                 m->plot_lo, m->plot_hi));
    }
}

/* ==== running commands =================================================================== */

static void set_output(qs_tui_model *m, const qs_cmd *cmd, json_t *out)
{
    qs_render_opts o = {0, m->utf8, m->s->precision > 0 ? m->s->precision : 6,
                        m->cols > 20 ? m->cols - 2 : 78};
    free(m->output);
    m->output = out ? qs_render_text_str(cmd, out, &o) : NULL;
    m->output_scroll = 0;
}

/* A command that failed: its error is what `o` shows, not an older command's output;
 * rendered as a result, so that a message wider than the pane wraps (the pane cuts a line)
 * and a name from a file in it is escaped. */
static void set_output_msg(qs_tui_model *m, const char *key, const char *msg)
{
    json_t *e = json_object();
    if (e) json_object_set_new(e, key, json_string_nocheck(msg));
    set_output(m, NULL, e);
    json_decref(e);
}

static void set_output_error(qs_tui_model *m, const char *msg)
{
    set_output_msg(m, "error", msg);
}

/* Shows screen scr for a result: switches to it, or while a lesson plays, draws it beside
 * the narration. */
static void show(qs_tui_model *m, int scr)
{
    if (m->screen == QS_SCR_LESSON) m->lesson_live = scr;
    else qs_tui_goto(m, scr);
}

/* The format a `bits` result names (one format, not the whole table), or NULL. */
static const qs_numfmt *js_fmt(json_t *out)
{
    json_t *f = json_object_get(out, "format");
    return json_is_string(f) && json_object_get(out, "input") ?
           qs_numfmt_find(json_string_value(f)) : NULL;
}

/* A ':' command the user ran while a lesson is open: qs_tui_route leaves the status line to
 * the lesson's steps, so say here that it ran (a slow one said 'running ...' until the next
 * step). */
static void user_ok(qs_tui_model *m, const char *line)
{
    if (m->screen == QS_SCR_LESSON && m->lesson)
        qs_tui_status(m, 0, "%s: ok%s", line, m->output ? " (o shows the output)" : "");
}

void qs_tui_route(qs_tui_model *m, const qs_cmd *cmd, json_t *out, const char *line)
{
    const char *name = cmd ? cmd->name : "";
    const char *group = cmd && cmd->group ? cmd->group : "";
    /* a lesson's step speaks for itself; the lesson list's screen is the user's */
    int lesson = m->screen == QS_SCR_LESSON && m->lesson;
    set_output(m, cmd, out);
    if (!lesson)
        qs_tui_status(m, 0, "%s: ok%s", line, m->output ? " (o shows the output)" : "");
    /* a new tensor, its values replaced (`gptq apply`...) or another scheme: the Derive
     * screen shows the scheme's derivation again (a method's trace was of the old tensor) */
    int applied = json_object_get(out, "applied") != NULL;
    if ((strcmp(group, "data") == 0 && strcmp(name, "stats") && strcmp(name, "hist") &&
         strcmp(name, "tensors")) || !strcmp(name, "scheme") || !strcmp(name, "calib") ||
        applied) {
        if (m->dsrc != QS_DSRC_SCHEME) m->step = 0;
        m->dsrc = QS_DSRC_SCHEME;
    }
    if (applied) qs_tui_refresh(m);     /* the tensor's values changed */
    qs_tui_dsrc src = qs_tui_dsrc_of(name);
    if (src != QS_DSRC_SCHEME && qs_tui_mtrace_route(m, src, out, line)) {
        show(m, QS_SCR_DERIVE);
    } else if (strcmp(group, "data") == 0 || !strcmp(name, "scheme") || !strcmp(name, "calib") ||
        !strcmp(name, "qparams") || !strcmp(name, "set")) {
        if (strcmp(group, "data") == 0) {
            if (strcmp(name, "stats") && strcmp(name, "hist") && strcmp(name, "tensors")) {
                m->elem = -1;           /* a new tensor: stop following the old element */
                m->has_value = 0;
                m->chan_scroll = 0;
            }
            qs_tui_refresh(m);
        } else {
            refresh_scheme(m);          /* the tensor is unchanged: keep its stats */
        }
        if (strcmp(group, "data") == 0) show(m, QS_SCR_DATA);
        else if (!strcmp(name, "qparams") && !lesson) m->output_shown = 1;
    } else if (strcmp(name, "derive") == 0) {
        set_json(&m->derive, json_incref(out));
        m->example = 0;
        m->step = 0;
        m->dsrc = QS_DSRC_SCHEME;
        /* the header and later refreshes follow what this derivation followed */
        json_t *xv = json_object_get(out, "x");
        if (json_is_number(xv)) {
            m->value = json_number_value(xv);
            m->has_value = 1;
            json_t *ix = json_object_get(out, "index");
            m->elem = json_is_integer(ix) ? (int64_t)json_integer_value(ix)
                      : strstr(line, "index=") ? (int64_t)strtoll(strstr(line, "index=") + 6,
                                                                  NULL, 10) : -1;
        }
        show(m, QS_SCR_DERIVE);
    } else if (strcmp(name, "bits") == 0) {
        double v = jget(out, "input", NAN);
        if (!isfinite(v)) v = jget(out, "value", NAN);
        if (!isnan(v)) qs_tui_bits_set(m, v);
        /* `bits V FORMAT`: the cursor goes to that format's row (all rows when the set shown
         * lacks it), so its details explain it */
        const qs_numfmt *f = js_fmt(out);
        if (f) {
            qs_fmt_id ids[QS_TUI_BITS_MAXROWS];
            int n = qs_tui_bits_rows(m->bits_view, ids), in = 0;
            for (int i = 0; i < n; i++) in |= ids[i] == f->id;
            if (!in) {
                n = qs_tui_bits_rows(QS_BITS_ALL, ids);
                for (int i = 0; i < n; i++) in |= ids[i] == f->id;
                if (in) m->bits_view = QS_BITS_ALL;
            }
            if (in) {
                m->bits_row = (int)f->id;
                m->bits_cur = 0;
            }
        }
        show(m, QS_SCR_BITS);
    } else if (strcmp(name, "quant") == 0) {
        set_json(&m->quant, json_incref(out));
        show(m, QS_SCR_ERROR);
    } else if (strcmp(name, "methods") == 0) {
        set_json(&m->methods, json_incref(out));
        m->err_methods = 1;
        /* drawn as stale once the tensor, its values or the line m would run change */
        snprintf(m->methods_key, sizeof m->methods_key, "%s", m->methods_want);
        snprintf(m->methods_for, sizeof m->methods_for, "%s · %s", m->t_name, line);
        show(m, QS_SCR_ERROR);
    } else if (strcmp(name, "compare") == 0) {
        m->err_methods = 0;
        set_json(&m->compare, json_incref(out));
        /* drawn as stale once the tensor or the scheme it was computed for changes */
        snprintf(m->compare_key, sizeof m->compare_key, "%s", m->state_key);
        snprintf(m->compare_for, sizeof m->compare_for, "%s · %s", m->t_name, m->scheme_str);
        show(m, QS_SCR_ERROR);
    } else if (strcmp(group, "lab") == 0 || strcmp(name, "lab") == 0) {
        set_json(&m->lab, json_incref(out));
        m->lab_scroll = 0;
        show(m, QS_SCR_LAB);
    } else if (m->output && !lesson) {
        m->output_shown = 1;
    }
}

static int job_progress(void *ctx, const char *label, double done, double total)
{
    qs_tui_model *m = ctx;
    pthread_mutex_lock(&m->job.mu);
    snprintf(m->job.label, sizeof m->job.label, "%s", label ? label : "");
    m->job.done_units = done;
    m->job.total = total;
    pthread_mutex_unlock(&m->job.mu);
    return 0;
}

static void *job_main(void *arg)
{
    qs_tui_model *m = arg;
    if (m->job.work) {
        m->job.work(m);
        pthread_mutex_lock(&m->job.mu);
        m->job.finished = 1;
        pthread_mutex_unlock(&m->job.mu);
        return NULL;
    }
    json_t *out = NULL;
    const qs_cmd *cmd = NULL;
    qs_err err = {{0}};
    int rc = qs_cmd_run_line(m->s, m->job.line, &out, &cmd, &err);
    pthread_mutex_lock(&m->job.mu);
    m->job.out = out;
    m->job.cmd = cmd;
    m->job.rc = rc;
    m->job.err = err;
    m->job.finished = 1;
    pthread_mutex_unlock(&m->job.mu);
    return NULL;
}

int qs_tui_job_start_fn(qs_tui_model *m, const char *label, void (*work)(qs_tui_model *m),
                        int (*done)(qs_tui_model *m), void *data)
{
    if (m->job.running) {
        qs_tui_status(m, 1, "busy: '%s' is still running", m->job.line);
        return QS_ERR;
    }
    m->cancel = 0;
    m->s->cancel = &m->cancel;
    m->s->progress = job_progress;
    m->s->progress_ctx = m;
    m->job.work = work;
    m->job.done = done;
    m->job.data = data;
    m->job.finished = 0;
    m->job.out = NULL;
    m->job.cmd = NULL;
    m->job.rc = QS_OK;
    qs_err_clear(&m->job.err);
    m->job.done_units = 0;
    m->job.total = 0;
    snprintf(m->job.label, sizeof m->job.label, "starting");
    m->job.line = strdup(label);
    if (!m->job.line || pthread_create(&m->job.thread, NULL, job_main, m) != 0) {
        free(m->job.line);
        m->job.line = NULL;
        m->s->progress = NULL;
        m->s->progress_ctx = NULL;
        qs_tui_status(m, 1, "%s: could not start a worker thread", label);
        return QS_ERR;
    }
    m->job.running = 1;
    qs_tui_status(m, 0, "running '%s' …", label);   /* the gauge says Esc cancels */
    return QS_OK;
}

int qs_tui_job_start(qs_tui_model *m, const char *line)
{
    return qs_tui_job_start_fn(m, line, NULL, NULL, NULL);
}

int qs_tui_job_poll(qs_tui_model *m)
{
    int flags = QS_TUI_REDRAW;
    if (!m->job.running) return 0;
    pthread_mutex_lock(&m->job.mu);
    int fin = m->job.finished;
    pthread_mutex_unlock(&m->job.mu);
    if (!fin) return 0;
    pthread_join(m->job.thread, NULL);
    m->job.running = 0;
    m->s->progress = NULL;
    m->s->progress_ctx = NULL;
    if (m->job.done) {
        flags |= m->job.done(m);
    } else if (m->job.rc == QS_OK) {
        qs_tui_route(m, m->job.cmd, m->job.out, m->job.line);
        user_ok(m, m->job.line);
    } else if (m->job.rc == QS_CANCELLED) {
        qs_tui_status(m, 1, "%s: cancelled", m->job.line);
        set_output_msg(m, "cancelled", m->job.line);  /* not an older command's output */
    } else {
        qs_tui_status(m, 1, "%s", m->job.err.msg);
        set_output_error(m, m->job.err.msg);
    }
    int ok = m->job.rc == QS_OK;
    json_decref(m->job.out);
    m->job.out = NULL;
    m->job.work = NULL;
    m->job.done = NULL;
    m->job.data = NULL;
    free(m->job.line);
    m->job.line = NULL;
    char *rest = m->pending;        /* the ':' line's commands after the slow one */
    m->pending = NULL;
    if (rest && ok) flags |= qs_tui_run_cmdline(m, rest);
    free(rest);
    return flags;
}

/* `source FILE` in the TUI runs through the library's runner (qscope/script.h: the same
 * nesting limit, NUL check and dispatch as scripts everywhere), on the session and not in the
 * worker (a slow command in a script blocks until it ends); it stops at the first error with
 * FILE:LINE on the status line and shows the last result. */
typedef struct tui_source {
    qs_tui_model *m;
    json_t *last;               /* the last result, or NULL */
    const qs_cmd *last_cmd;     /* its row */
    char last_line[256];        /* its line */
} tui_source;

static void source_result(qs_script *r, const qs_cmd *cmd, json_t *res, const char *line)
{
    tui_source *t = r->ctx;
    json_decref(t->last);
    t->last = json_incref(res);
    t->last_cmd = cmd;
    snprintf(t->last_line, sizeof t->last_line, "%.200s", line);
}

static void source_error(qs_script *r, const char *where, const char *msg, int rc)
{
    tui_source *t = r->ctx;
    (void)rc;
    if (where) qs_tui_status(t->m, 1, "%s: %s", where, msg);
    else qs_tui_status(t->m, 1, "%s", msg);
    json_decref(t->last);
    t->last = NULL;
}

static int run_source(qs_tui_model *m, const char *line, const char *path)
{
    tui_source t = { m, NULL, NULL, "" };
    qs_script sc = { .s = m->s, .stop_on_error = 1, .result = source_result,
                     .error = source_error, .ctx = &t };
    int rc = qs_script_line(&sc, line, NULL);
    qs_tui_refresh(m);      /* a script may have changed anything */
    if (t.last) {
        qs_tui_route(m, t.last_cmd, t.last, t.last_line);
        json_decref(t.last);
        if (rc == QS_OK) qs_tui_status(m, 0, "source %s: %d lines run", path, sc.lines);
    }
    return rc;
}

int qs_tui_run_user(qs_tui_model *m, const char *line)
{
    char **argv = NULL;
    qs_err err = {{0}};
    int argc = qs_split(line, &argv, &err);
    if (argc < 0) {
        qs_tui_status(m, 1, "%s", err.msg);
        return QS_TUI_REDRAW;
    }
    if (argc == 0) {
        qs_split_free(argv);
        return QS_TUI_REDRAW;
    }
    if (strcmp(argv[0], "quit") == 0 || strcmp(argv[0], "exit") == 0) {
        qs_split_free(argv);
        return QS_TUI_QUIT;
    }
    if (strcmp(argv[0], "source") == 0) {
        int f = QS_TUI_REDRAW;
        if (m->job.running) qs_tui_status(m, 1, "busy: '%s' is still running", m->job.line);
        else if (argc != 2) qs_tui_status(m, 1, "source: usage: source FILE");
        else run_source(m, line, argv[1]);
        qs_split_free(argv);
        return f;
    }
    const qs_cmd *c = qs_cmd_find(argv[0]);
    if (!c) {
        const char *sug[3];
        int n = qs_cmd_suggest(argv[0], sug, 3);
        qs_tui_status(m, 1, "%s: unknown command%s%s%s", argv[0], n ? " (did you mean " : "",
                      n ? sug[0] : "", n ? "?)" : " ('help' lists them)");
        set_output_error(m, m->status);
        qs_split_free(argv);
        return QS_TUI_REDRAW;
    }
    qs_split_free(argv);
    if (m->job.running) {
        qs_tui_status(m, 1, "busy: '%s' is still running", m->job.line);
        return QS_TUI_REDRAW;
    }
    if (c->flags & QS_CMD_SLOW) {
        qs_tui_job_start(m, line);
        return QS_TUI_REDRAW;
    }
    json_t *out = NULL;
    const qs_cmd *ran = NULL;
    if (qs_cmd_run_line(m->s, line, &out, &ran, &err) != QS_OK) {
        qs_tui_status(m, 1, "%s", err.msg);
        set_output_error(m, err.msg);
        return QS_TUI_REDRAW;
    }
    qs_tui_route(m, ran, out, line);
    user_ok(m, line);
    json_decref(out);
    return QS_TUI_REDRAW;
}

int qs_tui_run_cmdline(qs_tui_model *m, const char *line)
{
    char **lines = NULL;
    qs_err err = {{0}};
    int n = qs_split_commands(line, &lines, &err), flags = QS_TUI_REDRAW;
    if (n < 0) {
        qs_tui_status(m, 1, "%s", err.msg);
        return QS_TUI_REDRAW;
    }
    if (n <= 1) {
        /* one command as the splitter trimmed it, as each of several is below: the status
         * names it without the blank completion leaves ('synth laplace : ok') */
        flags = qs_tui_run_user(m, n == 1 ? lines[0] : line);
        qs_split_free(lines);
        return flags;
    }
    for (int k = 0; k < n; k++) {
        m->status_err = 0;
        flags |= qs_tui_run_user(m, lines[k]);
        if (flags & QS_TUI_QUIT) break;
        if (m->status_err && !m->job.running) break;    /* stop at the first error */
        if (m->job.running && k + 1 < n) {              /* the rest after the slow one */
            size_t len = 0;
            for (int j = k + 1; j < n; j++) len += strlen(lines[j]) + 2;
            free(m->pending);
            m->pending = malloc(len + 1);
            if (m->pending) {
                m->pending[0] = '\0';
                for (int j = k + 1; j < n; j++) {
                    strcat(m->pending, lines[j]);
                    if (j + 1 < n) strcat(m->pending, "; ");
                }
            }
            break;
        }
    }
    qs_split_free(lines);
    return flags;
}

/* ==== scheme keys (+ - s c g): deltas of the scheme ===================================== */

/* Each key sends only what it changes (`scheme bits=7`, `scheme sym`, `scheme per-channel`),
 * so the convention, rounding, range, axis and group size stay as they were. */
static int scheme_key(qs_tui_model *m, qs_tui_act a)
{
    const qs_scheme *sc = &m->s->scheme;
    int is_int = sc->kind == QS_Q_INT && sc->conv != QS_CONV_GGML;
    char line[64];
    switch (a) {
    case QA_BITS_UP:
    case QA_BITS_DOWN: {
        int up = a == QA_BITS_UP;
        if (!is_int)    /* a float format, codebook or ggml block: back to an integer grid */
            return qs_tui_run_user(m, up ? "scheme int8" : "scheme int7");
        int bits = sc->bits + (up ? 1 : -1);
        if (bits < 2 || bits > 8) {
            qs_tui_status(m, 1, "%s: integer schemes have 2 to 8 bits", qs_qkind_name(sc));
            return QS_TUI_REDRAW;
        }
        snprintf(line, sizeof line, "scheme bits=%d", bits);
        return qs_tui_run_user(m, line);
    }
    case QA_SYM:
        if (!is_int) {
            qs_tui_status(m, 1, "s: %s has no zero point to choose (integer schemes only)",
                          qs_qkind_name(sc));
            return QS_TUI_REDRAW;
        }
        if (sc->conv == QS_CONV_TRT) {
            qs_tui_status(m, 1, "s: convention=trt is symmetric only (TensorRT has no zero "
                          "point)");
            return QS_TUI_REDRAW;
        }
        return qs_tui_run_user(m, sc->symmetric ? "scheme asym" : "scheme sym");
    case QA_GRAN:
        if (!is_int) {
            qs_tui_status(m, 1, "g: %s has its own layout (integer schemes only)",
                          qs_qkind_name(sc));
            return QS_TUI_REDRAW;
        }
        return qs_tui_run_user(m, sc->gran == QS_G_CHANNEL ? "scheme per-tensor"
                                                           : "scheme per-channel");
    case QA_CALIB: {
        /* the next calibrator of the table's cycle (rows with cycle words); from one outside
         * the cycle (a manual range): the first */
        int k = (int)m->s->calib.kind, next = -1, first = -1;
        for (int i = 0; i < QS_CAL_COUNT; i++) {
            if (!qs_calib_table[i].cycle) continue;
            if (first < 0) first = i;
            if (i > k && next < 0) next = i;
        }
        if (k < 0 || k >= QS_CAL_COUNT || !qs_calib_table[k].cycle || next < 0) next = first;
        snprintf(line, sizeof line, "calib %s%s%s", qs_calib_table[next].name,
                 qs_calib_table[next].cycle[0] ? " " : "", qs_calib_table[next].cycle);
        return qs_tui_run_user(m, line);
    }
    default: break;
    }
    return 0;
}

/* ==== screen key handlers ================================================================= */

void qs_tui_goto(qs_tui_model *m, int screen)
{
    if (screen < 0 || screen >= QS_SCR_COUNT) return;
    if (screen == m->screen) return;
    if (qs_tui_screens[m->screen].on_leave) qs_tui_screens[m->screen].on_leave(m);
    m->screen = screen;
    if (qs_tui_screens[screen].on_enter) qs_tui_screens[screen].on_enter(m);
}

static const qs_tui_binding *screen_binding(int screen, int key)
{
    for (const qs_tui_binding *b = qs_tui_bindings; b->act != QA_NONE; b++)
        if (b->screen == screen && b->key == key) return b;
    return NULL;
}

static int data_key(qs_tui_model *m, int key)
{
    const qs_tui_binding *b = screen_binding(QS_SCR_DATA, key);
    if (!b) return 0;
    switch (b->act) {
    case QA_LOG:
        m->log_scale = !m->log_scale;
        qs_tui_status(m, 0, "histogram: %s scale", m->log_scale ? "log" : "linear");
        break;
    case QA_CHANNELS:
        m->channels = !m->channels;
        if (m->channels && m->nchan == 0)
            qs_tui_status(m, 1, "per-channel view needs a tensor with 2 or more dims");
        break;
    case QA_TENSOR_NEXT:
    case QA_TENSOR_PREV: {
        const qs_file *f = m->s->file;
        if (!f || f->n < 2) {
            qs_tui_status(m, 1, "the loaded file holds one tensor");
            break;
        }
        int i = m->s->tensor_index + (b->act == QA_TENSOR_NEXT ? 1 : -1);
        i = (i + f->n) % f->n;
        char line[1200];
        snprintf(line, sizeof line, "use \"");
        size_t k = strlen(line);
        for (const char *p = f->entries[i].name; *p && k + 3 < sizeof line; p++) {
            if (*p == '"' || *p == '\\') line[k++] = '\\';
            line[k++] = *p;
        }
        line[k++] = '"';
        line[k] = '\0';
        return qs_tui_run_user(m, line) | QS_TUI_HANDLED;
    }
    case QA_SCROLL_DOWN:
        if (m->chan_scroll + 1 < m->nchan) m->chan_scroll++;
        break;
    case QA_SCROLL_UP:
        if (m->chan_scroll > 0) m->chan_scroll--;
        break;
    default: return 0;
    }
    return QS_TUI_HANDLED | QS_TUI_REDRAW;
}

static int derive_key(qs_tui_model *m, int key)
{
    const qs_tui_binding *b = screen_binding(QS_SCR_DERIVE, key);
    if (!b) return 0;
    /* the method traces' keys (m, r; the stepping keys while one is shown) */
    int f = qs_tui_mtrace_key(m, b->act);
    if (f) return f;
    int n = (int)json_array_size(json_object_get(m->derive, "steps"));
    const qs_tensor *t = m->s->tensor;
    qs_tui_act act = b->act == QA_PART_NEXT ? QA_ELEM_NEXT
                   : b->act == QA_PART_PREV ? QA_ELEM_PREV : b->act;
    switch (act) {
    case QA_STEP_NEXT:
        if (m->step + 1 < n) m->step++;
        else qs_tui_status(m, 0, "last step (p goes back)");
        break;
    case QA_STEP_PREV:
        if (m->step > 0) m->step--;
        break;
    case QA_EXAMPLE:
        m->example = (m->example + 1) % 3;
        m->step = 0;
        if (m->example) example_setup(m);
        else {
            m->has_value = 0;
            m->elem = -1;
        }
        refresh_derive(m);
        if (m->example)
            qs_tui_status(m, 0, "seed example %d: values %s · uint8 asym · minmax", m->example,
                          m->example == 1 ? "0 1000 (follow 250)" : "-20 1000 (follow -20)");
        else
            qs_tui_status(m, 0, "back to the current tensor");
        break;
    case QA_VALUE:
        m->prompt = QS_PR_DERIVE;
        return QS_TUI_HANDLED | QS_TUI_PROMPT | QS_TUI_REDRAW;
    case QA_ELEM_NEXT:
    case QA_ELEM_PREV:
        /* the elements of what the screen shows: a seed example's values or the tensor's */
        if (m->example) t = m->ex.tensor;
        if (!t || t->n < 1) {
            qs_tui_status(m, 1, "no tensor loaded");
            break;
        }
        if (m->elem < 0) m->elem = act == QA_ELEM_NEXT ? 0 : t->n - 1;
        else m->elem = (m->elem + (act == QA_ELEM_NEXT ? 1 : t->n - 1)) % t->n;
        m->has_value = 1;
        m->value = t->data[m->elem];
        refresh_derive(m);
        qs_tui_status(m, 0, "following element %lld = %.9g", (long long)m->elem, m->value);
        break;
    default: return 0;
    }
    return QS_TUI_HANDLED | QS_TUI_REDRAW;
}

static int bits_key(qs_tui_model *m, int key)
{
    static const double specials[] = {7.32, 0.0, -0.0, 1e-40, 3.4028234663852886e38,
                                      INFINITY, NAN, 0.1};
    const qs_tui_binding *b = screen_binding(QS_SCR_BITS, key);
    if (!b) return 0;
    int w = bits_row_width(m, m->bits_row);
    switch (b->act) {
    case QA_CUR_LEFT: if (m->bits_cur > 0) m->bits_cur--; break;
    case QA_CUR_RIGHT: if (m->bits_cur + 1 < w) m->bits_cur++; break;
    case QA_ROW_UP:
    case QA_ROW_DOWN: {
        /* over the set's rows, then the scheme's code row when there is one */
        qs_fmt_id ids[QS_TUI_BITS_MAXROWS + 1];
        int n = qs_tui_bits_rows(m->bits_view, ids), rows = n + (m->have_code ? 1 : 0), at = 0;
        ids[n] = (qs_fmt_id)QS_TUI_BITS_SCHEME;
        for (int i = 0; i <= n; i++) if ((int)ids[i] == m->bits_row) at = i;
        at = (at + (b->act == QA_ROW_DOWN ? 1 : rows - 1)) % rows;
        m->bits_row = (int)ids[at];
        int nw = bits_row_width(m, m->bits_row);
        if (m->bits_cur >= nw) m->bits_cur = nw > 0 ? nw - 1 : 0;
        break;
    }
    case QA_BITS_SET: {
        /* the next row set; the cursor stays on its format when the set has it, else fp32 */
        qs_fmt_id ids[QS_TUI_BITS_MAXROWS];
        m->bits_view = (m->bits_view + 1) % QS_BITS_SETS;
        int n = qs_tui_bits_rows(m->bits_view, ids), in = !bits_is_fmt(m->bits_row);
        for (int i = 0; i < n; i++) in |= (int)ids[i] == m->bits_row;
        if (!in) {
            m->bits_row = QS_FMT_FP32;
            m->bits_cur = 0;
        }
        qs_tui_status(m, 0, "Bits: %s (%d rows; f shows %s next)",
                      qs_tui_bits_set_name(m->bits_view), n,
                      qs_tui_bits_set_name((m->bits_view + 1) % QS_BITS_SETS));
        break;
    }
    case QA_FLIP: qs_tui_bits_flip(m); break;
    case QA_BITS_VALUE:
        m->prompt = QS_PR_BITS;
        return QS_TUI_HANDLED | QS_TUI_PROMPT | QS_TUI_REDRAW;
    case QA_SPECIAL: {
        int n = (int)(sizeof specials / sizeof specials[0]), k = 0;
        for (int i = 0; i < n; i++)
            if (memcmp(&specials[i], &m->bits_input, sizeof(double)) == 0) k = i + 1;
        if (isnan(m->bits_input)) k = 7;
        qs_tui_bits_set(m, specials[k % n]);
        break;
    }
    default: return 0;
    }
    return QS_TUI_HANDLED | QS_TUI_REDRAW;
}

/* The dragged clip range goes through the command table as `calib manual min=LO max=HI` (so
 * it works for every integer scheme and granularity, and `save` replays it); the session
 * remembers only the latest drag step. */
static int apply_clip(qs_tui_model *m, double lo, double hi)
{
    qs_err err = {{0}};
    qs_session *s = m->s;
    char line[128];
    if (!s->tensor) {
        qs_tui_status(m, 1, "no tensor loaded");
        return QS_TUI_HANDLED | QS_TUI_REDRAW;
    }
    if (s->scheme.kind != QS_Q_INT) {
        qs_tui_status(m, 1, "dragging the clip range needs an integer scheme (this one does "
                      "not use a calibrator)");
        return QS_TUI_HANDLED | QS_TUI_REDRAW;
    }
    snprintf(line, sizeof line, "calib manual min=%.9g max=%.9g", lo, hi);
    json_t *o = query(s, &err, "%s", line);
    if (!o) {
        qs_tui_status(m, 1, "%s", err.msg);
        return QS_TUI_HANDLED | QS_TUI_REDRAW;
    }
    json_decref(o);
    if (s->nhistory > 0 && strncmp(s->history[s->nhistory - 1], "calib manual ", 13) == 0) {
        free(s->history[s->nhistory - 1]);
        s->nhistory--;
    }
    qs_session_remember(s, line);
    refresh_scheme(m);
    qs_tui_status(m, 0, "clip [%.6g, %.6g]: MSE %.6g · SQNR %.2f dB · clipped %.3g%%",
                  m->clip_lo, m->clip_hi, jget(m->quant, "mse", NAN),
                  jget(m->quant, "sqnr_db", NAN), 100 * jget(m->quant, "clip_frac", NAN));
    return QS_TUI_HANDLED | QS_TUI_REDRAW;
}

static int error_key(qs_tui_model *m, int key)
{
    const qs_tui_binding *b = screen_binding(QS_SCR_ERROR, key);
    if (!b) return 0;
    double lo = m->clip_lo, hi = m->clip_hi;
    if (!isfinite(lo) || !isfinite(hi)) {
        lo = jget(m->stats, "min", -1);
        hi = jget(m->stats, "max", 1);
        if (!isfinite(lo) || !isfinite(hi)) {   /* no finite values */
            lo = -1;
            hi = 1;
        }
    }
    double w = hi - lo, step = w * 0.025;
    switch (b->act) {
    case QA_CLIP_IN:
        if (w > 4 * step) { lo += step; hi -= step; }
        break;
    case QA_CLIP_OUT: lo -= step; hi += step; break;
    case QA_CLIP_LEFT: lo -= step; hi -= step; break;
    case QA_CLIP_RIGHT: lo += step; hi += step; break;
    case QA_CLIP_RESET: {
        /* back to the calibrator in force before the drag (its settings are kept) */
        char line[64];
        qs_calib_kind k = m->clip_prev == QS_CAL_MANUAL ? QS_CAL_MINMAX : m->clip_prev;
        snprintf(line, sizeof line, "calib %s", qs_calib_name(k));
        return qs_tui_run_user(m, line) | QS_TUI_HANDLED;
    }
    case QA_COMPARE:
        return qs_tui_run_user(m, "compare bits=2..8") | QS_TUI_HANDLED;
    case QA_METHODS: {
        char line[96];
        qs_tui_methods_line(m->s, line, sizeof line);
        return qs_tui_run_user(m, line) | QS_TUI_HANDLED;
    }
    default: return 0;
    }
    return apply_clip(m, lo, hi);
}

/* ==== the dispatcher ======================================================================= */

int qs_tui_handle_key(qs_tui_model *m, int key)
{
    if (key == KEY_RESIZE) return QS_TUI_HANDLED | QS_TUI_RESIZE | QS_TUI_REDRAW;
    if (m->help) {
        /* any key closes help; q still quits */
        m->help = 0;
        if (key == 'q') return QS_TUI_HANDLED | QS_TUI_QUIT;
        return QS_TUI_HANDLED | QS_TUI_REDRAW;
    }
    if (m->output_shown && m->output) {
        int lines = 0;
        for (const char *p = m->output; *p; p++) lines += *p == '\n';
        if (key == KEY_DOWN || key == KEY_NPAGE || key == 'j') {
            int stepn = key == KEY_NPAGE ? 10 : 1;
            if (m->output_scroll + stepn < lines) m->output_scroll += stepn;
            return QS_TUI_HANDLED | QS_TUI_REDRAW;
        }
        if (key == KEY_UP || key == KEY_PPAGE || key == 'k') {
            int stepn = key == KEY_PPAGE ? 10 : 1;
            m->output_scroll = m->output_scroll > stepn ? m->output_scroll - stepn : 0;
            return QS_TUI_HANDLED | QS_TUI_REDRAW;
        }
    }
    /* an error on the status line has been read once another key comes: it goes (a bad
     * number typed at the Bits prompt stayed beside later successful keys); a key that fails
     * again says so again */
    if (m->status_err && !m->job.running) {
        m->status[0] = '\0';
        m->status_err = 0;
    }
    if (m->job.running) {
        if (key == ESC || key == 3) {
            m->cancel = 1;
            qs_tui_status(m, 0, "cancelling '%s' …", m->job.line);
            return QS_TUI_HANDLED | QS_TUI_REDRAW;
        }
        /* while the worker owns the session, only moving between screens is allowed */
        const qs_tui_binding *g = qs_tui_binding_find(-1, key);
        if (g && g->act == QA_QUIT) {
            m->cancel = 1;      /* quitting cancels the job (model_fini waits for it) */
            return QS_TUI_HANDLED | QS_TUI_QUIT;
        }
        if (!g || !(g->act == QA_HELP || g->act == QA_NEXT_SCREEN ||
                    g->act == QA_PREV_SCREEN || (g->act >= QA_SCREEN1 && g->act <= QA_SCREEN6)
                    || g->act == QA_OUTPUT || g->act == QA_SUSPEND)) {
            qs_tui_status(m, 1, "busy: '%s' is running", m->job.line);
            return QS_TUI_HANDLED | QS_TUI_REDRAW;
        }
    }
    if (!m->job.running && qs_tui_screens[m->screen].handle_key) {
        int f = qs_tui_screens[m->screen].handle_key(m, key);
        if (f) return f;
    }
    const qs_tui_binding *b = qs_tui_binding_find(-1, key);
    if (!b) {
        if (key == 3) return QS_TUI_HANDLED | QS_TUI_QUIT;    /* Ctrl-C */
        if (key == '\n' || key == '\r' || key == KEY_MOUSE) return 0;
        qs_tui_status(m, 1, "unbound key (? shows the keys of this screen)");
        return QS_TUI_REDRAW;
    }
    if (m->present && m->screen == QS_SCR_LESSON &&
        (b->act == QA_NEXT_SCREEN || b->act == QA_PREV_SCREEN ||
         (b->act >= QA_SCREEN1 && b->act <= QA_SCREEN6))) {
        /* presenter mode is the Lesson screen's: another screen leaves it */
        int f = qs_tui_present(m, 0);
        if (b->act == QA_SCREEN6) return f;
        return qs_tui_handle_key(m, key) | f;
    }
    switch (b->act) {
    case QA_QUIT: return QS_TUI_HANDLED | QS_TUI_QUIT;
    case QA_SUSPEND: return QS_TUI_HANDLED | QS_TUI_SUSPEND;
    case QA_HELP: m->help = 1; break;
    case QA_CMDLINE:
        m->prompt = QS_PR_COMMAND;
        return QS_TUI_HANDLED | QS_TUI_PROMPT | QS_TUI_REDRAW;
    case QA_NEXT_SCREEN: qs_tui_goto(m, (m->screen + 1) % QS_SCR_COUNT); break;
    case QA_PREV_SCREEN: qs_tui_goto(m, (m->screen + QS_SCR_COUNT - 1) % QS_SCR_COUNT); break;
    case QA_SCREEN1: case QA_SCREEN2: case QA_SCREEN3:
    case QA_SCREEN4: case QA_SCREEN5: case QA_SCREEN6:
        qs_tui_goto(m, (int)(b->act - QA_SCREEN1));
        break;
    case QA_OUTPUT:
        if (!m->output) qs_tui_status(m, 0, "no output yet: ':' runs a command");
        m->output_shown = m->output ? !m->output_shown : 0;
        break;
    case QA_CANCEL:
        m->output_shown = 0;
        m->help = 0;
        break;
    case QA_BITS_UP: case QA_BITS_DOWN: case QA_SYM: case QA_CALIB: case QA_GRAN:
        return scheme_key(m, b->act) | QS_TUI_HANDLED;
    default: return 0;
    }
    return QS_TUI_HANDLED | QS_TUI_REDRAW;
}

/* Parses "0x..." as a pattern of format f, else a number. */
static int parse_bits_input(qs_tui_model *m, const char *line)
{
    while (*line == ' ') line++;
    if ((line[0] == '0' && (line[1] == 'x' || line[1] == 'X')) && bits_is_fmt(m->bits_row)) {
        char *end;
        unsigned long long p = strtoull(line + 2, &end, 16);
        while (*end == ' ') end++;
        const qs_numfmt *f = qs_numfmt_get((qs_fmt_id)m->bits_row);
        if (*end || line[2] == '\0' || p > 0xffffffffULL || !qs_numfmt_valid(f, (uint32_t)p)) {
            qs_tui_status(m, 1, "%s: not a %s bit pattern", line, f->name);
            return -1;
        }
        double v = qs_numfmt_decode(f, (uint32_t)p);
        qs_tui_bits_set(m, v);
        qs_numfmt_fields(f, (uint32_t)p, NAN, 0, &m->bits[m->bits_row]);
        return 0;
    }
    double v;
    if (qs_parse_double(line, &v) < 0) {
        qs_tui_status(m, 1, "'%s' is not a number or a 0xHEX pattern", line);
        return -1;
    }
    qs_tui_bits_set(m, v);
    return 0;
}

int qs_tui_submit(qs_tui_model *m, const char *line)
{
    qs_tui_prompt kind = m->prompt;
    m->prompt = QS_PR_NONE;
    if (!line) {
        qs_tui_status(m, 0, "cancelled");
        return QS_TUI_REDRAW;
    }
    switch (kind) {
    case QS_PR_COMMAND: return qs_tui_run_cmdline(m, line);
    case QS_PR_DERIVE: {
        double v;
        if (qs_parse_double(line, &v) < 0) {
            qs_tui_status(m, 1, "'%s' is not a number", line);
            break;
        }
        m->value = v;
        m->has_value = 1;
        m->elem = -1;
        /* followed on what the screen shows (a seed example's tensor or the user's), at
         * the step the learner was looking at */
        refresh_derive(m);
        qs_tui_status(m, 0, "following %.9g", v);
        break;
    }
    case QS_PR_BITS:
        if (parse_bits_input(m, line) == 0)
            qs_tui_status(m, 0, "%s: %s in FP32", line, m->bits[QS_FMT_FP32].hex);
        break;
    case QS_PR_ANSWER: return qs_tui_lesson_answer(m, line);
    case QS_PR_LESSON: return qs_tui_lesson_open(m, line);
    default: break;
    }
    return QS_TUI_REDRAW;
}

/* ==== the screens ========================================================================= */

static void error_enter(qs_tui_model *m)
{
    if (!m->quant && !m->job.running && m->s->tensor && qs_cmd_find("quant")) {
        qs_err err;
        set_json(&m->quant, query(m->s, &err, "quant"));
    }
}

const qs_tui_screen qs_tui_screens[QS_SCR_COUNT] = {
    [QS_SCR_DATA] = {"l log · v per-channel · t tensor · +/- bits · s sym · c calib · g granularity",
     qs_tui_draw_data, data_key, NULL, NULL},
    [QS_SCR_DERIVE] = {"n/p step · ←/→ element · m GPTQ/SmoothQuant · e examples · v value",
     qs_tui_draw_derive,
     derive_key, NULL, NULL},
    [QS_SCR_BITS] = {"←/→ bit · ↑/↓ format · space flip · v value · i specials · f formats",
     qs_tui_draw_bits, bits_key, NULL, NULL},
    [QS_SCR_ERROR] = {"←/→ clip range · </> shift · r reset · x compare · m methods · +/- bits · c calib",
     qs_tui_draw_error, error_key, error_enter, NULL},
    [QS_SCR_LAB] = {"↑/↓ setting · ←/→ change · r run · Esc cancel", qs_tui_draw_lab, qs_tui_lab_key, NULL, NULL},
    [QS_SCR_LESSON] = {"n/Enter next · p back · L open · a answer · P present · A auto · X close",
     qs_tui_draw_lesson,
     qs_tui_lesson_key, qs_tui_lesson_enter, qs_tui_lesson_leave},
};
