/* steps.h — private helpers that append derivation steps to a qs_trace (qparams.c, one.c,
 * derive.c, mx_derive.c, gptq.c, smooth.c): add a step, fill its texts printf-style, format a
 * float shortest-exact. The one copy of these helpers in src/quant. */
#ifndef QSCOPE_QUANT_STEPS_H
#define QSCOPE_QUANT_STEPS_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/derive.h"

/* Appends a step (NULL when out of memory: the macros below then do nothing). */
static inline qs_step *qs_steps_add(qs_trace *tr, const char *title, const char *formula,
                                    double value)
{
    if (tr->n == tr->cap) {
        int cap = tr->cap ? tr->cap * 2 : 16;
        qs_step *s = realloc(tr->steps, (size_t)cap * sizeof *s);
        if (!s) return NULL;
        tr->steps = s;
        tr->cap = cap;
    }
    qs_step *s = &tr->steps[tr->n++];
    memset(s, 0, sizeof *s);
    snprintf(s->title, sizeof s->title, "%s", title);
    snprintf(s->formula, sizeof s->formula, "%s", formula);
    s->value = value;
    return s;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static inline void qs_steps_put(char *dst, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, len, fmt, ap);
    va_end(ap);
}
#define STEP_SUB(s, ...) do { if (s) qs_steps_put((s)->substituted, sizeof (s)->substituted, __VA_ARGS__); } while (0)
#define STEP_RES(s, ...) do { if (s) qs_steps_put((s)->result, sizeof (s)->result, __VA_ARGS__); } while (0)
#define STEP_NOTE(s, ...) do { if (s) qs_steps_put((s)->note, sizeof (s)->note, __VA_ARGS__); } while (0)

/* The shortest text (6..9 digits) that reads back as the same float. */
static inline const char *qs_steps_g(char buf[32], double v)
{
    for (int p = 6; p <= 9; p++) {
        snprintf(buf, 32, "%.*g", p, v);
        if ((float)strtod(buf, NULL) == (float)v) return buf;
    }
    snprintf(buf, 32, "%.9g", v);
    return buf;
}

/* The same in parentheses when negative, for substitutions like "0 - (-5)". */
static inline const char *qs_steps_gp(char buf[40], double v)
{
    char t[32];
    qs_steps_g(t, v);
    if (v < 0) snprintf(buf, 40, "(%s)", t);
    else snprintf(buf, 40, "%s", t);
    return buf;
}

/* Short names for the files that write many steps: #define QS_STEPS_SHORT before including
 * (function-like, so a variable called g or add is left alone). */
#ifdef QS_STEPS_SHORT
#define add(tr, title, formula, value) qs_steps_add(tr, title, formula, value)
#define SUB STEP_SUB
#define RES STEP_RES
#define NOTE STEP_NOTE
#define g(buf, v) qs_steps_g(buf, v)
#define gp(buf, v) qs_steps_gp(buf, v)
#endif

#endif
