/* lesson.h — lesson files: parse them into steps, check `expect` lines against a command's
 * result, match quiz answers, find lessons on the search path, and play a lesson one item at
 * a time on a session (the iterator every face drives: headless, REPL, TUI screen 6).
 *
 * The format is documented in man/qscope-lesson.5. In short:
 *
 *     title: Asymmetric quantization       <- metadata lines at the top (title: required)
 *     level: beginner                         level:, delay: 4s, author:, summary:
 *     delay: 4s
 *
 *     ## A skewed range                    <- a heading for this step
 *     Narration, with *emphasis*.          <- paragraphs (blank line between them)
 *     > values -20 1000                    <- a command, in the REPL's language
 *     expect scale == 4.0 tol=1e-6         <- a check of the last command's result
 *     @screen derive                       <- directives for the TUI
 *     ---                                  <- step break
 *     quiz: What is the zero point?        <- a quiz waits for the learner
 *     answer: 5 | five
 *     hint: Where does 0.0 land?
 *
 * The library never prints: the player hands each item to the face as a qs_lesson_event and
 * the face shows it. No global state. */
#ifndef QSCOPE_LESSON_H
#define QSCOPE_LESSON_H

#include <stddef.h>

#include <jansson.h>

#include "qscope/cmd.h"
#include "qscope/err.h"
#include "qscope/session.h"

/* Kinds of lesson items. */
typedef enum qs_li_kind {
    QS_LI_HEADING = 0,  /* "## text": the step's heading */
    QS_LI_TEXT,         /* a narration paragraph (lines joined) or a preformatted block */
    QS_LI_CMD,          /* "> command line" */
    QS_LI_EXPECT,       /* "expect KEY OP VALUE [tol=T]" */
    QS_LI_QUIZ,         /* "quiz:" + "answer:" + optional "hint:" */
    QS_LI_DIRECTIVE     /* "@screen NAME", "@highlight NAME", "@delay 6s", "@pause" */
} qs_li_kind;

/* Comparison operators of `expect`. */
typedef enum qs_op {
    QS_OP_EQ = 0,       /* == */
    QS_OP_NE,           /* != */
    QS_OP_LT,           /* < */
    QS_OP_LE,           /* <= */
    QS_OP_GT,           /* > */
    QS_OP_GE            /* >= */
} qs_op;

/* One `expect KEY OP VALUE [tol=T]` line. */
typedef struct qs_expect {
    char *key;          /* path into the result: "scale", "percentiles.p99", "codes[1]",
                           "rows[bits=4].qat_acc" */
    qs_op op;           /* the comparison */
    char *value;        /* the expected value as written (quotes removed) */
    int is_num;         /* 1 when value parses as a number (then num holds it) */
    double num;         /* the expected number */
    double tol;         /* absolute tolerance for == and != (see tol_rel) */
    int tol_rel;        /* 1 when tol was written as a percentage: relative tolerance */
    int tol_given;      /* 1 when tol= was written; else == uses half a unit of the last
                           digit written (3.9216 matches 3.92155..3.92165) */
} qs_expect;

/* A quiz: the question, its accepted answers and a hint. */
typedef struct qs_quiz {
    char *question;     /* the question (lines joined with spaces) */
    char **answers;     /* accepted answers, NULL-terminated; answers[0] is the canonical one */
    int nanswers;       /* their count (>= 1) */
    char *hint;         /* shown after a wrong answer, or NULL */
} qs_quiz;

/* One item of a step. */
typedef struct qs_lesson_item {
    qs_li_kind kind;    /* what it is */
    int line;           /* 1-based line in the file where it starts */
    char *text;         /* HEADING/TEXT: the text (TEXT: preformatted lines keep '\n');
                           CMD: the command line; DIRECTIVE: the directive's name */
    char *arg;          /* DIRECTIVE: its argument ("derive", "zero_point", "6s"), or NULL */
    int preformatted;   /* TEXT: 1 for indented lines shown as written, not wrapped */
    qs_expect expect;   /* EXPECT only */
    qs_quiz quiz;       /* QUIZ only */
} qs_lesson_item;

/* A step: the items between two `---` lines. */
typedef struct qs_lesson_step {
    qs_lesson_item *items;  /* the items, in file order */
    int nitems;             /* their count */
    int line;               /* line of the step's first item (or of its `---`) */
    int delay_ms;           /* auto-play delay for this step (@delay, else the lesson's) */
} qs_lesson_step;

/* A parsed lesson. */
typedef struct qs_lesson {
    char *path;             /* the file it came from (or the name given to the parser) */
    char *name;             /* the file's base name without ".lesson" ("05-asymmetric") */
    char *title;            /* title: (required) */
    char *level;            /* level: or NULL */
    char *author;           /* author: or NULL */
    char *summary;          /* summary: or NULL */
    int delay_ms;           /* delay: (default 4000 ms) */
    int files;              /* files: header, QS_LESSON_FILES_* (0: the sandbox only) */
    qs_lesson_step *steps;  /* the steps (at least one) */
    int nsteps;             /* their count */
} qs_lesson;

/* ---- parsing ------------------------------------------------------------------------- */

/* Parses lesson text. `path` names it in errors ("PATH:LINE: problem"). On success returns
 * QS_OK and *out (free with qs_lesson_free). On a syntax error returns QS_ERR with err set
 * to the first error, formatted "PATH:LINE: message". Command words are checked against the
 * command table: an unknown command is a syntax error. */
int qs_lesson_parse(const char *text, const char *path, qs_lesson **out, qs_err *err);
/* Reads and parses a file (errors name the file). */
int qs_lesson_load(const char *path, qs_lesson **out, qs_err *err);
/* Frees a lesson (NULL is fine). */
void qs_lesson_free(qs_lesson *l);

/* Counts items of a kind over the whole lesson. */
int qs_lesson_count(const qs_lesson *l, qs_li_kind kind);

/* ---- finding lessons ------------------------------------------------------------------ */

/* Resolves NAME to a file. NAME may be a path to an existing file, a file name
 * ("05-asymmetric.lesson"), a base name ("05-asymmetric"), a name without its number
 * ("asymmetric"), or a number ("5", "05"). Directories searched in order: ./lessons, each
 * directory of $QSCOPE_LESSON_PATH (colon-separated), the binary's ../share/qscope/lessons,
 * QSCOPE_DATADIR "/lessons". Writes the
 * path into buf and returns QS_OK, or QS_ERR naming NAME. */
int qs_lesson_find(const char *name, char *buf, size_t len, qs_err *err);
/* Lists the lessons on the search path (a name found twice: the first wins), sorted by name:
 * {"lessons": [{"name","title","level","steps","path"}, ...]}. Files that do not parse are
 * listed with "error" instead of a title. Never fails; returns a new object. */
json_t *qs_lesson_list(void);

/* ---- checking --------------------------------------------------------------------------- */

/* Looks KEY up in a result: dotted object keys, [i] array indexes (negative from the end),
 * [field=value] picks the first object of an array whose field equals value. Returns a
 * borrowed reference, or NULL with why filled ("no key 'foo'", "index 3 past the end"). */
json_t *qs_lesson_lookup(json_t *res, const char *key, char *why, size_t whylen);
/* Evaluates an expectation against a result. Numbers: == and != within the tolerance,
 * < <= > >= exactly. Strings, booleans (true/false) and null (null): == and != only, exact.
 * An array of one element stands for that element; a longer array needs an index. Returns
 * 1 when it holds, 0 when it does not, -1 when it cannot be evaluated (missing key, wrong
 * type); msg receives a one-line explanation either way ("scale = 4 (== 4.0)"). */
int qs_expect_eval(json_t *res, const qs_expect *e, char *msg, size_t msglen);
/* Parses the text after "expect " into e (free with qs_expect_fini). QS_ERR with a message
 * (no file or line) on bad syntax. */
int qs_expect_parse(const char *text, qs_expect *e, qs_err *err);
void qs_expect_fini(qs_expect *e);
/* Spelling of an operator ("=="). */
const char *qs_op_str(qs_op op);

/* 1 when `answer` matches one of the quiz's accepted answers: case, surrounding and repeated
 * spaces, and a final '.' are ignored; two numbers match when they are equal as numbers
 * ("4" matches "4.0"). */
int qs_quiz_check(const qs_quiz *q, const char *answer);

/* Expands "{datasets}" in a command line to the directory of qscope's bundled data: the
 * first of $QSCOPE_DATASETS, ./datasets, the binary's ../datasets and ../share/qscope/datasets,
 * and QSCOPE_DATADIR "/datasets" that holds default.npy (the last one when none does).
 * Returns a malloc'd string (caller frees), or NULL when out of memory. */
char *qs_lesson_expand(const char *line);

/* Wraps narration to `width` columns at spaces (a word longer than width stays whole).
 * Emphasis markers count as characters. Returns a malloc'd string (caller frees). */
char *qs_lesson_wrap(const char *text, int width);

/* ---- the strict check (strict.c) --------------------------------------------------------- */

/* Removes the exemption marker from narration in place: braces around text holding a digit,
 * on one line ("in {2026}" shows "in 2026"). The parser applies it to paragraphs,
 * preformatted blocks, headings, quiz questions and hints. */
void qs_lesson_unmark(char *s);
/* `lesson check --strict`: plays the lesson at `path` headless on a session of its own
 * (quizzes answered from the file) and checks every number written in its narration against
 * the numbers of the same step: expect values and the values they checked, command lines, and
 * every number of the step's results (what the faces print), within half a unit of the
 * number's last written digit (an unsigned number also matches a negative one; N% also
 * matches N/100). Numbers inside {…} are exempt. On QS_OK *report is
 * {file, numbers, exempt, unbacked: [{line, step, number}], ok}; QS_ERR when the lesson does
 * not play (err names the line). */
int qs_lesson_strict(const char *path, json_t **report, qs_err *err);

/* The same check alongside a face's own play (`play --headless|--html --strict`), so a lesson
 * is played once: begin with the lesson's file (its raw lines) and its parsed lesson, hand
 * every event the player gives to qs_strict_event, and after QS_LESSON_END qs_strict_finish
 * builds the report above. qs_strict_free releases it (NULL is fine). */
typedef struct qs_strict qs_strict;
struct qs_lesson_player;
struct qs_lesson_event;
int qs_strict_begin(qs_strict **out, const char *path, const qs_lesson *l, qs_err *err);
void qs_strict_event(qs_strict *st, const struct qs_lesson_player *p,
                     const struct qs_lesson_event *ev);
int qs_strict_finish(qs_strict *st, const qs_lesson *l, json_t **report, qs_err *err);
void qs_strict_free(qs_strict *st);

/* ---- playing ----------------------------------------------------------------------------- */

/* A player: a lesson, a session it runs commands on, and a cursor (step, item). */
typedef struct qs_lesson_player {
    qs_lesson *lesson;      /* the lesson (owned) */
    qs_session *s;          /* the session commands run on (borrowed) */
    int step;               /* current step (0-based); == nsteps at the end */
    int item;               /* next item of that step */
    json_t *last;           /* result of the lesson's last command (owned), for expect */
    int quiz_open;          /* 1 while the last item given out is an unanswered quiz */
    int quiz_tries;         /* wrong answers to the open quiz */
    const qs_lesson_item *quiz_item; /* the quiz last given out (borrowed), or NULL */
    int passed;             /* expectations met so far */
    int failed;             /* expectations failed or commands that failed */
    int commands;           /* commands run */
    char *line;             /* the last command line as run (owned) */
    int files_ok;           /* 1 when the learner (or --allow-files) allowed the file use the
                               header declares (qs_lesson_uses); 0: the sandbox only */
} qs_lesson_player;

/* What the player gives the face for one item. */
typedef struct qs_lesson_event {
    const qs_lesson_item *item; /* the item (borrowed from the lesson) */
    int step;                   /* its step (0-based) */
    int step_start;             /* 1 when it is the first item of its step: an interactive
                                   face waits for Enter before showing it */
    const char *line;           /* CMD: the command line as run, {datasets} expanded
                                   (borrowed; valid until the next call) */
    json_t *result;             /* CMD: the result (borrowed; valid until the next call) */
    const qs_cmd *cmd;          /* CMD: the table row that ran */
    int ok;                     /* CMD, EXPECT: 1 success, 0 failure */
    char msg[1024];             /* EXPECT: "scale = 4 (== 4.0)"; on failure the reason */
} qs_lesson_event;

/* Opens a player on a lesson file (or NAME, resolved with qs_lesson_find). */
int qs_lesson_player_open(qs_lesson_player *p, qs_session *s, const char *name, qs_err *err);
/* Starts a player on an already parsed lesson (takes ownership of l). */
void qs_lesson_player_init(qs_lesson_player *p, qs_session *s, qs_lesson *l);
/* Frees the lesson and the last result. */
void qs_lesson_player_fini(qs_lesson_player *p);

/* Return value of qs_lesson_next at the end of the lesson. */
#define QS_LESSON_END 1

/* Takes the next item: runs it when it is a command (through qs_cmd_run_line) or an expect
 * (against the last command's result), and describes it in *ev. Returns QS_OK; QS_LESSON_END
 * when there are no more items; QS_ERR when the command failed or the expectation did not
 * hold (ev filled, ev->ok = 0, err = "PATH:LINE: message"); QS_CANCELLED when a command was
 * cancelled. After a QUIZ item the face asks the learner and calls qs_lesson_answer; calling
 * next again without a right answer leaves the quiz unanswered (a face may allow skipping). */
int qs_lesson_next(qs_lesson_player *p, qs_lesson_event *ev, qs_err *err);
/* Checks an answer to the quiz last given out: 1 right (the quiz closes), 0 wrong (show the
 * hint), -1 when no quiz is open. */
int qs_lesson_answer(qs_lesson_player *p, const char *answer);
/* Moves to the start of step `step` (0..nsteps): the commands of the steps before it run
 * again from the beginning on the session (their expects are not re-checked), so a face can
 * go back a step and find the session as it was. Returns QS_OK or the failing command's
 * status (err "PATH:LINE: message"). */
int qs_lesson_goto(qs_lesson_player *p, int step, qs_err *err);
/* Auto-play delay before step `step` in milliseconds. */
int qs_lesson_delay_ms(const qs_lesson_player *p, int step);

/* ---- the sandbox ---------------------------------------------------------------------------
 * A lesson is untrusted content. Its commands run with a restricted command set: a command
 * whose row has QS_CMD_WRITES and names a file (export, save, lab save/load) is refused, and
 * one with QS_CMD_READS (load) may only read under the lesson's own folder or qscope's
 * datasets (paths resolved with symbolic links followed). A lesson that needs more says so in
 * its header (`files: read` or `files: write`, write including read); the face then names
 * every such command to the learner and asks before the first step (qs_lesson_uses), and the
 * player runs them only after qs_lesson_player's files_ok was set. `source`, `lesson` and
 * `quit` are never allowed in a lesson. The check runs again on every command as it runs. */
enum {
    QS_LESSON_FILES_READ = QS_SANDBOX_READ,  /* may read files outside its folder and the
                                                datasets */
    QS_LESSON_FILES_WRITE = QS_SANDBOX_WRITE /* may write files (export, save, lab save) */
};
/* What a lesson's command line needs: 0 nothing outside the sandbox, QS_LESSON_FILES_READ
 * (reads path outside it) or QS_LESSON_FILES_WRITE (writes, or may write, path). path
 * receives the first file concerned (may be NULL). `line` is the expanded command line. */
int qs_lesson_access(const qs_lesson *l, const char *line, char *path, size_t pathlen);
/* One command of a lesson that needs the learner's permission. */
typedef struct qs_lesson_use {
    int line;               /* its line in the lesson file */
    int what;               /* QS_LESSON_FILES_READ or QS_LESSON_FILES_WRITE */
    char *cmd;              /* the command line, {datasets} expanded (owned) */
    char *path;             /* the (first) file it reads or writes (owned) */
} qs_lesson_use;
/* Lists the commands that need permission (*n may be 0). QS_ERR ("PATH:LINE: ...") at the
 * first command that needs more than the header declares: such a lesson is refused. */
int qs_lesson_uses(const qs_lesson *l, qs_lesson_use **out, int *n, qs_err *err);
void qs_lesson_uses_free(qs_lesson_use *u, int n);
/* The real paths of the lesson's folder and of the datasets (empty when unknown): the roots
 * of a qs_sandbox (session.h). Buffers of PATH_MAX bytes. */
void qs_lesson_sandbox_roots(const qs_lesson *l, char *lroot, char *droot);
/* The folder "{datasets}" stands for (see qs_lesson_expand), into buf. */
void qs_lesson_datasets_dir(char *buf, size_t len);
/* The item qs_lesson_next will give out next (NULL at the end): a face prints a command
 * before it runs. */
const qs_lesson_item *qs_lesson_peek(const qs_lesson_player *p);

#endif
