/* fuzz_lesson_play.c — libFuzzer harness for the lesson sandbox (issue 19): arbitrary lesson
 * files are parsed and played on a real session, once as written and once with a header
 * that declares `files: write` and a tail of file-writing commands (export, save, lab save,
 * ../ and absolute paths) — the learner never allows them. After every input, nothing in
 * the scratch tree (the lesson's folder, which is also the working directory, and a folder
 * beside it holding a victim file) may have changed. Slow or memory-hungry commands are not
 * played (the harness stops the lesson at them); everything else runs for real. */
#include <dirent.h>
#include <ftw.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qscope/kernels.h"
#include "qscope/lesson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char root[PATH_MAX];         /* the scratch tree */
static char lesson_path[PATH_MAX + 32];

/* A fingerprint of the tree under dir: names, types, sizes and contents (FNV-1a). */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) h = (h ^ c[i]) * 1099511628211ull;
    return h;
}

static uint64_t tree_print(const char *dir, uint64_t h)
{
    struct dirent **ents = NULL;
    int n = scandir(dir, &ents, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        const char *nm = ents[i]->d_name;
        if (strcmp(nm, ".") && strcmp(nm, "..")) {
            char p[PATH_MAX * 2];
            struct stat st;
            snprintf(p, sizeof p, "%s/%s", dir, nm);
            h = fnv(h, nm, strlen(nm) + 1);
            if (lstat(p, &st) == 0) {
                h = fnv(h, &st.st_mode, sizeof st.st_mode);
                h = fnv(h, &st.st_size, sizeof st.st_size);
                if (S_ISDIR(st.st_mode)) h = tree_print(p, h);
                else if (S_ISREG(st.st_mode)) {
                    FILE *f = fopen(p, "rb");
                    char buf[4096];
                    size_t k;
                    while (f && (k = fread(buf, 1, sizeof buf, f)) > 0) h = fnv(h, buf, k);
                    if (f) fclose(f);
                }
            }
        }
        free(ents[i]);
    }
    free(ents);
    return h;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(p);
}

static void teardown(void)
{
    if (root[0]) nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void)
{
    if (root[0]) return;
    qs_kernels_init();
    snprintf(root, sizeof root, "/tmp/qscope_fuzz_play_XXXXXX");
    if (!mkdtemp(root)) abort();
    atexit(teardown);
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/lesson", root);
    mkdir(p, 0755);
    snprintf(lesson_path, sizeof lesson_path, "%s/lesson/fuzz.lesson", root);
    snprintf(p, sizeof p, "%s/outside", root);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/outside/victim_rc", root);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs("precious\n", f);
        fclose(f);
    }
    snprintf(p, sizeof p, "%s/lesson/data.txt", root);
    f = fopen(p, "w");
    if (f) {
        fputs("1 2 3 4\n", f);
        fclose(f);
    }
}

/* Commands the harness plays: quick ones and every one that touches files. */
static int playable(const char *line)
{
    static const char *const ok[] = {
        "values", "bits", "scheme", "calib", "qparams", "codes", "quant", "stats", "hist",
        "set", "help", "save", "export", "load", "use", "tensors", "derive", "memory",
        "lab", "source", "lesson", NULL};
    char w[32] = "";
    if (sscanf(line, "%31s", w) != 1) return 1;
    for (const char *const *k = ok; *k; k++)
        if (strcmp(w, *k) == 0) {
            /* `lab` only to write or read a model: training is slow */
            if (strcmp(w, "lab") == 0)
                return strstr(line, " save") || strstr(line, " load") || strstr(line, "status");
            return strlen(line) < 512;
        }
    return 0;
}

static void play(const char *text)
{
    qs_lesson *l = NULL;
    qs_err err = {""};
    if (qs_lesson_parse(text, lesson_path, &l, &err) != QS_OK) return;
    qs_session s;
    qs_session_init(&s);
    qs_lesson_player p;
    qs_lesson_player_init(&p, &s, l);       /* files_ok stays 0: the learner said no */
    qs_lesson_event ev;
    for (int guard = 0; guard < 256; guard++) {
        const qs_lesson_item *it = qs_lesson_peek(&p);
        if (!it) break;
        if (it->kind == QS_LI_CMD) {
            char *line = qs_lesson_expand(it->text);
            int go = line && playable(line);
            free(line);
            if (!go) break;
        }
        int rc = qs_lesson_next(&p, &ev, &err);
        if (rc == QS_LESSON_END) break;
        if (rc != QS_OK && (strchr(err.msg, '\n') || !err.msg[0])) abort();
        if (ev.item->kind == QS_LI_QUIZ) qs_lesson_answer(&p, ev.item->quiz.answers[0]);
    }
    qs_lesson_player_fini(&p);
    qs_session_fini(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    if (size > 16384) return 0;
    uint64_t before = tree_print(root, 14695981039346656037ull);
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    /* the lesson runs in its own folder (relative paths land in the scratch tree); libFuzzer's
     * own relative paths need the old working directory back afterwards */
    int home = open(".", O_RDONLY | O_DIRECTORY);
    char want[PATH_MAX + 32];
    snprintf(want, sizeof want, "%s/lesson", root);
    if (home < 0 || chdir(want) != 0) abort();
    play(text);
    /* the same body under a header that declares writes, with writes appended */
    char tail[4 * PATH_MAX];
    snprintf(tail, sizeof tail,
             "\n\n> values 1 2 3\n> export out.npy --force\n> save ../outside/victim_rc --force\n"
             "> export %s/outside/victim_rc --format npy --force\n"
             "> save %s/outside/new.qs\n> lab save ../outside/m.safetensors --force\n"
             "> load ../outside/victim_rc\n", root, root);
    size_t n = strlen("title: f\nfiles: write\n\n") + size + strlen(tail) + 1;
    char *t2 = malloc(n);
    if (t2) {
        snprintf(t2, n, "title: f\nfiles: write\n\n%s%s", text, tail);
        play(t2);
        free(t2);
    }
    free(text);
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd) || strcmp(cwd, want) != 0) abort();
    if (fchdir(home) != 0) abort();
    close(home);
    if (tree_print(root, 14695981039346656037ull) != before) {
        fprintf(stderr, "fuzz_lesson_play: a lesson changed files under %s\n", root);
        abort();
    }
    return 0;
}
