/* main.c — qscope's command line: picks the face (TUI, REPL, script, -c, lesson player). */
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "front/faces.h"
#include "front/front.h"
#include "qscope/io.h"
#include "qscope/kernels.h"

#ifndef QSCOPE_VERSION
#define QSCOPE_VERSION "0.1.0"
#endif

static void usage(FILE *f)
{
    fprintf(f,
        "usage: qscope [OPTIONS] [FILE]\n"
        "       qscope [--json] -c \"COMMAND; COMMAND; ...\"\n"
        "       qscope [--json] SCRIPT.qs     (- reads the script from standard input)\n"
        "       qscope repl [FILE]\n"
        "       qscope tui [FILE]\n"
        "       qscope play [--headless [--strict]] [--allow-files] [--auto[=SECONDS]]\n"
        "                   LESSON...\n"
        "       qscope play --html [--strict] LESSON > handout.html   (a web page)\n"
        "       qscope play --present LESSON   (the TUI's presenter mode)\n"
        "       qscope lesson list | check [--strict] FILE... | play NAME\n"
        "\n"
        "Learn and inspect neural-network quantization in the terminal.\n"
        "With no arguments on a terminal, opens the TUI on a bundled tensor; with FILE\n"
        "(.npy, .safetensors or a sharded folder, .gguf, PyTorch .pt/.pth/.bin or\n"
        "text/CSV), opens the TUI on that file.\n"
        "\n"
        "options:\n"
        "  -c COMMANDS   run commands separated by ';' or newlines, then exit\n"
        "  --json        print each result as one JSON object per line\n"
        "  -h, --help    show this help\n"
        "  --version     show the version\n"
        "\n"
        "Type 'help' in the REPL (or run qscope -c help) for the command list;\n"
        "see qscope(1) and qscope-lesson(5).\n"
        "exit status: 0 success, 1 a failed lesson expectation, 2 a bad command or input.\n");
}

static int has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* SIGINT / SIGTERM / SIGHUP before a face installs its own handlers (`qscope -c`, scripts):
 * the temp file of an export being written is removed, then the signal does what it would
 * have done. */
static void on_fatal_signal(int sig)
{
    qs_io_write_cleanup();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* -c and scripts on a terminal: the REPL's progress bar on stderr for slow commands (nothing
 * is drawn when stderr is not a terminal); Ctrl-C ends the process as before */
static qs_progress_bar g_bar;
static void bar_before_output(void *ctx)
{
    qs_progress_bar_finish(ctx);
}
static void bar_plug(qs_session *s, qs_runner *r)
{
    qs_progress_bar_start(&g_bar, stderr, NULL);
    s->progress = qs_progress_bar_update;
    s->progress_ctx = &g_bar;
    r->before_output = bar_before_output;
    r->before_ctx = &g_bar;
}

static void install_cleanup(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t k = 0; k < sizeof sigs / sizeof sigs[0]; k++) {
        struct sigaction old;
        if (sigaction(sigs[k], NULL, &old) == 0 && old.sa_handler == SIG_IGN) continue;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_fatal_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[k], &sa, NULL);
    }
    atexit(qs_io_write_cleanup);   /* a face that leaves while a worker writes */
}

int main(int argc, char **argv)
{
    qs_session s;
    const char *cmds = NULL;
    int json = 0, rc = 0, i;
    /* Kernel threads sleep instead of spinning between parallel regions: on a shared or
     * oversubscribed machine spinning costs far more than it saves (an explicit setting in
     * the environment wins). */
    setenv("OMP_WAIT_POLICY", "passive", 0);
    setlocale(LC_ALL, "");
    setlocale(LC_NUMERIC, "C");     /* numbers are always written with '.' */
    {
        char kerr[160];
        if (qs_kernels_check(kerr, sizeof kerr) != 0) {    /* QSCOPE_KERNELS names a tier this CPU lacks */
            fprintf(stderr, "qscope: %s\n", kerr);
            return 2;
        }
    }
    qs_kernels_init();
    qs_session_init(&s);
    install_cleanup();

    /* Options before the first non-option word. */
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            goto done;
        } else if (strcmp(a, "--version") == 0) {
            printf("qscope %s (kernels: %s, tier %s)\n", QSCOPE_VERSION, qs_k()->name,
                   qs_k_tier_name(qs_k_active_tier()));
            goto done;
        } else if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if (strcmp(a, "-c") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "qscope: -c needs a command string\n");
                rc = 2;
                goto done;
            }
            if (cmds) {     /* the first would be dropped without a word */
                fprintf(stderr, "qscope: -c given twice; join the commands with ';' in one: "
                        "-c \"A; B\"\n");
                rc = 2;
                goto done;
            }
            cmds = argv[++i];
        } else if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "qscope: unknown option '%s' (try --help)\n", a);
            rc = 2;
            goto done;
        } else {
            break;
        }
    }
    /* --json may also follow the command string. */
    for (int j = i; j < argc; j++)
        if (strcmp(argv[j], "--json") == 0) {
            json = 1;
            memmove(&argv[j], &argv[j + 1], (size_t)(argc - j) * sizeof *argv);
            argc--;
            j--;
        }
    s.json = json;

    if (cmds) {
        if (i < argc) {
            fprintf(stderr, "qscope: unexpected argument '%s' after -c\n", argv[i]);
            rc = 2;
            goto done;
        }
        qs_runner r = {&s, stdout, stderr, 0, 0, 0, NULL, NULL, NULL};
        char **lines = NULL;
        qs_err err = {{0}};
        int n = qs_split_commands(cmds, &lines, &err);
        if (n < 0) {
            fprintf(stderr, "qscope: -c: %s\n", err.msg);
            rc = 2;
            goto done;
        }
        for (int k = 0; k < n && !r.quit; k++) {
            bar_plug(&s, &r);           /* a bar per command: its own start time */
            qs_run_line(&r, lines[k], NULL);
            qs_progress_bar_finish(&g_bar);
        }
        qs_split_free(lines);
        rc = r.errors ? 2 : 0;
        goto done;
    }
    if (i >= argc) {
        if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
            rc = qs_tui_main(&s, NULL);
        } else {
            qs_runner r = {&s, stdout, stderr, 0, 0, 0, NULL, NULL, NULL};
            bar_plug(&s, &r);
            qs_run_file(&r, "-");
            qs_progress_bar_finish(&g_bar);
            rc = r.errors ? 2 : 0;
        }
        goto done;
    }
    const char *word = argv[i];
    if (strcmp(word, "repl") == 0) {
        if (argc - i > 2) {
            fprintf(stderr, "qscope: repl takes at most one FILE\n");
            rc = 2;
            goto done;
        }
        rc = qs_repl_main(&s, i + 1 < argc ? argv[i + 1] : NULL);
    } else if (strcmp(word, "play") == 0 || strcmp(word, "lesson") == 0) {
        rc = qs_lesson_main(&s, argc - i, argv + i);
    } else if (strcmp(word, "tui") == 0) {
        rc = qs_tui_main(&s, i + 1 < argc ? argv[i + 1] : NULL);
    } else if (has_suffix(word, ".qs") || strcmp(word, "-") == 0) {
        qs_runner r = {&s, stdout, stderr, 0, 0, 0, NULL, NULL, NULL};
        if (argc - i > 1) {
            fprintf(stderr, "qscope: unexpected argument '%s' after the script\n", argv[i + 1]);
            rc = 2;
            goto done;
        }
        bar_plug(&s, &r);
        qs_run_file(&r, word);
        qs_progress_bar_finish(&g_bar);
        rc = r.errors ? 2 : 0;
    } else {
        if (argc - i > 1) {
            fprintf(stderr, "qscope: unexpected argument '%s' (try --help)\n", argv[i + 1]);
            rc = 2;
            goto done;
        }
        if (access(word, R_OK) != 0) {
            fprintf(stderr, "qscope: %s: no such file, and not a command (try --help)\n", word);
            rc = 2;
            goto done;
        }
        if (!(isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))) {
            fprintf(stderr, "qscope: %s: the TUI needs a terminal; use 'qscope -c \"load %s; "
                    "stats\"' or 'qscope repl %s'\n", word, word, word);
            rc = 2;
            goto done;
        }
        rc = qs_tui_main(&s, word);
    }
done:
    qs_session_fini(&s);
    return rc;
}
