/* cmd.h — the command language: one table of commands shared by every face.
 *
 * A command line is split shell-style into words (quotes and backslashes as in sh). The first
 * word names a row of the table; the row's run() gets the remaining words and fills a result:
 * a JSON object (jansson) whose keys are the documented contract. Faces render that object
 * (text tables, TUI widgets, JSON lines); commands never print. */
#ifndef QSCOPE_CMD_H
#define QSCOPE_CMD_H

#include <jansson.h>

#include "qscope/err.h"
#include "qscope/result.h"
#include "qscope/session.h"

/* Completion hints for a command's arguments. */
enum {
    QS_COMPL_NONE = 0,
    QS_COMPL_FILE = 1 << 0,     /* first argument is a path */
    QS_COMPL_TENSOR = 1 << 1,   /* an argument is a tensor name of the loaded file */
    QS_COMPL_LESSON = 1 << 2,   /* an argument is a lesson name */
    QS_COMPL_COMMAND = 1 << 3   /* an argument is a command name (help) */
};

/* Command flags. */
enum {
    QS_CMD_SLOW = 1 << 0,       /* may take long: faces show progress and allow cancel */
    QS_CMD_FACE = 1 << 1,       /* handled by the face (quit, set, source, save): run() is
                                   a fallback for faces that do not handle it */
    QS_CMD_NOTENSOR = 1 << 2,   /* does not read the current tensor's values (so a large
                                   selected tensor is not converted before it runs) */
    QS_CMD_WRITES = 1 << 3,     /* can write a file named by an argument (export, save, lab
                                   save): a lesson may run it only when its header says
                                   `files: write` and the learner allowed it */
    QS_CMD_READS = 1 << 4       /* reads a file named by its first path argument (load): in a
                                   lesson only under the lesson's folder or qscope's datasets,
                                   unless the header says `files: read` and the learner
                                   allowed it (see lesson.h, qs_lesson_access) */
};

/* run(): argc/argv are the words after the command name. On success returns QS_OK and sets
 * *out to a new JSON object (the caller owns it); on failure returns QS_ERR or QS_CANCELLED
 * with err filled, *out untouched, and the session left as it was. */
typedef int (*qs_cmd_fn)(qs_session *s, int argc, char **argv, json_t **out, qs_err *err);

/* ---- argument specs ----------------------------------------------------------------------
 * A row may list what it accepts as specs. qs_args_check validates a command line against
 * them (unknown words, numbers and their ranges, allowed values), completion offers them,
 * `help` prints the lines of table-driven choices, and tests/unit/test_cmd_specs.c walks them
 * all. Rows without specs keep their own parsing (qs_arg_check and friends). */
typedef enum qs_arg_type {
    QS_ARG_END = 0,     /* terminates the array */
    QS_ARG_WORD,        /* a bare word from the choices (e.g. the calibrator's name) */
    QS_ARG_FLAG,        /* a bare word that switches something: "two-sided" */
    QS_ARG_INT,         /* name=N, an integer in [lo, hi] */
    QS_ARG_REAL,        /* name=X, a number in [lo, hi] */
    QS_ARG_TEXT,        /* name=TEXT; one of the choices when there are any */
    QS_ARG_LIST,        /* name=A,B,...: a comma-separated list, each item one of the choices
                           when there are any (formats=, methods=) */
    QS_ARG_POS          /* a positional value (name is its metavariable: PATH, V...) */
} qs_arg_type;

/* The i-th choice of a descriptor table (and its one-line help), NULL past the end. */
typedef const char *(*qs_arg_choice_fn)(int i, const char **help);
/* The i-th key of the key=value options a WORD's choice `word` brings (synth normal: mean,
 * std), NULL past the end. */
typedef const char *(*qs_arg_keys_fn)(const char *word, int i, const char **help);

typedef struct qs_arg {
    qs_arg_type type;
    const char *name;           /* key, flag or word; metavariable for WORD / POS */
    const char *meta;           /* INT / REAL / TEXT: the value's metavariable ("B") */
    double lo, hi;              /* INT / REAL: the accepted range */
    const char *def;            /* the default as shown, or NULL */
    const char *help;           /* one line, or NULL */
    const char *const *choices; /* WORD / TEXT: the allowed words (NULL-terminated), or NULL */
    qs_arg_choice_fn choice;    /* WORD / TEXT: the allowed words from a table, or NULL */
    qs_arg_keys_fn keys;        /* WORD: the options its chosen word brings (each key=X
                                   passes qs_args_check and completes once the word is on the
                                   line; the parser checks the value), or NULL */
} qs_arg;

typedef struct qs_cmd {
    const char *name;           /* command word, e.g. "load" */
    const char *group;          /* help group: "data", "formats", "quantize", "lab", ... */
    const char *usage;          /* one line: "load PATH [TENSOR]" */
    const char *summary;        /* one line: what it does */
    const char *help;           /* every option, one per line: "n=N  number of values" */
    const char *example;        /* a worked example, runnable as is */
    const char *const *words;   /* keywords to complete (NULL-terminated), or NULL */
    int complete;               /* QS_COMPL_* flags */
    int flags;                  /* QS_CMD_* flags */
    qs_cmd_fn run;              /* the implementation */
    const qs_arg *args;         /* argument specs ({0}-terminated), or NULL */
    const struct qs_cmd *subs;  /* subcommands ({0}-terminated rows; argv[0] names one), or
                                   NULL */
    unsigned kinds;             /* the result kinds it returns: QS_RK(QS_R_HIST) | ...
                                   (qscope/result.h); a row with subs declares the union of
                                   theirs. Set it as `.kinds = ...` after the positional
                                   fields; tests/unit/test_result.c checks every row */
} qs_cmd;

/* The table, in help order: qs_cmd_at(0 .. qs_cmd_count()-1). Rows come from each module's
 * own array (see src/cmd/cmd.c). */
int qs_cmd_count(void);
const qs_cmd *qs_cmd_at(int i);
/* Looks a command up by exact name; NULL when unknown. */
const qs_cmd *qs_cmd_find(const char *name);
/* Up to max command names close to `word`: the commands it is a prefix of, else those at
 * the smallest edit distance (within a limit growing with the word's length), in table
 * order. Only the best tier is returned, so a clear typo gets a single suggestion. */
int qs_cmd_suggest(const char *word, const char **out, int max);
/* The subcommand `name` of c (c->subs), or NULL. */
const qs_cmd *qs_cmd_sub(const qs_cmd *c, const char *name);
/* The i-th allowed word of a WORD / TEXT spec (help, may be NULL, gets its line), NULL past
 * the end. */
const char *qs_arg_choice_at(const qs_arg *a, int i, const char **help);
/* The spec of key=value `key` (INT / REAL / TEXT / LIST), or NULL. */
const qs_arg *qs_arg_spec(const qs_arg *args, const char *key, size_t keylen);
/* 1 when key (kl bytes) is an option that the chosen word of one of args' WORD specs brings
 * (a->keys; the word is one of argv). */
int qs_arg_word_key(const qs_arg *args, int argc, char **argv, const char *key, size_t kl);
/* Validates argv against c->args: every key=value names an INT / REAL / TEXT / LIST spec and
 * its value parses, lies in range and is one of the choices (each item of a LIST); every bare
 * word is a FLAG, a
 * choice of a WORD spec, or one of the POS specs (a POS whose name ends in "..." takes any
 * number). QS_ERR naming the word and the usage otherwise. QS_OK when c has no specs. */
int qs_args_check(const qs_cmd *c, int argc, char **argv, qs_err *err);
/* Runs the subcommand argv[0] of c (a row of c->subs, at any depth of nesting): checks the
 * words after it against its specs (qs_args_check) before its run() sees them, so a key
 * outside the spec never reaches a parser. QS_ERR naming the subcommands when argv[0] is
 * missing or not one of them. */
int qs_cmd_run_sub(const qs_cmd *c, qs_session *s, int argc, char **argv, json_t **out,
                   qs_err *err);
/* The command words of row c as its usage line spells them ("lab gpt ptq" for the row "ptq"
 * nested in "lab gpt"; the row's name when the usage does not start with it). */
void qs_cmd_label(const qs_cmd *c, char *buf, size_t len);
/* The options text `help CMD` shows: one line per table-driven choice of c's WORD specs
 * ("NAME<pad>help"), then c->help. malloc'd; NULL when out of memory. */
char *qs_cmd_options(const qs_cmd *c);
/* qs_arg_choice_fn vocabularies (src/cmd/vocab.c): every calibrator; those the lab takes. */
const char *qs_vocab_calib(int i, const char **help);
const char *qs_vocab_calib_lab(int i, const char **help);
const char *qs_vocab_conv(int i, const char **help);
/* qs_arg_keys_fn: the parameters of synth's distribution `word` (qs_synth_find). */
const char *qs_vocab_synth_params(const char *word, int i, const char **help);
/* Damerau-Levenshtein distance (used for suggestions; exposed for tests). */
int qs_edit_distance(const char *a, const char *b);

/* Splits a line into words, shell-style: whitespace separates; '…' keeps everything literal;
 * "…" allows \" \\ escapes; a backslash outside quotes escapes the next char; '#' at a word
 * start begins a comment. Returns the word count (>= 0) and a NULL-terminated argv the caller
 * frees with qs_split_free, or -1 on an unbalanced quote (err says which). */
int qs_split(const char *line, char ***argv, qs_err *err);
void qs_split_free(char **argv);
/* Splits a `-c` string at unquoted ';' and newlines into command lines. Returns the count and
 * a NULL-terminated array (free with qs_split_free), or -1 on an unbalanced quote. */
int qs_split_commands(const char *text, char ***lines, qs_err *err);

/* The first line of a script `save` writes starts with this: a syntax error to any POSIX
 * shell (so a saved script never runs as one), skipped by qscope's script runner. */
#define QS_SCRIPT_MAGIC ";;"

/* Runs one command line on the session. Blank lines and comments give QS_OK with *out NULL.
 * On success the result is also kept in s->last and the line in the session history.
 * *cmd_out (may be NULL) receives the table row that ran. */
int qs_cmd_run_line(qs_session *s, const char *line, json_t **out, const qs_cmd **cmd_out,
                    qs_err *err);

/* The same dispatch (lookup, suggestions, large-tensor conversion) without recording: the
 * result is not kept in s->last nor the line in the history (a face's own queries, e.g. the
 * TUI's stats and histogram for drawing). */
int qs_cmd_query(qs_session *s, const char *line, json_t **out, const qs_cmd **cmd_out,
                 qs_err *err);

/* Converts the selected tensor of the loaded file when load/use deferred it (tensors over
 * 64 MB are converted on first use). QS_OK when s->tensor is set or nothing is selected. */
int qs_session_materialize(qs_session *s, qs_err *err);
/* Fails with "CMD: no tensor loaded (...)" unless a tensor is current (converting a deferred
 * one first). */
int qs_need_tensor(qs_session *s, const char *cmd, qs_err *err);
/* axis=auto (src/cmd/cmd_axis.c): the channel axis scheme sc uses on the current tensor — the
 * axis= given (made non-negative), or the one qs_axis_auto reads off the tensor's file and
 * name — with the reason in why ("axis 3: TensorFlow HWIO kernel [1, 1, 128, 128]"). */
int qs_session_axis(const qs_session *s, const qs_scheme *sc, char *why, size_t len);
/* The same for any tensor t (from_file: t is one of s->file's tensors, e.g. `report`'s). */
int qs_session_axis_of(const qs_session *s, const qs_tensor *t, int from_file,
                       const qs_scheme *sc, char *why, size_t len);
/* Writes the auto axis into sc->axis (integer per-tensor / per-channel schemes that say
 * axis=auto, when a tensor is current). qs_cmd_run_line does it to s->scheme before every
 * command, so the engine sees a plain axis. */
void qs_session_resolve_axis(const qs_session *s, qs_scheme *sc);

/* `derive requant ...` (argv[0] is "requant"): the fixed-point requantization of the lab's
 * integer model, or of M= / s_in= s_w= s_out= given. Lives with the lab (cmd_lab.c); `derive`
 * hands its arguments over. */
int qs_cmd_derive_requant(qs_session *s, int argc, char **argv, json_t **out,
                          qs_err *err);

/* ---- argument helpers for run() implementations ---------------------------------------- */

/* Finds "key=value" among argv; returns the value or NULL. */
const char *qs_arg_kv(int argc, char **argv, const char *key);
/* Typed getters: return QS_OK and set *v (keeping *v as default when absent), or QS_ERR with
 * a message naming the argument when the value does not parse or is out of [lo, hi]. */
int qs_arg_int(int argc, char **argv, const char *key, long long lo, long long hi,
               long long *v, qs_err *err);
int qs_arg_double(int argc, char **argv, const char *key, double lo, double hi, double *v,
                  qs_err *err);
/* 1 when a bare word (flag) is present, e.g. "narrow". */
int qs_arg_flag(int argc, char **argv, const char *word);
/* Positional arguments: the i-th word without '=' (NULL when absent). */
const char *qs_arg_pos(int argc, char **argv, int i);
/* Checks every word is either a known key=value (keys) or a known flag (flags) or, up to
 * maxpos, a positional; otherwise fails naming the unknown word. NULL-terminated lists. */
int qs_arg_check(const qs_cmd *c, int argc, char **argv, const char *const *keys,
                 const char *const *flags, int maxpos, qs_err *err);
/* Parses a double strictly (whole string, finite or inf/nan allowed when allow_special). */
int qs_parse_double(const char *s, double *v);
int qs_parse_ll(const char *s, long long *v);

/* The sandbox at the point of access: QS_OK when the session runs no lesson command
 * (s->sandbox NULL) or when the lesson may write (write=1) or read path; else QS_ERR
 * "CMD: refused: ...". Commands call it right before they open or write a named file. */
int qs_cmd_check_path(const qs_session *s, const char *cmd, const char *path, int write,
                      qs_err *err);
/* 1 when path (resolved: links followed; a file that does not exist yet by its folder) lies
 * under the folder root (a real path). */
int qs_path_under(const char *path, const char *root);

/* Adds a double to a JSON object; JSON has no Inf or NaN: they become the strings "inf",
 * "-inf" and "nan" (documented in qscope(1), JSON OUTPUT; `expect` reads them as numbers). */
void qs_json_set_real(json_t *obj, const char *key, double v);
json_t *qs_json_real(double v);
/* A number as qs_json_real wrote it, read back: a JSON number, or one of the strings "inf",
 * "-inf" and "nan". 0 and *d set; -1 for anything else (null, a missing key, another
 * string), *d untouched. Every reader of results uses it (commands, lessons, faces). */
int qs_json_real_get(const json_t *v, double *d);

#endif
