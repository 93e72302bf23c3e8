/* screens.h — the TUI's screens and the elements a lesson's `@highlight` may name, as one
 * table below the faces (src/lesson/screens.c). The lesson parser checks `@screen NAME` and
 * `@highlight NAME` against it, so a typo in a lesson is a syntax error `lesson check`
 * reports; the TUI's screen list is indexed by its enum (src/tui/tui_int.h) and its tab
 * titles are the table's; the TUI marks an element only through its qs_hl constant and only
 * on a screen whose row declares it (src/tui/draw.c hl()). A new screen: a constant, a row
 * in qs_screens and its draw function in the TUI's qs_tui_screens. A new highlight: a
 * constant, its name in qs_hl_names, its bit in the rows of the screens that draw it, and
 * its entry in man/qscope-lesson.5 (tests/e2e/lesson_check.sh compares the two). */
#ifndef QSCOPE_SCREENS_H
#define QSCOPE_SCREENS_H

#include <stddef.h>

/* The screens, in tab order: the TUI's keys 1..6 and `@screen 1`..`@screen 6`. */
typedef enum qs_screen {
    QS_SCREEN_DATA = 0, QS_SCREEN_DERIVE, QS_SCREEN_BITS, QS_SCREEN_ERROR, QS_SCREEN_LAB,
    QS_SCREEN_LESSON,
    QS_SCREEN_COUNT
} qs_screen;

/* The elements a lesson may highlight (their names in qs_hl_names). */
typedef enum qs_hl {
    QS_HL_SCALE = 0,        /* "scale": the scale on the parameters line */
    QS_HL_ZERO_POINT,       /* "zero_point": the zero point on the same line */
    QS_HL_PER_CHANNEL,      /* "per_channel": which parameter set / the granularity row */
    QS_HL_STEPS,            /* "steps": the derivation's steps / the `steps` table */
    QS_HL_ACTIVATIONS,      /* "activations": a GPTQ/SmoothQuant trace's synthetic activations */
    QS_HL_SIGN,             /* "sign": the sign bit of every float row */
    QS_HL_EXPONENT,         /* "exponent": the exponent bits */
    QS_HL_MANTISSA,         /* "mantissa": the mantissa bits */
    QS_HL_BITS_PER_PARAM,   /* "bits_per_param": the Error screen's bits/param row */
    QS_HL_COUNT
} qs_hl;

/* The bit of a highlight in a screen's `hl` set. */
#define QS_HLM(h) (1u << (h))

/* One screen. */
typedef struct qs_screen_desc {
    const char *name;       /* "derive": what `@screen` names (or the number, index + 1) */
    const char *title;      /* "Derive": the TUI's tab title */
    unsigned hl;            /* QS_HLM bits: the elements this screen marks for @highlight */
} qs_screen_desc;

/* The screens, indexed by qs_screen. */
extern const qs_screen_desc qs_screens[QS_SCREEN_COUNT];
/* The highlight names, indexed by qs_hl. */
extern const char *const qs_hl_names[QS_HL_COUNT];

/* The screen `name` names: a row's name ("derive") or its number ("3"); -1 when none. */
int qs_screen_find(const char *name);
/* The highlight `name` names ("zero_point"); -1 when no screen declares it. */
int qs_hl_find(const char *name);
/* 1 when screen `s` marks highlight `h`. */
int qs_screen_marks(int s, int h);
/* Writes the screens' names for a message, "data, derive, ..., lesson or 1-6". */
void qs_screen_list(char *buf, size_t len);
/* Writes the highlight names for a message, "scale, zero_point, ...". */
void qs_hl_list(char *buf, size_t len);

#endif
