/* tui_int.h — the TUI's internals: the model every screen draws from, the screens, the key
 * binding table and the flags key handlers return. Only draw.c and tui.c call ncurses; the
 * model (model.c) is plain C on a qs_session, so tests drive it without a terminal. */
#ifndef QSCOPE_TUI_INT_H
#define QSCOPE_TUI_INT_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>

#include <curses.h>
#include <jansson.h>

#include "qscope/cmd.h"
#include "qscope/io.h"
#include "qscope/numfmt.h"
#include "qscope/screens.h"
#include "qscope/session.h"

/* Smallest terminal the screens fit in; below it a "terminal too small" message. */
#define QS_TUI_MIN_COLS 60
#define QS_TUI_MIN_ROWS 16

/* What a key handler asks the main loop to do (bits). */
enum {
    QS_TUI_HANDLED = 1 << 0,    /* the key meant something */
    QS_TUI_REDRAW = 1 << 1,     /* draw the frame again */
    QS_TUI_RESIZE = 1 << 2,     /* rebuild the windows for a new terminal size */
    QS_TUI_QUIT = 1 << 3,       /* leave the TUI */
    QS_TUI_PROMPT = 1 << 4,     /* open the bottom line for input (model->prompt says what) */
    QS_TUI_SUSPEND = 1 << 5     /* give the terminal back and stop (Ctrl-Z); fg resumes */
};

/* The screens, in tab order (keys 1..6): the library's table (qscope/screens.h), which also
 * gives their tab titles and the @highlight names each one marks. */
typedef enum qs_tui_scr {
    QS_SCR_DATA = QS_SCREEN_DATA, QS_SCR_DERIVE = QS_SCREEN_DERIVE, QS_SCR_BITS = QS_SCREEN_BITS,
    QS_SCR_ERROR = QS_SCREEN_ERROR, QS_SCR_LAB = QS_SCREEN_LAB, QS_SCR_LESSON = QS_SCREEN_LESSON,
    QS_SCR_COUNT = QS_SCREEN_COUNT
} qs_tui_scr;

/* What the bottom input line is collecting. */
typedef enum qs_tui_prompt {
    QS_PR_NONE = 0,     /* no input line */
    QS_PR_COMMAND,      /* ':' a command in the REPL's language */
    QS_PR_DERIVE,       /* a value to follow through the derivation */
    QS_PR_BITS,         /* a value or 0xHEX pattern for the Bits screen */
    QS_PR_ANSWER,       /* an answer to a lesson quiz */
    QS_PR_LESSON        /* a lesson name or number to open */
} qs_tui_prompt;

/* Actions keys are bound to (the binding table maps keys to these). */
typedef enum qs_tui_act {
    QA_NONE = 0,
    /* everywhere */
    QA_QUIT, QA_HELP, QA_CMDLINE, QA_NEXT_SCREEN, QA_PREV_SCREEN,
    QA_SCREEN1, QA_SCREEN2, QA_SCREEN3, QA_SCREEN4, QA_SCREEN5, QA_SCREEN6,
    QA_OUTPUT, QA_SUSPEND, QA_CANCEL, QA_BITS_UP, QA_BITS_DOWN, QA_SYM, QA_CALIB, QA_GRAN,
    /* Data */
    QA_LOG, QA_CHANNELS, QA_TENSOR_NEXT, QA_TENSOR_PREV, QA_SCROLL_UP, QA_SCROLL_DOWN,
    /* Derive */
    QA_STEP_NEXT, QA_STEP_PREV, QA_EXAMPLE, QA_VALUE, QA_ELEM_NEXT, QA_ELEM_PREV,
    QA_PART_NEXT, QA_PART_PREV, QA_TRACE_SRC, QA_TRACE_RERUN,
    /* Bits */
    QA_CUR_LEFT, QA_CUR_RIGHT, QA_ROW_UP, QA_ROW_DOWN, QA_FLIP, QA_BITS_VALUE, QA_SPECIAL,
    QA_BITS_SET,
    /* Error */
    QA_CLIP_IN, QA_CLIP_OUT, QA_CLIP_LEFT, QA_CLIP_RIGHT, QA_CLIP_RESET, QA_COMPARE,
    QA_METHODS,
    /* Lab */
    QA_LAB_RUN, QA_LAB_GPT, QA_LAB_GPT_GEN, QA_LAB_GPT_ACTS,
    /* Lesson */
    QA_LESSON_NEXT, QA_LESSON_PREV, QA_LESSON_OPEN, QA_LESSON_ANSWER, QA_LESSON_AUTO,
    QA_LESSON_LIVE, QA_PRESENT, QA_CHECKS, QA_LESSON_CLOSE,
    QA_COUNT
} qs_tui_act;

/* One key binding: the table generates the help screen and drives every handler. */
typedef struct qs_tui_binding {
    int screen;         /* a qs_tui_scr, or -1 for every screen */
    int key;            /* the key code (a character, a control code or a KEY_* value) */
    const char *label;  /* how the help screen spells the key ("Tab", "←/→", "space") */
    qs_tui_act act;     /* what it does */
    const char *help;   /* one line of help; NULL for an alternative key already described */
} qs_tui_binding;

/* The binding table, terminated by a row with act == QA_NONE. */
extern const qs_tui_binding qs_tui_bindings[];
/* The binding for key on screen (screen rows first, then global ones), or NULL. */
const qs_tui_binding *qs_tui_binding_find(int screen, int key);

/* Rows of the Bits screen: the formats of the row set chosen with f (numfmt ids, bits_row
 * holds the id), then the scheme's own code (bits_row == QS_TUI_BITS_SCHEME). */
#define QS_TUI_BITS_SCHEME QS_FMT_COUNT
#define QS_TUI_BITS_MAXROWS 12

/* The Bits screen's row sets (f cycles them). */
typedef enum qs_tui_bitset {
    QS_BITS_ALL = 0,    /* fp32 .. uint8, then FP6 E3M2 / E2M3, FP4 E2M1 and E8M0 */
    QS_BITS_CLASSIC,    /* fp32 fp16 bf16 tf32 fp8-e4m3 fp8-e5m2 int8 uint8 */
    QS_BITS_MX,         /* fp32 for reference, then the MX element formats and E8M0 */
    QS_BITS_SETS
} qs_tui_bitset;

/* The format ids of row set `set` in row order into ids (QS_TUI_BITS_MAXROWS entries);
 * returns their count. */
int qs_tui_bits_rows(int set, qs_fmt_id *ids);
/* The set's name as the screen and the help show it ("all formats", "classic", "MX"). */
const char *qs_tui_bits_set_name(int set);

/* Settings of the Lab form: action, data, bits, the sweep's bit range, abits, granularity,
 * calibrator, epochs, LoRA rank (labform.c). */
#define QS_TUI_LAB_FIELDS 9

struct qs_tui_model;

/* What the Derive screen steps through: the scheme's own derivation (`derive`), or the trace
 * of a method command (`gptq`, `smoothquant`) on the current tensor as a weight matrix. */
typedef enum qs_tui_dsrc {
    QS_DSRC_SCHEME = 0, QS_DSRC_GPTQ, QS_DSRC_SMOOTH, QS_DSRC_COUNT
} qs_tui_dsrc;

/* A trace source's row (mtrace.c): how the screen names it, the command whose `steps` it
 * shows, and the line `m` runs when there is no result yet. */
typedef struct qs_tui_dsrc_row {
    const char *title;      /* "GPTQ" */
    const char *cmd;        /* "gptq" (NULL for the scheme's own derivation) */
    const char *line;       /* "gptq trace=2" */
} qs_tui_dsrc_row;
extern const qs_tui_dsrc_row qs_tui_dsrcs[QS_DSRC_COUNT];

/* A method's last trace on the Derive screen. */
typedef struct qs_tui_mtrace {
    json_t *res;            /* the command's result with its steps (owned), or NULL */
    char line[256];         /* the line it came from, `apply` left out (r / ] / [ rerun it) */
    char key[64];           /* tensor_key when it was computed (differs: drawn as stale) */
    char on[400];           /* the tensor it was computed on ("name [shape]") */
    int applied;            /* 1: that line also replaced the tensor (`apply`) */
} qs_tui_mtrace;

/* The view state a lesson starts without and gives back when it is closed: what the screens
 * were set to show (the session's own state is the lesson session's, see present.c). */
typedef struct qs_tui_view {
    int log_scale, channels, chan_scroll;   /* Data */
    int example, has_value, step;           /* Derive */
    int dsrc;                               /* Derive: the trace source (qs_tui_dsrc) */
    qs_tui_mtrace mt[QS_DSRC_COUNT];        /* Derive: method traces (owned while saved) */
    int64_t elem;                           /* Derive: element followed */
    double value;                           /* Derive: value followed */
    double bits_input;                      /* Bits: the value shown */
    int bits_row, bits_cur;                 /* Bits: cursor */
    int bits_view;                          /* Bits: row set (qs_tui_bitset) */
    int lab_field;                          /* Lab: setting under the cursor */
    int lab_set[QS_TUI_LAB_FIELDS];         /* Lab: the settings */
    json_t *compare, *lab;                  /* Error / Lab results (owned while saved) */
    json_t *methods;                        /* Error: `methods` result (owned while saved) */
    int err_methods;                        /* Error: the methods table is shown */
    char methods_key[200];                  /* what methods was computed for */
    char methods_for[400];
    char compare_key[160];                  /* what compare was computed for */
    char compare_for[400];
} qs_tui_view;

/* A long command running in a worker thread (training, big loads, a lesson step that trains).
 * work() runs in the worker and must not touch the model except the job's own fields; done()
 * runs on the main thread afterwards and applies the outcome (returns QS_TUI_* flags). */
typedef struct qs_tui_job {
    void (*work)(struct qs_tui_model *m);   /* NULL: run `line` with qs_cmd_run_line */
    int (*done)(struct qs_tui_model *m);    /* NULL: route the command's result */
    void *data;                 /* work()'s output for done() (owned by them) */
    pthread_t thread;           /* the worker */
    int running;                /* 1 between start and collect (main thread only) */
    pthread_mutex_t mu;         /* guards the fields below */
    int finished;               /* set by the worker when the command returned */
    char label[64];             /* progress label from the session callback */
    double done_units, total;   /* progress: done_units of total */
    char *line;                 /* the command line (owned) */
    json_t *out;                /* its result (owned until collected) */
    const qs_cmd *cmd;          /* the row that ran */
    int rc;                     /* its status */
    qs_err err;                 /* its error */
} qs_tui_job;

/* The model: everything the screens draw, built from command results. Drawing reads it
 * (const); key handlers and qs_tui_submit change it. */
typedef struct qs_tui_model {
    qs_session *s;              /* the session commands run on (borrowed) */
    qs_session ex;              /* scratch session for the Derive screen's seed examples */
    int screen;                 /* current qs_tui_scr */
    int cols, rows;             /* terminal size the frame is laid out for */
    int utf8;                   /* 1: Unicode blocks and braille, 0: ASCII */
    int color;                  /* 1: colours in use */
    int help;                   /* 1: the key help overlay is shown */
    qs_tui_prompt prompt;       /* what the input line collects (QS_PR_NONE: closed) */
    char status[512];           /* status line message */
    int status_err;             /* 1: the message is an error */
    volatile sig_atomic_t cancel; /* raised by Esc while a job runs (s->cancel points here) */
    qs_tui_job job;             /* the long command in flight, if any */
    char *pending;              /* ':' line commands after a slow one, run when it ends */

    /* what drawing shows of the session, copied by the main thread after each change (a
     * worker thread may be replacing the session's tensor while the frame is drawn) */
    int has_tensor;             /* 1 when the session has a tensor */
    char t_name[256];           /* its name */
    char t_dtype[16];           /* its source dtype */
    char t_shape[96];           /* its shape, "[64, 64]" */
    long long t_n;              /* its element count */
    char t_file[512];           /* the loaded file's path, or "" */
    int t_index;                /* the tensor's index in the file, or -1 */
    char scheme_str[128];       /* qs_tui_scheme_str of the session */
    char state_key[160];        /* session, tensor, values and scheme (bar its bits): what a
                                 * comparison depends on */
    char methods_want[200];     /* session, tensor, values and the `methods` line m runs now:
                                 * what a methods table depends on */
    char tensor_key[64];        /* session, tensor and its values: what a method trace
                                 * (gptq, smoothquant) depends on */

    /* output pane: the rendered result of the last ':' command */
    char *output;               /* text (owned) or NULL */
    int output_shown;           /* 1: the pane covers the lower half */
    int output_scroll;          /* first line shown */

    /* 1 Data */
    json_t *tensors;            /* `tensors` result */
    json_t *stats;              /* `stats` result */
    json_t *hist;               /* `hist` result over the plot range */
    json_t *qparams;            /* `qparams` result (NULL when the engine lacks it) */
    int log_scale;              /* 1: histogram counts on a log scale */
    int channels;               /* 1: per-channel view instead of the histogram */
    int chan_scroll;            /* first channel row shown */
    int nchan;                  /* channels along chan_axis */
    float *chan_min, *chan_max; /* their ranges (owned) */
    int chan_axis;              /* the channel axis: the scheme's (axis=auto: qs_session_axis) */
    char chan_why[200];         /* why that axis ("axis 3: TensorFlow HWIO kernel ...") */
    char scheme_err[256];       /* why the scheme gives no parameters on this tensor, or "" */
    double plot_lo, plot_hi;    /* x range of the histogram plot */

    /* 2 Derive */
    json_t *derive;             /* `derive` result (steps) */
    json_t *ex_qparams;         /* qparams of the example session */
    json_t *ex_stats;           /* stats of the example session (its observed range) */
    int step;                   /* current step (0-based) */
    int example;                /* 0: the current tensor; 1..2: a seed example */
    int has_value;              /* 1: follow `value`; 0: the derive default */
    double value;               /* the value followed through the steps */
    int64_t elem;               /* element of the tensor `value` came from, or -1 */
    int dsrc;                   /* what the steps are: the scheme's derivation or a method's
                                 * trace (qs_tui_dsrc; `m` cycles, routed results set it) */
    qs_tui_mtrace mt[QS_DSRC_COUNT]; /* each method's last trace (index QS_DSRC_SCHEME unused) */

    /* 3 Bits */
    double bits_input;          /* the value shown in every format */
    int bits_row;               /* row of the cursor: a format id, or QS_TUI_BITS_SCHEME */
    int bits_cur;               /* bit under the cursor, counted from the left (MSB = 0) */
    int bits_view;              /* the rows shown (qs_tui_bitset; f cycles) */
    qs_numfields bits[QS_FMT_COUNT]; /* fields of the value in each format */
    int have_code;              /* 1: the scheme row is valid */
    int code;                   /* the scheme's integer code of bits_input */
    double code_value;          /* its dequantized value */
    int code_bits;              /* bits of the scheme's integer type */
    int code_signed;            /* signed integer type */
    char code_err[300];         /* no code row with an integer scheme: why ("" otherwise) */

    /* 4 Error */
    json_t *quant;              /* `quant` result (metrics, maybe an error histogram) */
    json_t *compare;            /* `compare` result */
    char compare_key[160];      /* state_key when it was computed (differs: drawn stale) */
    char compare_for[400];      /* the tensor and scheme it was computed for */
    json_t *methods;            /* `methods` result (RTN, GPTQ, AWQ, ... on this tensor) */
    int err_methods;            /* 1: the lower panel shows methods, 0: compare */
    char methods_key[200];      /* methods_want when it was computed (differs: drawn stale) */
    char methods_for[400];      /* the tensor and the line it was computed for */
    int clip_manual;            /* 1: a manual clip range (`calib manual`) is in force */
    qs_calib_kind clip_prev;    /* the calibrator before it (what r restores) */
    double clip_lo, clip_hi;    /* the clip range shown / dragged */

    /* 5 Lab */
    json_t *lab;                /* last lab result */
    char lab_line[256];         /* the command `r` runs, built from the settings */
    int lab_field;              /* setting under the cursor (0..QS_TUI_LAB_FIELDS-1) */
    int lab_set[QS_TUI_LAB_FIELDS]; /* each setting's choice (index into its value list) */
    int lab_scroll;             /* first line shown of the GPT view's generations / strip */

    /* 6 Lesson */
    void *lesson;               /* qs_lesson_player (owned) or NULL */
    json_t *lesson_log;         /* the current step's items: [{kind, text, ok}] */
    json_t *lesson_list;        /* `lesson list` result shown before a lesson is open */
    int lesson_live;            /* the screen drawn beside the narration */
    int lesson_quiz;            /* 1 while a quiz waits for an answer */
    int lesson_done;            /* 1 at the end of the lesson */
    int lesson_auto;            /* 1: auto-play (steps advance after the lesson's delay) */
    long long lesson_due_ms;    /* auto-play: when the next step is due (monotonic ms) */
    int lesson_show_live;       /* narrow terminals: 1 shows the live screen, not narration */
    int lesson_scroll;          /* first narration line shown */
    int lesson_sel;             /* no lesson open: the row of the lesson list chosen */
    int lesson_list_top;        /* no lesson open: the first list row shown */
    int lesson_shown;           /* the step shown (1-based; drawing never reads the player) */
    int lesson_nsteps;          /* the lesson's step count */
    char lesson_title[160];     /* its title */
    char highlight[32];         /* the step's `@highlight NAME`, drawn marked on the live
                                 * screen ("" none; cleared at the next step and when the
                                 * Lesson screen is left) */
    int present;                /* presenter mode: narration and live screen on the whole
                                 * terminal, no tab bar or key hints */
    int show_checks;            /* presenter mode: the lesson's check lines are shown */
    qs_session *user_s;         /* while a lesson is open: the user's session (m->s is the
                                 * lesson's own) */
    qs_session *lesson_s;       /* the lesson's session (owned), or NULL */
    qs_tui_view saved;          /* the user's view state while a lesson is open */
} qs_tui_model;

/* A screen: drawn from a const model; its keys handled through the binding table. Its name,
 * tab title and highlight names are its row in qs_screens (qscope/screens.h). */
typedef struct qs_tui_screen {
    const char *hint;                               /* one-line hint for the bottom line */
    void (*draw)(const qs_tui_model *m, WINDOW *w); /* draws the body window */
    int (*handle_key)(qs_tui_model *m, int key);    /* QS_TUI_* flags (0: not its key) */
    void (*on_enter)(qs_tui_model *m);              /* called when the screen is shown */
    void (*on_leave)(qs_tui_model *m);              /* called when another is shown */
} qs_tui_screen;

/* The six screens, in tab order (indexed like qs_screens). */
extern const qs_tui_screen qs_tui_screens[QS_SCR_COUNT];

/* ---- model.c -------------------------------------------------------------------------- */

/* Initialises a model on session s (borrowed) for a cols x rows terminal and builds it
 * from the session's current tensor. Free with qs_tui_model_fini. */
void qs_tui_model_init(qs_tui_model *m, qs_session *s, int cols, int rows);
void qs_tui_model_fini(qs_tui_model *m);
/* Rebuilds every result from the session (after the tensor, scheme or size changed). */
void qs_tui_refresh(qs_tui_model *m);
/* A new terminal size: lays out again (histogram bins follow the width). */
void qs_tui_resize(qs_tui_model *m, int cols, int rows);
/* Handles one key: the current screen's bindings, then the global ones. Returns flags. */
int qs_tui_handle_key(qs_tui_model *m, int key);
/* Shows screen i (on_leave / on_enter called). */
void qs_tui_goto(qs_tui_model *m, int screen);
/* Lesson screen (lesson.c): keys, entering, quiz answers, opening a lesson, cleanup. */
int qs_tui_lesson_key(qs_tui_model *m, int key);
void qs_tui_lesson_enter(qs_tui_model *m);
/* Leaving the Lesson screen: its @highlight no longer applies. */
void qs_tui_lesson_leave(qs_tui_model *m);
int qs_tui_lesson_answer(qs_tui_model *m, const char *line);
int qs_tui_lesson_open(qs_tui_model *m, const char *name);
/* Auto-play clock: plays the next step when it is due (now_ms: a monotonic clock in ms).
 * Returns flags (REDRAW, PROMPT when a quiz opens) or 0. */
int qs_tui_lesson_tick(qs_tui_model *m, long long now_ms);
void qs_tui_lesson_fini(qs_tui_model *m);
/* present.c: a lesson's own session and view state. lesson_begin gives the lesson a fresh
 * session (its declared state: the defaults, then its own commands) and puts the user's
 * session and views aside; lesson_restore closes the lesson session and gives them back.
 * lesson_reset starts the lesson session afresh (before replaying steps to go back). */
void qs_tui_lesson_begin(qs_tui_model *m);
void qs_tui_lesson_restore(qs_tui_model *m, int refresh);
void qs_tui_lesson_reset(qs_tui_model *m);
/* Presenter mode on or off (flags: the windows are laid out again). */
int qs_tui_present(qs_tui_model *m, int on);
/* Updates the model after a command changed the session and shows the screen its result
 * belongs to (beside the narration while a lesson plays). */
void qs_tui_route(qs_tui_model *m, const qs_cmd *cmd, json_t *out, const char *line);
/* Completes the input line opened by a PROMPT flag; line NULL means cancelled. */
int qs_tui_submit(qs_tui_model *m, const char *line);
/* Runs a command line typed by the user (':' line): recorded in the session history, the
 * result routed to its screen or the output pane. Slow commands start a job. */
int qs_tui_run_user(qs_tui_model *m, const char *line);
/* The ':' line: one or more commands separated by ';' (as the REPL); they run in order and
 * stop at the first error; the ones after a slow command run when its job ends. */
int qs_tui_run_cmdline(qs_tui_model *m, const char *line);
/* The `methods` line the Error screen's m key runs: the scheme's bits (an integer scheme of
 * 2..8 bits, else 4) and its symmetry. */
void qs_tui_methods_line(const qs_session *s, char *buf, size_t len);
/* mtrace.c: the Derive screen's method traces. dsrc_of: the source a command's result
 * belongs to (QS_DSRC_SCHEME: none). mtrace_route: a method's result arrived — kept and
 * shown when it has steps (1), else 0 (the caller shows the output pane). mtrace_key: the
 * Derive keys of the method traces (m cycles the source from any source; the rest only while
 * a method trace is shown), 0 when the key is not theirs. mtrace_steps: the result the Derive
 * screen steps through (the scheme's `derive` or the method's). mtrace_fini frees them. */
qs_tui_dsrc qs_tui_dsrc_of(const char *cmd);
int qs_tui_mtrace_route(qs_tui_model *m, qs_tui_dsrc src, json_t *out, const char *line);
int qs_tui_mtrace_key(qs_tui_model *m, qs_tui_act act);
json_t *qs_tui_derive_result(const qs_tui_model *m);
void qs_tui_mtrace_clear(qs_tui_mtrace *t);
/* Sets the value the Bits screen shows (all formats re-encode it). */
void qs_tui_bits_set(qs_tui_model *m, double v);
/* Flips the bit under the cursor of the current Bits row. */
void qs_tui_bits_flip(qs_tui_model *m);
/* The Lab form: a setting's name, its current value as text, and whether the current
 * action uses it. qs_tui_lab_line rebuilds m->lab_line from the settings. */
const char *qs_tui_lab_field(const qs_tui_model *m, int field, const char **value, int *used);
void qs_tui_lab_line(qs_tui_model *m);
/* The Lab form's defaults, and its keys (↑/↓ move over the settings the action uses, ←/→
 * change one, r runs the line). */
void qs_tui_lab_init(qs_tui_model *m);
int qs_tui_lab_key(qs_tui_model *m, int key);
/* Sets a status message (err: shown as an error). */
void qs_tui_status(qs_tui_model *m, int err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Text of the prompt for the current input line ("qscope> ", "value: "). */
const char *qs_tui_prompt_text(const qs_tui_model *m);
/* Tab under column x of the tab bar for a terminal `cols` wide, or -1. The tab bar layout
 * (qs_tui_tab_span) is shared by drawing and mouse clicks. */
int qs_tui_tab_at(int x);
void qs_tui_tab_span(int i, int *x0, int *x1);
/* Short description of the session's scheme and calibrator ("int8 asym/tensor · minmax"). */
void qs_tui_scheme_str(const qs_session *s, char *buf, size_t len);
/* A number from a JSON value: a JSON number, the strings "inf", "-inf" and "nan" the library
 * writes for nonfinite numbers (qs_json_real), or the first element of an array of them;
 * dflt for anything else (absent, null, another string). */
double qs_tui_num(json_t *v, double dflt);

/* Jobs: starts line in a worker thread (QS_OK) or fails when one is running. */
int qs_tui_job_start(qs_tui_model *m, const char *line);
/* Starts work() in the worker thread, done() to follow on the main thread; label names it
 * in the status bar. QS_ERR when a job is running. */
int qs_tui_job_start_fn(qs_tui_model *m, const char *label, void (*work)(qs_tui_model *m),
                        int (*done)(qs_tui_model *m), void *data);
/* Called by the main loop: when the job finished, joins it, applies the outcome and returns
 * QS_TUI_REDRAW (plus QS_TUI_PROMPT when the outcome asks for input); 0 while it runs or
 * when there is none. */
int qs_tui_job_poll(qs_tui_model *m);

/* ---- draw.c --------------------------------------------------------------------------- */

/* Colour roles: one pair each, with a monochrome attribute fallback. */
typedef enum qs_tui_role {
    QR_NORMAL = 0, QR_TITLE, QR_TAB, QR_TAB_ON, QR_STATUS, QR_ERROR, QR_DIM, QR_KEY,
    QR_BAR, QR_CLIP, QR_ZERO, QR_GRID, QR_SIGN, QR_EXP, QR_MANT, QR_CURSOR, QR_GOOD,
    QR_HL,      /* a lesson's @highlight: reverse + bold in colour and in monochrome */
    QR_COUNT
} qs_tui_role;

/* Text at (y, x), at most maxw columns, attribute a (ASCII spellings on a non-UTF-8
 * terminal; control characters and bytes that are not UTF-8 as qs_escape spells them);
 * returns the columns written. The attribute of a colour role. */
int qs_tui_put(WINDOW *w, int y, int x, int maxw, attr_t a, const char *s);
attr_t qs_tui_attr(const qs_tui_model *m, qs_tui_role r);
/* numline.c: the Derive screen's number line — the float range (min, 0, max, the clip
 * range, x) above the integer grid (qmin, zero point, qmax, q) with x's mapping drawn, in
 * rows y .. y+5 and columns x .. x+wd-1. Returns the rows used (0: nothing to draw). */
int qs_tui_draw_numline(const qs_tui_model *m, WINDOW *w, int y, int x, int wd);
/* Rows the number line takes when it is shown at the current step (0: not shown). */
int qs_tui_numline_rows(const qs_tui_model *m);
/* Sets up the colour pairs (when color) — call after initscr. */
void qs_tui_colors_init(int color);
/* Draws the whole frame into the four windows (tabs, body, status, bottom line). */
void qs_tui_draw_frame(const qs_tui_model *m, WINDOW *tabs, WINDOW *body, WINDOW *status,
                       WINDOW *bottom);
/* The screens' draw functions: each fills the body window from the model. */
void qs_tui_draw_data(const qs_tui_model *m, WINDOW *w);
void qs_tui_draw_derive(const qs_tui_model *m, WINDOW *w);
void qs_tui_draw_bits(const qs_tui_model *m, WINDOW *w);
void qs_tui_draw_error(const qs_tui_model *m, WINDOW *w);
void qs_tui_draw_lab(const qs_tui_model *m, WINDOW *w);
/* The GPT view of the Lab screen from y (gpt_draw.c): 1 when m->lab is a `lab gpt` sweep,
 * generate or acts result it drew, else 0. */
int qs_tui_draw_gpt(const qs_tui_model *m, WINDOW *w, int y);
/* The lines of the GPT view's scrollable part (generations or channel strip) at width W;
 * 0 when m->lab is not a generate or acts result. */
int qs_tui_gpt_lines(const qs_tui_model *m, int W);
void qs_tui_draw_lesson(const qs_tui_model *m, WINDOW *w);
/* The largest useful narration scroll (its lines past one window) for m->cols x m->rows. */
int qs_tui_lesson_scroll_max(const qs_tui_model *m);
/* The lesson list's rows in view for m->cols x m->rows (no lesson open), n lessons listed. */
int qs_tui_lesson_list_rows(const qs_tui_model *m, int n);
/* Draws "terminal too small" on stdscr. */
void qs_tui_draw_too_small(const qs_tui_model *m, WINDOW *w);

#endif
