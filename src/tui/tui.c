/* tui.c — the ncurses face: qs_tui_main opens a file (or the bundled default tensor), runs
 * the one main loop (read a key, hand it to the model, redraw with wnoutrefresh + one
 * doupdate), hosts readline's callback interface on the bottom line for ':' and value
 * prompts, and makes sure the terminal is restored on exit, SIGINT, SIGTERM and crashes. */
#include "tui_int.h"
#include "qscope/paths.h"

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <langinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "front/faces.h"
#include "front/front.h"



/* ==== face state (the face may keep globals; readline's callbacks take no context) ======== */

static volatile sig_atomic_t g_signal;  /* SIGINT / SIGTERM / SIGHUP received */
static volatile sig_atomic_t g_curses;  /* 1 while curses owns the terminal */
static qs_tui_model *g_m;               /* the model readline's line handler completes */
static WINDOW *g_bottom;                /* the line readline draws into */
static int g_rl_char;                   /* the byte handed to readline */
static int g_rl_avail;                  /* 1 when g_rl_char is waiting */
static int g_rl_flags;                  /* flags from the last submitted line */
static int g_rl_active;                 /* 1 while a callback handler is installed */
static FILE *g_devnull;                 /* readline's output stream (never the terminal) */
static char *g_histfile;                /* the REPL's history file (qs_history_path), or NULL */
static qs_completion g_comp;            /* candidates of the completion in progress */
static int g_comp_i;                    /* next candidate readline's generator returns */

static void on_signal(int sig)
{
    g_signal = sig;
}

static void on_crash(int sig)
{
    if (g_curses) endwin();         /* best effort: restore the terminal, then die */
    signal(sig, SIG_DFL);
    raise(sig);
}

static void restore_at_exit(void)
{
    if (g_curses) {
        endwin();
        g_curses = 0;
    }
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = on_crash;
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGABRT, &sa, NULL);
#if !defined(__SANITIZE_ADDRESS__)
    /* ASan reports SEGVs itself; elsewhere restore the terminal before dying */
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
#endif
}

/* ==== readline inside ncurses ============================================================== */

static int rl_getc_cb(FILE *f)
{
    (void)f;
    g_rl_avail = 0;
    return g_rl_char;
}

static int rl_avail_cb(void)
{
    return g_rl_avail;
}

/* Draws prompt + line into the bottom window, with the cursor at rl_point (scrolled so the
 * cursor stays visible). */
static void rl_redisplay_cb(void)
{
    if (!g_bottom) return;
    int W = getmaxx(g_bottom);
    const char *prompt = rl_display_prompt ? rl_display_prompt : "";
    int plen = (int)strlen(prompt);
    werase(g_bottom);
    wattron(g_bottom, A_BOLD);
    mvwaddnstr(g_bottom, 0, 0, prompt, W - 1);
    wattroff(g_bottom, A_BOLD);
    int room = W - plen - 1;
    if (room < 4) room = 4;
    /* columns before the cursor (bytes of UTF-8 continuation don't count) */
    int start = 0, curcol = 0;
    for (int i = 0; i < rl_point; i++) curcol += ((unsigned char)rl_line_buffer[i] & 0xC0) != 0x80;
    int skipcols = curcol >= room ? curcol - room + 1 : 0;
    for (int c = 0; rl_line_buffer[start] && c < skipcols; start++)
        if (((unsigned char)rl_line_buffer[start + 1] & 0xC0) != 0x80) c++;
    mvwaddnstr(g_bottom, 0, plen, rl_line_buffer + start, (int)strlen(rl_line_buffer + start));
    wmove(g_bottom, 0, plen + curcol - skipcols);
    wnoutrefresh(g_bottom);
    doupdate();
}

static void rl_line_cb(char *line)
{
    if (line && *line && g_m->prompt == QS_PR_COMMAND) {
        /* command lines only (not values typed at the Bits or Derive prompts), appended to
         * the REPL's file (append_history does not create it: write_history does) */
        add_history(line);
        if (g_histfile && append_history(1, g_histfile) != 0) write_history(g_histfile);
    }
    rl_callback_handler_remove();
    g_rl_active = 0;
    g_rl_flags = qs_tui_submit(g_m, line);
    free(line);
}

/* Completion: the REPL's completer (qs_complete: command names, keywords not yet on the
 * line, tensor names, lesson names, file paths where the command takes a file), so the ':'
 * line completes exactly as the REPL does. */
static char *complete_gen(const char *text, int state)
{
    static int files;       /* readline's generator protocol: state 0 restarts */
    if (state == 0) {
        g_comp_i = 0;
        files = 0;
    }
    if (!files) {
        while (g_comp_i < g_comp.n) {
            const char *w = g_comp.words[g_comp_i++];
            if (strncmp(w, text, strlen(text)) == 0) return strdup(w);
        }
        if (!g_comp.files) return NULL;
        files = 1;
        return rl_filename_completion_function(text, 0);
    }
    return rl_filename_completion_function(text, 1);
}

static char **complete(const char *text, int start, int end)
{
    (void)start;
    rl_attempted_completion_over = 1;   /* never fall back to readline's file names */
    qs_completion_fini(&g_comp);
    if (qs_complete(g_m->s, rl_line_buffer, end, &g_comp) < 0) return NULL;
    if (g_comp.files) rl_filename_completion_desired = 1;
    char **m = rl_completion_matches(text, complete_gen);
    /* "key=" keywords: no space after them, the value follows */
    if (m && !m[1] && m[0][0] && m[0][strlen(m[0]) - 1] == '=')
        rl_completion_suppress_append = 1;
    return m;
}

/* Lists completion matches on the status line instead of printing below the prompt, led by
 * their count: a long list does not fit the line, and the count says so. */
static void show_matches(char **matches, int n, int maxlen)
{
    (void)maxlen;
    char buf[400];
    size_t off = (size_t)snprintf(buf, sizeof buf, "%d matches: ", n);
    for (int i = 1; i <= n && off + 2 < sizeof buf; i++)
        off += (size_t)snprintf(buf + off, sizeof buf - off, "%s ", matches[i]);
    qs_tui_status(g_m, 0, "%s", buf);
}

static void rl_setup(void)
{
    rl_readline_name = "qscope";
    rl_catch_signals = 0;
    rl_catch_sigwinch = 0;
    rl_change_environment = 0;
    rl_prep_term_function = NULL;
    rl_deprep_term_function = NULL;
    rl_getc_function = rl_getc_cb;
    rl_input_available_hook = rl_avail_cb;
    rl_redisplay_function = rl_redisplay_cb;
    rl_attempted_completion_function = complete;
    rl_completion_display_matches_hook = show_matches;
    g_devnull = fopen("/dev/null", "w");
    if (g_devnull) rl_outstream = g_devnull;
    rl_completer_word_break_characters = " \t\n;";    /* as the REPL: words are qs_split's */
    rl_completer_quote_characters = "'\"";
    rl_bind_key('\t', rl_complete);
    free(g_histfile);
    g_histfile = qs_history_path();
    stifle_history(QS_HISTORY_MAX);
    if (g_histfile) read_history(g_histfile);
}

static void rl_teardown(void)
{
    if (g_rl_active) {
        rl_callback_sigcleanup();
        rl_callback_handler_remove();
        g_rl_active = 0;
    }
    if (g_histfile) history_truncate_file(g_histfile, QS_HISTORY_MAX);
    free(g_histfile);
    g_histfile = NULL;
    qs_completion_fini(&g_comp);
    clear_history();
    rl_outstream = NULL;
    if (g_devnull) fclose(g_devnull);
    g_devnull = NULL;
}

static void prompt_open(qs_tui_model *m)
{
    g_rl_flags = 0;
    g_rl_active = 1;
    curs_set(1);
    rl_callback_handler_install(qs_tui_prompt_text(m), rl_line_cb);
}

static void prompt_cancel(qs_tui_model *m)
{
    rl_replace_line("", 0);
    rl_callback_sigcleanup();
    rl_callback_handler_remove();
    g_rl_active = 0;
    g_rl_flags = qs_tui_submit(m, NULL);
}

static void feed(int c)
{
    g_rl_char = c;
    g_rl_avail = 1;
    rl_callback_read_char();
}

/* Hands one key to readline (curses' KEY_* codes become readline commands). */
static void prompt_key(qs_tui_model *m, int key)
{
    switch (key) {
    case 27: case 3: case 7: prompt_cancel(m); return;
    case KEY_LEFT: rl_backward_char(1, 0); break;
    case KEY_RIGHT: rl_forward_char(1, 0); break;
    case KEY_UP: rl_get_previous_history(1, 0); break;
    case KEY_DOWN: rl_get_next_history(1, 0); break;
    case KEY_HOME: rl_beg_of_line(1, 0); break;
    case KEY_END: rl_end_of_line(1, 0); break;
    case KEY_DC: rl_delete(1, 0); break;
    case KEY_BACKSPACE: case 8: case 127:
        if (rl_point == 0 && rl_end == 0) { prompt_cancel(m); return; }
        feed(127);
        return;
    case KEY_ENTER: case '\r': case '\n': feed('\n'); return;
    default:
        if (key >= 0 && key < 256) { feed(key); return; }
        return;
    }
    rl_redisplay_cb();
}

/* ==== windows ============================================================================== */

typedef struct wins {
    WINDOW *tabs;       /* row 0 */
    WINDOW *body;       /* rows 1 .. H-3 */
    WINDOW *status;     /* row H-2 */
    WINDOW *bottom;     /* row H-1: hints, or the input line */
    int too_small;      /* 1: the terminal is below the minimum */
} wins;

static void wins_free(wins *w)
{
    if (w->tabs) delwin(w->tabs);
    if (w->body) delwin(w->body);
    if (w->status) delwin(w->status);
    if (w->bottom) delwin(w->bottom);
    memset(w, 0, sizeof *w);
    g_bottom = NULL;
}

static void wins_make(wins *w, qs_tui_model *m)
{
    int H, W;
    wins_free(w);
    getmaxyx(stdscr, H, W);
    qs_tui_resize(m, W, H);
    w->too_small = W < QS_TUI_MIN_COLS || H < QS_TUI_MIN_ROWS;
    if (w->too_small) return;
    if (m->present && m->screen == QS_SCR_LESSON) {
        /* presenter mode: the body takes every row but the last (status or input line) */
        w->body = newwin(H - 1, W, 0, 0);
        w->bottom = newwin(1, W, H - 1, 0);
    } else {
        w->tabs = newwin(1, W, 0, 0);
        w->body = newwin(H - 3, W, 1, 0);
        w->status = newwin(1, W, H - 2, 0);
        w->bottom = newwin(1, W, H - 1, 0);
    }
    g_bottom = w->bottom;
    keypad(w->bottom, TRUE);
}

static void redraw(qs_tui_model *m, wins *w)
{
    if (w->too_small) {
        erase();
        qs_tui_draw_too_small(m, stdscr);
        wnoutrefresh(stdscr);
        doupdate();
        return;
    }
    qs_tui_draw_frame(m, w->tabs, w->body, w->status, w->bottom);
    if (w->tabs) wnoutrefresh(w->tabs);
    wnoutrefresh(w->body);
    if (w->status) wnoutrefresh(w->status);
    wnoutrefresh(w->bottom);
    if (m->prompt != QS_PR_NONE && g_rl_active) rl_redisplay_cb();
    else {
        curs_set(0);
        doupdate();
    }
}

/* ==== start-up ============================================================================== */

/* Quotes a path for the command line. */
static void quoted(char *buf, size_t len, const char *cmd, const char *path)
{
    size_t k = (size_t)snprintf(buf, len, "%s \"", cmd);
    for (const char *p = path; *p && k + 3 < len; p++) {
        if (*p == '"' || *p == '\\') buf[k++] = '\\';
        buf[k++] = *p;
    }
    buf[k++] = '"';
    buf[k] = '\0';
}

/* The bundled default tensor: default.npy on the data-set search path (paths.h). */
static int find_default(char *buf, size_t len)
{
    qs_search_path sp;
    qs_search_path_get(QS_PATH_DATASETS, &sp);
    return qs_search_path_find(&sp, "default.npy", buf, len);
}

static int open_start(qs_session *s, const char *file)
{
    char line[PATH_MAX + 32], path[PATH_MAX];
    json_t *out = NULL;
    qs_err err = {{0}};
    if (file) {
        quoted(line, sizeof line, "load", file);
        if (qs_cmd_run_line(s, line, &out, NULL, &err) != QS_OK) {
            fprintf(stderr, "qscope: %s\n", err.msg);
            return -1;
        }
    } else if (!s->tensor) {
        int ok = 0;
        if (find_default(path, sizeof path)) {
            char real[PATH_MAX];
            if (realpath(path, real) && strlen(real) < sizeof path - 1) strcpy(path, real);
            quoted(line, sizeof line, "load", path);
            ok = qs_cmd_run_line(s, line, &out, NULL, &err) == QS_OK;
        }
        if (!ok) {
            json_decref(out);
            out = NULL;
            qs_cmd_run_line(s, "synth outliers", &out, NULL, &err);
        }
    }
    json_decref(out);
    return 0;
}

static int utf8_locale(void)
{
    const char *cs = nl_langinfo(CODESET);
    return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

/* Ctrl-Z: the terminal goes back to the shell as it was, the process stops (a running lab
 * job with it) and, after fg (SIGCONT), curses takes the terminal again. raw() delivers ^Z
 * as a key, so the TUI stops itself with the default SIGTSTP action. */
static void suspend_tui(void)
{
    def_prog_mode();
    endwin();
    fflush(stdout);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTSTP, &sa, &old);
    raise(SIGTSTP);             /* returns after SIGCONT */
    sigaction(SIGTSTP, &old, NULL);
    reset_prog_mode();
    refresh();
}

/* ==== the main loop ========================================================================= */

static int tui_run(qs_session *s, const char *file, const char *lesson);

int qs_tui_main(qs_session *s, const char *file)
{
    return tui_run(s, file, NULL);
}

int qs_tui_present_lesson(qs_session *s, const char *lesson)
{
    return tui_run(s, NULL, lesson);
}

/* The TUI on file (or the bundled tensor); with lesson, opened on it in presenter mode. */
static int tui_run(qs_session *s, const char *file, const char *lesson)
{
    qs_tui_model m;
    wins w = {0};
    int rc = 0;
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        fprintf(stderr, "qscope: the TUI needs a terminal (try 'qscope repl')\n");
        return 2;
    }
    if (open_start(s, file) != 0) return 2;

    install_signals();
    atexit(restore_at_exit);
    set_escdelay(25);
    /* newterm, not initscr: an unknown TERM is an error message here, not exit(1) */
    SCREEN *screen = newterm(NULL, stdout, stdin);
    if (!screen) {
        fprintf(stderr, "qscope: cannot use this terminal (TERM=%s); try 'qscope repl'\n",
                getenv("TERM") ? getenv("TERM") : "unset");
        return 2;
    }
    g_curses = 1;
    raw();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    curs_set(0);
    const char *nc = getenv("NO_COLOR");
    int color = has_colors() && !(nc && *nc) && s->color != 0;
    qs_tui_colors_init(color);
    mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED, NULL);
    mouseinterval(0);

    qs_tui_model_init(&m, s, COLS, LINES);
    m.color = color;
    m.utf8 = utf8_locale();
    g_m = &m;
    rl_setup();
    int first = 0;
    if (lesson) {
        /* `qscope play --present LESSON`: the Lesson screen in presenter mode, step 1 */
        qs_tui_goto(&m, QS_SCR_LESSON);
        qs_tui_present(&m, 1);
        first = qs_tui_lesson_open(&m, lesson);
    }
    wins_make(&w, &m);
    redraw(&m, &w);
    if ((first & QS_TUI_PROMPT) && m.prompt != QS_PR_NONE && !w.too_small) prompt_open(&m);

    for (;;) {
        WINDOW *in = w.bottom ? w.bottom : stdscr;
        wtimeout(in, m.job.running ? 100 : 250);
        int key = wgetch(in);
        if (g_signal) break;
        int flags = 0;
        flags |= qs_tui_job_poll(&m);     /* REDRAW, and PROMPT when a quiz came up */
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        flags |= qs_tui_lesson_tick(&m, (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000);
        if (key == ERR) {
            if (m.job.running) flags |= QS_TUI_REDRAW;  /* the gauge moves */
        } else if (key == KEY_RESIZE) {
            flags |= QS_TUI_RESIZE | QS_TUI_REDRAW;
        } else if (w.too_small) {
            if (key == 'q' || key == 3) break;
        } else if (m.prompt == QS_PR_ANSWER && g_rl_active &&
                   (key == KEY_NPAGE || key == KEY_PPAGE || key == KEY_UP || key == KEY_DOWN)) {
            /* an answer has no history: these keys scroll the narration behind the prompt */
            flags |= qs_tui_lesson_key(&m, key) | QS_TUI_REDRAW;
        } else if (m.prompt != QS_PR_NONE && g_rl_active) {
            prompt_key(&m, key);
            flags |= QS_TUI_REDRAW;     /* completion lists go to the status line */
            if (!g_rl_active) {     /* the line was submitted or cancelled */
                flags |= g_rl_flags | QS_TUI_REDRAW;
                if (flags & QS_TUI_QUIT) break;
                if (m.prompt != QS_PR_NONE) flags |= QS_TUI_PROMPT;  /* e.g. a quiz asks again */
            }
        } else if (key == KEY_MOUSE) {
            MEVENT ev;
            if (getmouse(&ev) == OK && ev.y == 0) {
                int t = qs_tui_tab_at(ev.x);
                if (t >= 0) {
                    qs_tui_goto(&m, t);
                    flags |= QS_TUI_REDRAW;
                }
            }
        } else {
            flags |= qs_tui_handle_key(&m, key);
            if (flags & QS_TUI_QUIT) break;
        }
        if (flags & QS_TUI_SUSPEND) {
            suspend_tui();
            flags |= QS_TUI_RESIZE | QS_TUI_REDRAW;     /* the size may have changed too */
        }
        if (flags & QS_TUI_RESIZE) {
            /* curses has resized stdscr (resizeterm on SIGWINCH): lay the windows out again
             * and repaint everything once */
            wins_make(&w, &m);
            clearok(curscr, TRUE);
        }
        if ((flags & QS_TUI_PROMPT) && m.prompt != QS_PR_NONE && !g_rl_active && !w.too_small) {
            redraw(&m, &w);
            prompt_open(&m);
            continue;
        }
        if (flags & (QS_TUI_REDRAW | QS_TUI_RESIZE)) redraw(&m, &w);
    }

    rl_teardown();
    wins_free(&w);
    endwin();
    g_curses = 0;
    delscreen(screen);
    int sig = g_signal;
    g_m = NULL;
    qs_tui_model_fini(&m);
    if (sig) {
        /* the terminal is restored: now die of the signal as the shell expects */
        signal(sig, SIG_DFL);
        raise(sig);
        rc = 128 + sig;
    }
    return rc;
}
