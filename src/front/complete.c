/* complete.c — what the REPL (and the TUI's ':' line) can complete at a point of a command
 * line, the prompt, and where the history lives. Pure functions of the line, the session and
 * the file system: no terminal, so the unit tests call them directly. */
#include "front/front.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <langinfo.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "qscope/io.h"
#include "qscope/paths.h"
#include "qscope/quant.h"

/* ---- a growable list of strings ---------------------------------------------------------- */

typedef struct strlist {
    char **v;       /* NULL-terminated when n < cap */
    int n;          /* count */
    int cap;        /* allocated slots */
    int oom;        /* 1 after a failed allocation */
} strlist;

static void sl_add(strlist *l, const char *s, size_t len)
{
    if (l->oom) return;
    if (l->n + 2 > l->cap) {
        int cap = l->cap ? l->cap * 2 : 16;
        char **v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v) { l->oom = 1; return; }
        l->v = v;
        l->cap = cap;
    }
    char *d = strndup(s, len);
    if (!d) { l->oom = 1; return; }
    l->v[l->n++] = d;
    l->v[l->n] = NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts and removes duplicates; returns the count or -1 (and frees) on OOM. */
static int sl_finish(strlist *l, char ***out)
{
    if (l->oom) {
        for (int i = 0; i < l->n; i++) free(l->v[i]);
        free(l->v);
        *out = NULL;
        return -1;
    }
    if (!l->v) {
        l->v = calloc(1, sizeof *l->v);
        if (!l->v) { *out = NULL; return -1; }
    }
    qsort(l->v, (size_t)l->n, sizeof *l->v, cmp_str);
    int k = 0;
    for (int i = 0; i < l->n; i++) {
        if (k > 0 && strcmp(l->v[k - 1], l->v[i]) == 0) free(l->v[i]);
        else l->v[k++] = l->v[i];
    }
    l->v[k] = NULL;
    *out = l->v;
    return k;
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- lesson names ------------------------------------------------------------------------ */

static void scan_lessons(strlist *l, const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d) return;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len <= 7 || strcmp(e->d_name + len - 7, ".lesson") != 0) continue;
        if (e->d_name[0] == '.' || !starts_with(e->d_name, prefix)) continue;
        sl_add(l, e->d_name, len - 7);
    }
    closedir(d);
}

int qs_lesson_names(const char *prefix, char ***out)
{
    strlist l = {0};
    qs_search_path sp;
    if (!prefix) prefix = "";
    qs_search_path_get(QS_PATH_LESSONS, &sp);     /* the path `lesson list` searches */
    for (int i = 0; i < sp.n; i++) scan_lessons(&l, sp.dir[i], prefix);
    return sl_finish(&l, out);
}

/* ---- scanning the line up to the point --------------------------------------------------- */

typedef struct scan {
    strlist words;      /* complete words before the one at the point (unquoted) */
    int cur_start;      /* byte offset where the current word starts */
    char *cur;          /* the current word so far, unquoted (owned) */
    int comment;        /* 1: the point is inside a '#' comment */
} scan;

/* Splits line[0..point) shell-style like qs_split, tolerating an unfinished quote or
 * backslash at the point, and starting after the last unquoted ';'. */
static int scan_line(const char *line, int point, scan *sc)
{
    size_t cap = (size_t)point + 1, len = 0;
    char *buf = malloc(cap);
    int inword = 0;
    char quote = 0;
    memset(sc, 0, sizeof *sc);
    if (!buf) return -1;
    sc->cur_start = point;
    for (int i = 0; i < point; i++) {
        char c = line[i];
        if (quote) {
            if (c == quote) quote = 0;
            else if (quote == '"' && c == '\\' && i + 1 < point &&
                     (line[i + 1] == '"' || line[i + 1] == '\\'))
                buf[len++] = line[++i];
            else buf[len++] = c;
            continue;
        }
        if (c == ';' || isspace((unsigned char)c)) {
            if (inword) sl_add(&sc->words, buf, len);
            if (c == ';') {     /* a new command starts */
                for (int k = 0; k < sc->words.n; k++) free(sc->words.v[k]);
                sc->words.n = 0;
            }
            inword = 0;
            len = 0;
            continue;
        }
        if (!inword) {
            if (c == '#') { sc->comment = 1; break; }
            inword = 1;
            sc->cur_start = i;
        }
        if (c == '\'' || c == '"') quote = c;
        else if (c == '\\') { if (i + 1 < point) buf[len++] = line[++i]; }
        else buf[len++] = c;
    }
    if (!inword) sc->cur_start = point;
    buf[len] = '\0';
    sc->cur = inword ? buf : (free(buf), strdup(""));
    if (!sc->cur || sc->words.oom) return -1;
    return 0;
}

static void scan_free(scan *sc)
{
    for (int i = 0; i < sc->words.n; i++) free(sc->words.v[i]);
    free(sc->words.v);
    free(sc->cur);
}

/* ---- candidates ------------------------------------------------------------------------- */

static void add_commands(strlist *l, const char *prefix)
{
    for (int i = 0; i < qs_cmd_count(); i++) {
        const qs_cmd *c = qs_cmd_at(i);
        if (starts_with(c->name, prefix)) sl_add(l, c->name, strlen(c->name));
    }
}

static void add_tensors(strlist *l, const qs_file *f, const char *prefix)
{
    for (int i = 0; f && i < f->n; i++)
        if (f->entries[i].name && starts_with(f->entries[i].name, prefix))
            sl_add(l, f->entries[i].name, strlen(f->entries[i].name));
}

/* 1 when keyword w is already on the line (for "key=..." words: the same key). */
static int already_used(const strlist *words, const char *w)
{
    const char *eq = strchr(w, '=');
    size_t kl = eq ? (size_t)(eq - w) + 1 : 0;
    for (int i = 1; i < words->n; i++) {
        if (strcmp(words->v[i], w) == 0) return 1;
        if (eq && strncmp(words->v[i], w, kl) == 0) return 1;
    }
    return 0;
}

/* 1 when w is one of the choices of WORD spec a. */
static int is_word_choice(const qs_arg *a, const char *w)
{
    const char *v;
    for (int i = 0; (v = qs_arg_choice_at(a, i, NULL)); i++)
        if (strcmp(v, w) == 0) return 1;
    return 0;
}

/* Candidates from argument specs: flags, "key=" for valued options, a WORD's choices, and
 * after "key=" the allowed values of that key. */
static void add_specs(strlist *l, const qs_arg *args, const scan *sc)
{
    const char *eq = strchr(sc->cur, '=');
    for (const qs_arg *a = args; a && a->type != QS_ARG_END; a++) {
        const char *v;
        if (eq) {
            size_t kl = (size_t)(eq - sc->cur);
            if ((a->type != QS_ARG_TEXT && a->type != QS_ARG_LIST) || strlen(a->name) != kl ||
                strncmp(a->name, sc->cur, kl) != 0)
                continue;
            /* a LIST completes its last item: "formats=fp32,nf" -> "formats=fp32,nf4" */
            const char *item = eq + 1;
            if (a->type == QS_ARG_LIST && strrchr(item, ',')) item = strrchr(item, ',') + 1;
            for (int i = 0; (v = qs_arg_choice_at(a, i, NULL)); i++) {
                if (!starts_with(v, item)) continue;
                char buf[512];
                int n = snprintf(buf, sizeof buf, "%.*s%s", (int)(item - sc->cur), sc->cur, v);
                if (n > 0 && (size_t)n < sizeof buf) sl_add(l, buf, (size_t)n);
            }
            continue;
        }
        switch (a->type) {
        case QS_ARG_FLAG:
            if (starts_with(a->name, sc->cur) && !already_used(&sc->words, a->name))
                sl_add(l, a->name, strlen(a->name));
            break;
        case QS_ARG_INT: case QS_ARG_REAL: case QS_ARG_TEXT: case QS_ARG_LIST: {
            char key[128];
            int n = snprintf(key, sizeof key, "%s=", a->name);
            if (n > 0 && (size_t)n < sizeof key && starts_with(key, sc->cur) &&
                !already_used(&sc->words, key))
                sl_add(l, key, (size_t)n);
            break;
        }
        case QS_ARG_WORD: {
            /* one word of the kind: once chosen (synth laplace), its choices are done */
            int chosen = 0;
            for (int w = 1; w < sc->words.n && !chosen; w++)
                chosen = !strchr(sc->words.v[w], '=') && is_word_choice(a, sc->words.v[w]);
            for (int i = 0; !chosen && (v = qs_arg_choice_at(a, i, NULL)); i++)
                if (starts_with(v, sc->cur) && !already_used(&sc->words, v))
                    sl_add(l, v, strlen(v));
            /* the options a chosen word brings: synth laplace -> loc= b= */
            for (int w = 1; a->keys && w < sc->words.n; w++) {
                const char *word = sc->words.v[w];
                if (strchr(word, '=') || !is_word_choice(a, word)) continue;
                for (int i = 0; (v = a->keys(word, i, NULL)); i++) {
                    char key[128];
                    int n = snprintf(key, sizeof key, "%s=", v);
                    if (n > 0 && (size_t)n < sizeof key && starts_with(key, sc->cur) &&
                        !already_used(&sc->words, key))
                        sl_add(l, key, (size_t)n);
                }
            }
            break;
        }
        default:
            break;
        }
    }
}

int qs_complete(const qs_session *s, const char *line, int point, qs_completion *c)
{
    scan sc;
    strlist l = {0};
    memset(c, 0, sizeof *c);
    if (!line) line = "";
    if (point < 0 || (size_t)point > strlen(line)) point = (int)strlen(line);
    if (scan_line(line, point, &sc) < 0) {
        scan_free(&sc);
        return -1;
    }
    c->start = sc.cur_start;
    c->argi = sc.words.n;
    if (sc.comment) goto done;
    if (sc.words.n == 0) {
        add_commands(&l, sc.cur);
        goto done;
    }
    const qs_cmd *cmd = qs_cmd_find(sc.words.v[0]);
    c->cmd = cmd;
    if (!cmd) goto done;
    /* positional index of the current word: words before it without '=' */
    int pos = 0;
    for (int i = 1; i < sc.words.n; i++)
        if (!strchr(sc.words.v[i], '=')) pos++;
    /* a nested table (at any depth): the next word names a row of it, whose row (or table)
     * completes the rest: lab gpt ptq method= */
    for (int wi = 1; cmd->subs; wi++) {
        if (pos == 0) {
            for (const qs_cmd *r = cmd->subs; r->name; r++)
                if (starts_with(r->name, sc.cur)) sl_add(&l, r->name, strlen(r->name));
        }
        const qs_cmd *sub = wi < sc.words.n ? qs_cmd_sub(cmd, sc.words.v[wi]) : NULL;
        if (!sub) {
            for (const char *const *w = cmd->words; w && *w; w++)
                if (starts_with(*w, sc.cur) && !already_used(&sc.words, *w))
                    sl_add(&l, *w, strlen(*w));
            goto done;
        }
        cmd = sub;
        pos--;
    }
    for (const char *const *w = cmd->words; w && *w; w++)
        if (starts_with(*w, sc.cur) && !already_used(&sc.words, *w)) sl_add(&l, *w, strlen(*w));
    add_specs(&l, cmd->args, &sc);
    if ((cmd->complete & QS_COMPL_COMMAND) && pos == 0) add_commands(&l, sc.cur);
    if ((cmd->complete & QS_COMPL_COMMAND) && pos >= 1) {     /* help lab [gpt] SUB */
        const qs_cmd *top = qs_cmd_find(sc.words.v[1]);
        for (int k = 2; top && k <= pos; k++) top = qs_cmd_sub(top, sc.words.v[k]);
        for (const qs_cmd *r = top ? top->subs : NULL; r && r->name; r++)
            if (starts_with(r->name, sc.cur)) sl_add(&l, r->name, strlen(r->name));
    }
    if (cmd->complete & QS_COMPL_LESSON) {
        char **names = NULL;
        int n = qs_lesson_names(sc.cur, &names);
        for (int i = 0; i < n; i++) sl_add(&l, names[i], strlen(names[i]));
        if (n < 0) l.oom = 1;
        qs_split_free(names);
    }
    if ((cmd->complete & QS_COMPL_FILE) && pos == 0) c->files = 1;
    if ((cmd->complete & QS_COMPL_TENSOR) && (cmd->complete & QS_COMPL_FILE) && pos == 1) {
        /* load FILE TENSOR: the tensors of FILE (headers only: cheap) */
        const char *path = NULL;
        for (int i = 1; i < sc.words.n && !path; i++)
            if (!strchr(sc.words.v[i], '=')) path = sc.words.v[i];
        if (s && s->file && s->file->path && path && strcmp(s->file->path, path) == 0) {
            add_tensors(&l, s->file, sc.cur);
        } else if (path) {
            qs_file *f = NULL;
            qs_err err = {{0}};
            if (qs_file_open(path, &f, &err) == QS_OK) add_tensors(&l, f, sc.cur);
            qs_file_close(f);
        }
    } else if ((cmd->complete & QS_COMPL_TENSOR) && !(cmd->complete & QS_COMPL_FILE) &&
               pos == 0 && s) {
        add_tensors(&l, s->file, sc.cur);
    }
done:
    scan_free(&sc);
    c->n = sl_finish(&l, &c->words);
    return c->n;
}

const char *qs_complete_hint(const char *line, int point)
{
    scan sc;
    const char *hint = NULL;
    if (!line) return NULL;
    if (point < 0 || (size_t)point > strlen(line)) point = (int)strlen(line);
    if (point == 0 || !isspace((unsigned char)line[point - 1])) return NULL;
    if (scan_line(line, point, &sc) == 0 && !sc.comment && sc.words.n >= 1 && !sc.cur[0]) {
        /* right after a command's words: the command, or a row of its nested tables (lab
         * gpt ptq) */
        const qs_cmd *c = qs_cmd_find(sc.words.v[0]);
        for (int i = 1; c && i < sc.words.n; i++) c = qs_cmd_sub(c, sc.words.v[i]);
        char label[128];
        if (c) qs_cmd_label(c, label, sizeof label);
        size_t nl = c ? strlen(label) : 0;
        if (c && c->usage && strncmp(c->usage, label, nl) == 0 && c->usage[nl] == ' ') {
            hint = c->usage + nl;
            while (*hint == ' ') hint++;
            if (!*hint) hint = NULL;
        }
    }
    scan_free(&sc);
    return hint;
}

void qs_completion_fini(qs_completion *c)
{
    if (!c) return;
    qs_split_free(c->words);
    c->words = NULL;
    c->n = 0;
}

/* ---- prompt ------------------------------------------------------------------------------ */

/* Copies a UTF-8 name into out, shortened in the middle to at most max code points. */
static void shorten(const char *name, char *out, size_t len, int max, int utf8)
{
    int cps = 0;
    for (const char *p = name; *p; p++)
        if (((unsigned char)*p & 0xC0) != 0x80) cps++;
    if (cps <= max) {
        snprintf(out, len, "%s", name);
        return;
    }
    int head = (max - 1) / 2, tail = max - 1 - head, k = 0;
    const char *p = name, *q;
    /* head code points */
    while (*p && k < head) {
        p++;
        while (((unsigned char)*p & 0xC0) == 0x80) p++;
        k++;
    }
    /* skip to the last `tail` code points */
    q = name + strlen(name);
    for (k = 0; k < tail && q > p;) {
        q--;
        if (((unsigned char)*q & 0xC0) != 0x80) k++;
    }
    snprintf(out, len, "%.*s%s%s", (int)(p - name), name, utf8 ? "…" : "~", q);
}

void qs_repl_prompt(const qs_session *s, int color, int utf8, char *buf, size_t len)
{
    char sch[96], name[160];
    qs_scheme_label(&s->scheme, sch, sizeof sch);
    if (s->tensor && s->tensor->name) {
        char *e = qs_escape(s->tensor->name, 0);    /* the name comes from a file */
        shorten(e ? e : "?", name, sizeof name, 32, utf8);
        free(e);
    }
    else snprintf(name, sizeof name, "-");
    const char *dot = utf8 ? " · " : " | ";
    if (color)
        snprintf(buf, len, "\001\033[1m\002qscope\001\033[0m\002 [\001\033[36m\002%s"
                 "\001\033[0m\002%s\001\033[33m\002%s\001\033[0m\002] > ", name, dot, sch);
    else
        snprintf(buf, len, "qscope [%s%s%s] > ", name, dot, sch);
}

/* ---- history file ------------------------------------------------------------------------ */

/* mkdir -p for the directory part of path (mode 0700). Returns 0 when it exists after. */
static int make_parents(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        int rc = mkdir(path, 0700);
        *p = '/';
        if (rc != 0 && errno != EEXIST) return -1;
    }
    return 0;
}

char *qs_history_path(void)
{
    const char *h = getenv("QSCOPE_HISTFILE");
    char *out = NULL;
    if (h && *h) return strdup(h);
    const char *x = getenv("XDG_STATE_HOME");
    if (x && x[0] == '/') {     /* the XDG spec ignores relative paths */
        if (asprintf(&out, "%s/qscope/history", x) < 0) return NULL;
        if (make_parents(out) == 0) return out;
        free(out);
        out = NULL;
    }
    const char *home = getenv("HOME");
    if (!home || !*home) return NULL;
    if (asprintf(&out, "%s/.qscope_history", home) < 0) return NULL;
    return out;
}
