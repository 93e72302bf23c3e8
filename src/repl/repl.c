/* repl.c — `qscope repl`: the GNU readline face of the command language (prompt with the
 * current tensor and scheme, history, completion, progress bar, Ctrl-C cancels a command),
 * and line-by-line script mode when stdin is not a terminal. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "front/faces.h"
#include "front/front.h"
#include "qscope/io.h"
#include "qscope/script.h"

/* ---- signals: flags only (async-signal-safe); the loops act on them ---------------------- */

static volatile sig_atomic_t g_cancel;  /* the session's cancel flag while a command runs */
static volatile sig_atomic_t g_int;     /* a Ctrl-C arrived */
static volatile sig_atomic_t g_term;    /* SIGTERM or SIGHUP arrived (its number) */
static volatile sig_atomic_t g_busy;    /* 1 while a command runs */
static volatile sig_atomic_t g_presses; /* Ctrl-C presses during the current command */

#define QS_HARD_INTERRUPTS 3            /* Ctrl-C presses that end a command that ignores them */

static void on_signal(int sig)
{
    if (sig == SIGINT) {
        g_int = 1;
        if (g_busy) {
            g_cancel = 1;
            if (++g_presses >= QS_HARD_INTERRUPTS) {
                /* the command does not poll its cancel flag: the terminal is in its normal
                 * mode while commands run, so leaving at once is safe */
                static const char m[] = "\nqscope: interrupted\n";
                ssize_t w = write(STDERR_FILENO, m, sizeof m - 1);
                (void)w;
                qs_io_write_cleanup();      /* an export's temp file */
                _exit(130);
            }
        }
    } else {
        if (g_term) {           /* a second one ends the process, without its temp files */
            qs_io_write_cleanup();
            signal(sig, SIG_DFL);
            raise(sig);
        }
        g_term = sig;
        g_cancel = 1;
    }
}

typedef struct sigsave {
    struct sigaction intr, term, hup;   /* the handlers in place before the REPL */
} sigsave;

static void install_signals(sigsave *old)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;            /* no SA_RESTART: select() returns at once */
    sigaction(SIGINT, &sa, &old->intr);
    sigaction(SIGTERM, &sa, &old->term);
    sigaction(SIGHUP, &sa, &old->hup);
}

static void restore_signals(const sigsave *old)
{
    sigaction(SIGINT, &old->intr, NULL);
    sigaction(SIGTERM, &old->term, NULL);
    sigaction(SIGHUP, &old->hup, NULL);
}

/* ---- running commands -------------------------------------------------------------------- */

/* The face's state. Readline's callbacks take no context, so they reach it through g_repl. */
typedef struct repl {
    qs_session *s;              /* the session */
    qs_runner r;                /* renders results, counts errors, sees `quit` */
    qs_progress_bar bar;        /* drawn on stderr while a command runs */
    char *histpath;             /* history file, or NULL */
    qs_completion comp;         /* candidates of the current completion */
    int comp_i;                 /* the generator's position in comp.words */
    char *line;                 /* the line readline handed over (owned), or NULL at EOF */
    int got_line;               /* 1 once the line handler ran */
} repl;

static repl *g_repl;

/* Erases the progress bar before any result or error is printed. */
static void before_output(void *ctx)
{
    qs_progress_bar_finish(ctx);
}

/* `lesson play NAME...` on a terminal: the lesson face plays it step by step (Enter for the
 * next step, quizzes asked) instead of the command's all-at-once run: a face operation the
 * library's runner calls for that row (interactive lines only). */
static int play_lesson(qs_script *r, int argc, char **argv)
{
    (void)r;
    if (argc < 3) return 1;         /* no NAME: the row itself says how to call it */
    return qs_lesson_main(g_repl->s, argc, argv) != 0 ? QS_ERR : QS_OK;
}

static const qs_face_op repl_ops[] = { { "lesson play", play_lesson }, { 0 } };

/* Runs one line with progress and cancellation. Interactive lines may hold several commands
 * separated by ';' (as `qscope -c`). */
static void run_line(repl *p, const char *line, const char *where, int split)
{
    qs_session *s = p->s;
    char **lines = NULL;
    qs_err err = {{0}};
    int n = split ? qs_split_commands(line, &lines, &err) : -1;
    g_cancel = 0;
    g_presses = 0;
    g_int = 0;
    s->progress = qs_progress_bar_update;
    s->progress_ctx = &p->bar;
    s->cancel = &g_cancel;
    p->r.before_output = before_output;
    p->r.before_ctx = &p->bar;
    for (int k = 0; k < (n < 0 ? 1 : n) && !p->r.quit && !g_term; k++) {
        qs_progress_bar_start(&p->bar, stderr, &g_cancel);
        g_busy = 1;
        const char *cmd = n < 0 ? line : lines[k];
        p->r.ops = split ? repl_ops : NULL;
        int rc = qs_run_line(&p->r, cmd, where);
        p->r.ops = NULL;
        g_busy = 0;
        qs_progress_bar_finish(&p->bar);
        if (rc == QS_CANCELLED || g_cancel) break;  /* the rest of the line is dropped */
    }
    qs_split_free(lines);
    s->progress = NULL;
    s->progress_ctx = NULL;
    s->cancel = NULL;
    g_cancel = 0;
}

/* `qscope repl FILE`: load FILE first (quoted for the splitter). */
static void load_first(repl *p, const char *file, int split)
{
    size_t len = strlen(file);
    char *cmd = malloc(len * 4 + 16), *q = cmd;
    if (!cmd) return;
    q += sprintf(q, "load '");
    for (const char *f = file; *f; f++) {
        if (*f == '\'') { memcpy(q, "'\\''", 4); q += 4; }
        else *q++ = *f;
    }
    strcpy(q, "'");
    run_line(p, cmd, NULL, split);
    free(cmd);
}

/* ---- script mode: stdin is not a terminal ------------------------------------------------ */

static int continues(const char *line);

/* Lines are read and run one at a time; errors are named "-:LINE", as `qscope -` names
 * them (the same runner, standard input read as a script). */
static int run_stdin(repl *p)
{
    char *buf = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0;
    char *cmd = NULL;           /* a command continued with backslashes, its first line */
    size_t clen = 0;
    int first = 0;
    while (!p->r.quit && (len = getline(&buf, &cap, stdin)) >= 0) {
        char where[32];
        lineno++;
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) buf[--len] = '\0';
        if (memchr(buf, '\0', (size_t)len)) {
            fprintf(stderr, "qscope: -:%d: not a text line (contains NUL bytes)\n", lineno);
            p->r.errors++;
            free(cmd);
            cmd = NULL;
            continue;
        }
        if (!cmd) { first = lineno; clen = 0; }
        char *t = realloc(cmd, clen + (size_t)len + 2);
        if (!t) break;
        cmd = t;
        memcpy(cmd + clen, buf, (size_t)len);
        clen += (size_t)len;
        cmd[clen] = '\0';
        if (continues(buf)) {   /* as qscope - reads it: the next line goes on */
            cmd[clen++] = '\n';
            cmd[clen] = '\0';
            continue;
        }
        snprintf(where, sizeof where, "-:%d", first);
        run_line(p, cmd, where, 0);
        free(cmd);
        cmd = NULL;
    }
    if (cmd) {                  /* a backslash on the last line: run what there is */
        char where[32];
        snprintf(where, sizeof where, "-:%d", first);
        run_line(p, cmd, where, 0);
        free(cmd);
    }
    free(buf);
    return p->r.errors ? 2 : 0;
}

/* ---- completion -------------------------------------------------------------------------- */

static char *gen_words(const char *text, int state)
{
    repl *p = g_repl;
    static int files;   /* readline's generator protocol: state 0 restarts */
    if (state == 0) {
        p->comp_i = 0;
        files = 0;
    }
    if (!files) {
        while (p->comp_i < p->comp.n) {
            const char *w = p->comp.words[p->comp_i++];
            if (strncmp(w, text, strlen(text)) == 0) return strdup(w);
        }
        if (!p->comp.files) return NULL;
        files = 1;
        return rl_filename_completion_function(text, 0);
    }
    return rl_filename_completion_function(text, 1);
}

/* ---- argument hints: the rest of the usage line, dim, after "CMD " ------------------------ */

static int g_hints;         /* 1: draw hints (only with colour: a plain hint would look typed) */
static int g_hint_cols;     /* columns of the hint now drawn after the cursor, or 0 */
static int g_prompt_cols;   /* visible columns of the prompt */

/* Columns of a UTF-8 string (code points), or -1 when it holds control characters. */
static int text_cols(const char *t, int skip_markers)
{
    int n = 0, hidden = 0;
    for (; *t; t++) {
        unsigned char c = (unsigned char)*t;
        if (skip_markers && c == '\001') { hidden = 1; continue; }
        if (skip_markers && c == '\002') { hidden = 0; continue; }
        if (hidden) continue;
        if (c < 0x20 || c == 0x7f) return -1;
        if ((c & 0xC0) != 0x80) n++;
    }
    return n;
}

/* Erases the hint (the cursor is where the hint was drawn from). */
static void hint_clear(void)
{
    if (!g_hint_cols) return;
    fputs("\033[K", rl_outstream);
    g_hint_cols = 0;
}

/* The hint for the line as it is (and its columns), or NULL when there is none or it does
 * not fit on the row. */
static const char *hint_now(int *hc)
{
    const char *h = g_hints ? qs_complete_hint(rl_line_buffer, rl_point) : NULL;
    int rows, cols, lc;
    if (!h) return NULL;
    rl_get_screen_size(&rows, &cols);
    lc = text_cols(rl_line_buffer, 0);
    *hc = text_cols(h, 0);
    if (lc < 0 || *hc <= 0 || g_prompt_cols + lc + *hc >= cols) return NULL;
    return h;
}

/* Draws the hint after readline's display when the line is "CMD " with the cursor at its end
 * and the whole thing fits on the row. The loop calls it once readline has drawn the line;
 * readline keeps its own redisplay (a custom rl_redisplay_function would make readline treat
 * the terminal as dumb: no terminfo, so no wrapping, no clear-screen, no resize redraw). */
static void hint_draw(void)
{
    if (!g_hints || g_hint_cols || rl_point != rl_end ||
        RL_ISSTATE(RL_STATE_ISEARCH | RL_STATE_NSEARCH | RL_STATE_NUMERICARG |
                   RL_STATE_COMPLETING | RL_STATE_MULTIKEY | RL_STATE_MOREINPUT))
        return;
    int hc;
    const char *h = hint_now(&hc);
    if (!h) return;
    fprintf(rl_outstream, "\033[2m%s\033[0m\033[%dD", h, hc);
    fflush(rl_outstream);
    g_hint_cols = hc;
}

/* Enter: erase the hint first, or it would stay on the screen after the command line. */
static int accept_line(int count, int key)
{
    hint_clear();
    return rl_newline(count, key);
}

/* Shows the command's usage line above the prompt (Tab on an empty argument). */
static void show_usage(const qs_cmd *c)
{
    fprintf(rl_outstream, "\n  usage: %s\n", c->usage ? c->usage : c->name);
    rl_on_new_line();
    rl_redisplay();
}

/* A backslash quotes the next character (so "my\\ file" is one word for completion). */
static int char_is_quoted(char *text, int index)
{
    int n = 0;
    while (index - 1 - n >= 0 && text[index - 1 - n] == '\\') n++;
    return n % 2 == 1;
}

/* Removes the backslashes of a word being completed as a file name (inside single quotes
 * they are literal). */
static char *dequote(char *text, int quote_char)
{
    char *out = malloc(strlen(text) + 1), *o = out;
    if (!out) return NULL;
    for (const char *t = text; *t; t++) {
        if (*t == '\\' && quote_char != '\'' && t[1]) t++;
        *o++ = *t;
    }
    *o = '\0';
    return out;
}

/* Lists candidates (matches[1..num], matches[0] the common prefix) that came from files:
 * tensor, lesson and file names pass qs_escape, so an ESC or C1 sequence in a name is shown
 * as \x1b / \u009b, never sent to the terminal. Installed only when a candidate needs it
 * (readline's own list keeps its colours and file-type marks otherwise). */
static void display_escaped(char **matches, int num, int max)
{
    char **e = calloc((size_t)num + 2, sizeof *e);
    int i, emax = max, ok = e != NULL;
    for (i = 0; ok && i <= num; i++) {
        e[i] = qs_escape(matches[i], 0);
        if (!e[i]) { ok = 0; break; }
        const char *shown = e[i], *slash;
        if (rl_filename_completion_desired && (slash = strrchr(shown, '/')) && slash[1])
            shown = slash + 1;
        if ((int)strlen(shown) > emax) emax = (int)strlen(shown);
    }
    if (ok && rl_completion_query_items > 0 && num >= rl_completion_query_items) {
        fprintf(rl_outstream, "\nDisplay all %d possibilities? (y or n)", num);
        fflush(rl_outstream);
        int c = rl_read_key();
        if (c != 'y' && c != 'Y' && c != ' ') ok = 0;
    }
    if (ok) rl_display_match_list(e, num, emax);
    else rl_crlf();
    for (i = 0; e && i <= num; i++) free(e[i]);
    free(e);
    rl_forced_update_display();
}

/* What completion inserts into the line is drawn raw by readline: a name holding a control
 * character is inserted only up to it (m[0], the text common to the matches, is cut there),
 * and a single such match becomes a list of one, which the next Tab shows escaped. */
static char **insert_clean(char **m)
{
    size_t n = strlen(m[0]);
    while (n > 0) {
        char c = m[0][n];
        m[0][n] = '\0';
        int bad = qs_escape_needed(m[0], 0);
        m[0][n] = c;
        if (!bad) break;
        n--;
    }
    if (m[1]) {
        m[0][n] = '\0';
        return m;
    }
    char **r = malloc(3 * sizeof *r);
    char *pre = strndup(m[0], n);
    if (!r || !pre) {       /* out of memory: complete nothing rather than draw it raw */
        free(r);
        free(pre);
        free(m[0]);
        free(m);
        return NULL;
    }
    r[0] = pre;
    r[1] = m[0];
    r[2] = NULL;
    free(m);
    return r;
}

static char **attempt(const char *text, int start, int end)
{
    repl *p = g_repl;
    (void)start;
    hint_clear();
    rl_attempted_completion_over = 1;   /* never fall back to readline's file names */
    qs_completion_fini(&p->comp);
    if (qs_complete(p->s, rl_line_buffer, end, &p->comp) < 0) return NULL;
    if (p->comp.files) rl_filename_completion_desired = 1;
    int hc;
    if (p->comp.cmd && p->comp.argi >= 1 && text[0] == '\0' && rl_completion_type != '?' &&
        !hint_now(&hc))     /* the hint shows the usage already */
        show_usage(p->comp.cmd);
    char **m = rl_completion_matches(text, gen_words);
    /* "key=" keywords: no space after them, the value follows */
    if (m && !m[1] && m[0][0] && m[0][strlen(m[0]) - 1] == '=')
        rl_completion_suppress_append = 1;
    rl_completion_display_matches_hook = NULL;
    for (int i = 0; m && m[i]; i++)
        if (qs_escape_needed(m[i], 0)) rl_completion_display_matches_hook = display_escaped;
    if (m && qs_escape_needed(m[0], 0)) m = insert_clean(m);
    return m;
}

/* ---- the interactive loop ---------------------------------------------------------------- */

static void on_line(char *line)
{
    g_repl->line = line;
    g_repl->got_line = 1;
    rl_callback_handler_remove();   /* the loop installs it again with a fresh prompt */
}

/* Adds a line to the history and appends it to the file at once (a crash loses nothing). */
static void remember(repl *p, const char *line)
{
    const char *q = line;
    while (*q == ' ' || *q == '\t') q++;
    if (!*q) return;
    HIST_ENTRY *last = history_length > 0 ? history_get(history_base + history_length - 1)
                                          : NULL;
    if (last && strcmp(last->line, line) == 0) return;
    add_history(line);
    if (p->histpath) append_history(1, p->histpath);
}

/* Set when readline prepares the terminal again after a signal it handled (Ctrl-Z then `fg`:
 * readline restores the terminal, stops, and on return prepares it anew) or on installing
 * the line handler. Read and reset by the loop, outside signal handlers. */
static int g_prepped;

/* rl_prep_term_function: readline's own, then notes that it ran. */
static void prep_term(int meta)
{
    rl_prep_terminal(meta);
    g_prepped = 1;
}

/* Back from a stop (Ctrl-Z, `fg`): the shell has written its own lines and the cursor is on
 * a fresh row; the window may have changed meanwhile. Draws the prompt and the line again. */
static void resume_prompt(void)
{
    hint_clear();
    g_hint_cols = 0;
    rl_reset_screen_size();
    rl_forced_update_display();
}

/* Ctrl-C at the prompt: abandon the line, show a fresh prompt. Readline has echoed ^C (the
 * loop erased the hint before letting readline act on the signal) and, restoring the
 * terminal, returned the cursor to the start of the row. */
static void interrupt_prompt(void)
{
    hint_clear();
    rl_replace_line("", 0);
    rl_point = rl_end = rl_mark = 0;
    rl_crlf();
    rl_on_new_line();
    rl_redisplay();
}

/* 1 when line ends in an unescaped backslash: the command goes on on the next line */
static int continues(const char *line)
{
    size_t n = strlen(line), k = 0;
    while (k < n && line[n - 1 - k] == '\\') k++;
    return k % 2 == 1;
}

/* text with every backslash-newline removed (the splitter removes them too): the one line
 * the history keeps */
static char *joined_line(const char *text)
{
    char *o = malloc(strlen(text) + 1), *w = o;
    if (!o) return NULL;
    for (const char *r = text; *r; r++) {
        if (r[0] == '\\' && r[1] == '\n') { r++; continue; }
        *w++ = *r;
    }
    *w = '\0';
    return o;
}

static int run_tty(repl *p)
{
    qs_render_opts o;
    sigsave old;
    int rc = 0, bound = 0;
    rl_readline_name = "qscope";
    rl_attempted_completion_function = attempt;
    rl_completer_word_break_characters = " \t\n;";
    rl_completer_quote_characters = "'\"";
    rl_filename_quote_characters = " \t\n\\\"'#;";
    rl_char_is_quoted_p = char_is_quoted;
    rl_filename_dequoting_function = dequote;
    rl_catch_signals = 1;
    rl_catch_sigwinch = 1;
    rl_persistent_signal_handlers = 1;
    rl_change_environment = 0;  /* no LINES/COLUMNS exported: render.c asks the terminal */
    rl_outstream = isatty(STDOUT_FILENO) ? stdout : stderr;
    rl_prep_term_function = prep_term;
    using_history();
    stifle_history(QS_HISTORY_MAX);
    if (p->histpath) {
        int fd = open(p->histpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd >= 0) close(fd);
        else fprintf(stderr, "qscope: %s: %s (history will not be saved)\n", p->histpath,
                     strerror(errno));
        read_history(p->histpath);
    }
    install_signals(&old);
    qs_render_opts_for(p->s, stdout, &o);
    fprintf(rl_outstream, "qscope REPL: 'help' lists the commands, Tab completes, "
            "Up recalls, Ctrl-C cancels, Ctrl-D quits.\n");
    char *pending = NULL;           /* the lines of a command continued with a backslash */
    while (!p->r.quit && !g_term) {
        char prompt[512];
        qs_render_opts_for(p->s, stdout, &o);
        if (pending) snprintf(prompt, sizeof prompt, "... ");
        else qs_repl_prompt(p->s, o.color, o.utf8, prompt, sizeof prompt);
        g_hints = o.color;
        g_prompt_cols = text_cols(prompt, 1);
        p->got_line = 0;
        p->line = NULL;
        g_int = 0;
        if (bound) rl_reset_screen_size();  /* the window may have changed while a command ran */
        rl_callback_handler_install(prompt, on_line);
        g_prepped = 0;
        if (!bound) {   /* after the first install: readline has read ~/.inputrc by now */
            rl_bind_key_in_map('\r', accept_line, emacs_standard_keymap);
            rl_bind_key_in_map('\n', accept_line, emacs_standard_keymap);
            rl_bind_key_in_map('\r', accept_line, vi_insertion_keymap);
            rl_bind_key_in_map('\n', accept_line, vi_insertion_keymap);
            rl_bind_key_in_map('\r', accept_line, vi_movement_keymap);
            rl_bind_key_in_map('\n', accept_line, vi_movement_keymap);
            bound = 1;
        }
        int restart = 0;
        while (!p->got_line && !g_term) {
            fd_set fds;
            if (g_int) {            /* checked before blocking: it may have come in readline */
                g_int = 0;
                g_prepped = 0;
                if (pending) {      /* Ctrl-C drops a continued command: the main prompt */
                    free(pending);
                    pending = NULL;
                    hint_clear();
                    rl_callback_handler_remove();
                    rl_crlf();
                    restart = 1;
                    break;
                }
                interrupt_prompt();
            }
            if (g_prepped) {        /* readline stopped and resumed (Ctrl-Z, fg) */
                g_prepped = 0;
                resume_prompt();
            }
            hint_draw();
            FD_ZERO(&fds);
            FD_SET(STDIN_FILENO, &fds);
            int n = select(STDIN_FILENO + 1, &fds, NULL, NULL, NULL);
            int serr = errno;       /* readline's signal handling below may change errno */
            if (n < 0) hint_clear();    /* readline may redraw (resize) or stop (Ctrl-Z) */
            rl_check_signals();     /* let readline act on what it caught (^C, resize, ^Z) */
            if (g_int || g_term) continue;
            if (n < 0) {
                if (serr == EINTR) continue;
                break;
            }
            hint_clear();           /* the key may change the line; drawn again above */
            rl_callback_read_char();
        }
        if (restart) continue;
        if (!p->got_line) {         /* a signal or a read error: restore the terminal */
            rl_callback_handler_remove();
            fputc('\n', rl_outstream);
            break;
        }
        if (!p->line) {             /* Ctrl-D */
            fputc('\n', rl_outstream);
            break;
        }
        int more = continues(p->line);
        if (more || pending) {
            size_t a = pending ? strlen(pending) : 0, b = strlen(p->line);
            char *t = realloc(pending, a + b + 2);
            if (!t) { free(pending); pending = NULL; free(p->line); p->line = NULL; continue; }
            memcpy(t + a, p->line, b);
            t[a + b] = '\n';
            t[a + b + 1] = '\0';
            pending = t;
            free(p->line);
            p->line = NULL;
            if (more) continue;
            pending[a + b] = '\0';                     /* the last line: no newline after it */
            p->line = pending;
            pending = NULL;
        }
        char *hist = joined_line(p->line);
        remember(p, hist ? hist : p->line);
        free(hist);
        run_line(p, p->line, NULL, 1);
        free(p->line);
        p->line = NULL;
        if (g_int) g_int = 0;       /* the Ctrl-C that cancelled the command is used up */
    }
    free(pending);
    if (p->histpath) history_truncate_file(p->histpath, QS_HISTORY_MAX);
    restore_signals(&old);
    if (g_term) rc = 128 + g_term;
    return rc;
}

int qs_repl_main(qs_session *s, const char *file)
{
    repl p;
    int rc;
    memset(&p, 0, sizeof p);
    p.s = s;
    p.r.s = s;
    p.r.out = stdout;
    p.r.errf = stderr;
    g_repl = &p;
    g_term = 0;
    int tty = isatty(STDIN_FILENO);
    if (file) load_first(&p, file, 0);
    if (tty) {
        p.histpath = qs_history_path();
        rc = run_tty(&p);
    } else {
        rc = run_stdin(&p);
    }
    qs_completion_fini(&p.comp);
    free(p.histpath);
    free(p.line);
    g_repl = NULL;
    return rc;
}
