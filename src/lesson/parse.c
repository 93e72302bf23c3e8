/* parse.c — lesson files: parse text into metadata and steps of items, with "PATH:LINE:"
 * errors; load files; free lessons; wrap narration. The format is in man/qscope-lesson.5. */
#include "qscope/lesson.h"
#include "qscope/io.h"
#include "qscope/screens.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QS_LESSON_DEFAULT_DELAY_MS 4000
#define QS_LESSON_MAX_BYTES (4 << 20)   /* a lesson is a small text file */

/* Parser state: the lesson being built and where we are. */
typedef struct parser {
    qs_lesson *l;           /* the lesson being filled */
    const char *path;       /* name used in errors */
    qs_err *err;            /* first error */
    qs_lesson_item *cur;    /* open paragraph, preformatted block or quiz, or NULL */
    int quiz_answers_seen;  /* in an open quiz: an answer: line was seen */
    int commands;           /* commands seen so far (expect needs one before it) */
    int step_has_items;     /* the current (last) step has items */
    int step_line;          /* line of the `---` that opened the current step */
} parser;

static int perr(parser *p, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int perr(parser *p, int line, const char *fmt, ...)
{
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return qs_err_set(p->err, "%s:%d: %s", p->path, line, msg);
}

static char *trim_dup(const char *s, size_t n)
{
    while (n && isspace((unsigned char)*s)) { s++; n--; }
    while (n && isspace((unsigned char)s[n - 1])) n--;
    return strndup(s, n);
}

/* Appends " more" (or "\nmore" when nl) to *dst. */
static int append(char **dst, const char *more, int nl)
{
    size_t a = *dst ? strlen(*dst) : 0, b = strlen(more);
    char *s = realloc(*dst, a + b + 2);
    if (!s) return -1;
    if (a) s[a++] = nl ? '\n' : ' ';
    memcpy(s + a, more, b + 1);
    *dst = s;
    return 0;
}

static void item_fini(qs_lesson_item *it)
{
    free(it->text);
    free(it->arg);
    if (it->kind == QS_LI_EXPECT) qs_expect_fini(&it->expect);
    if (it->kind == QS_LI_QUIZ) {
        free(it->quiz.question);
        for (int i = 0; i < it->quiz.nanswers; i++) free(it->quiz.answers[i]);
        free(it->quiz.answers);
        free(it->quiz.hint);
    }
}

void qs_lesson_free(qs_lesson *l)
{
    if (!l) return;
    for (int i = 0; i < l->nsteps; i++) {
        for (int j = 0; j < l->steps[i].nitems; j++) item_fini(&l->steps[i].items[j]);
        free(l->steps[i].items);
    }
    free(l->steps);
    free(l->path);
    free(l->name);
    free(l->title);
    free(l->level);
    free(l->author);
    free(l->summary);
    free(l);
}

static int new_step(parser *p, int line)
{
    qs_lesson *l = p->l;
    qs_lesson_step *s = realloc(l->steps, (size_t)(l->nsteps + 1) * sizeof *s);
    if (!s) return perr(p, line, "out of memory");
    l->steps = s;
    memset(&s[l->nsteps], 0, sizeof *s);
    s[l->nsteps].line = line;
    s[l->nsteps].delay_ms = -1;
    l->nsteps++;
    p->step_has_items = 0;
    p->step_line = line;
    return QS_OK;
}

/* Adds an item to the last step; returns it (zeroed, kind and line set) or NULL. */
static qs_lesson_item *new_item(parser *p, qs_li_kind kind, int line)
{
    qs_lesson_step *st;
    if (p->l->nsteps == 0 && new_step(p, line) != QS_OK) return NULL;
    st = &p->l->steps[p->l->nsteps - 1];
    qs_lesson_item *it = realloc(st->items, (size_t)(st->nitems + 1) * sizeof *it);
    if (!it) {
        perr(p, line, "out of memory");
        return NULL;
    }
    st->items = it;
    it = &st->items[st->nitems++];
    memset(it, 0, sizeof *it);
    it->kind = kind;
    it->line = line;
    if (!p->step_has_items) st->line = line;
    p->step_has_items = 1;
    return it;
}

/* Closes the open paragraph, block or quiz; a quiz must have an answer. */
static int close_open(parser *p)
{
    qs_lesson_item *c = p->cur;
    p->cur = NULL;
    if (c && c->kind == QS_LI_QUIZ && c->quiz.nanswers == 0)
        return perr(p, c->line, "quiz without an 'answer:' line");
    return QS_OK;
}

/* Parses a delay: "4s", "2.5s", "500ms", "4" (seconds). -1 when malformed. */
static int parse_delay(const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !(v >= 0) || v > 3600) return -1;
    while (*end == ' ') end++;
    if (strcmp(end, "ms") == 0) return (int)lround(v);
    if (*end == '\0' || strcmp(end, "s") == 0) return (int)lround(v * 1000);
    return -1;
}

/* `key: value` with key a lower-case word. Returns the key length, 0 when not such a line. */
static size_t meta_key(const char *line)
{
    size_t n = 0;
    while (islower((unsigned char)line[n]) || line[n] == '_') n++;
    return n && line[n] == ':' ? n : 0;
}

static int parse_directive(parser *p, const char *body, int line)
{
    size_t n = 0;
    while (body[n] && !isspace((unsigned char)body[n])) n++;
    char *name = strndup(body, n);
    char *arg = trim_dup(body + n, strlen(body + n));
    int rc = QS_ERR;
    if (!name || !arg) { perr(p, line, "out of memory"); goto done; }
    if (strcmp(name, "screen") == 0) {
        if (qs_screen_find(arg) < 0) {
            char names[160];
            qs_screen_list(names, sizeof names);
            perr(p, line, "@screen: unknown screen '%s' (%s)", arg, names);
            goto done;
        }
    } else if (strcmp(name, "highlight") == 0) {
        if (!*arg) { perr(p, line, "@highlight needs the name of an element"); goto done; }
        if (qs_hl_find(arg) < 0) {     /* a name no screen declares (qscope/screens.h) */
            char names[256];
            qs_hl_list(names, sizeof names);
            perr(p, line, "@highlight: unknown element '%s' (%s)", arg, names);
            goto done;
        }
    } else if (strcmp(name, "delay") == 0) {
        int ms = parse_delay(arg);
        if (ms < 0) {
            perr(p, line, "@delay: '%s' is not a delay (e.g. 4s, 2.5s, 500ms)", arg);
            goto done;
        }
        p->l->steps[p->l->nsteps ? p->l->nsteps - 1 : 0].delay_ms = ms;
    } else if (strcmp(name, "pause") == 0) {
        if (*arg) { perr(p, line, "@pause takes no argument"); goto done; }
    } else {
        perr(p, line, "unknown directive '@%s' (@screen, @highlight, @delay, @pause)", name);
        goto done;
    }
    qs_lesson_item *it = new_item(p, QS_LI_DIRECTIVE, line);
    if (!it) goto done;
    it->text = name;
    it->arg = *arg ? arg : NULL;
    if (!*arg) free(arg);
    return QS_OK;
done:
    free(name);
    free(arg);
    return rc;
}

static int parse_command(parser *p, const char *cmdline, int line)
{
    char **argv = NULL;
    qs_err e = {{0}};
    if (!*cmdline) return perr(p, line, "empty command after '>'");
    int argc = qs_split(cmdline, &argv, &e);
    if (argc < 0) return perr(p, line, "%s", e.msg);
    if (argc == 0) {
        qs_split_free(argv);
        return perr(p, line, "empty command after '>'");
    }
    int rc = QS_OK;
    if (strcmp(argv[0], "quit") == 0 || strcmp(argv[0], "source") == 0 ||
        strcmp(argv[0], "lesson") == 0) {
        rc = perr(p, line, "'%s' cannot be used inside a lesson", argv[0]);
    } else if (!qs_cmd_find(argv[0])) {
        const char *sug[1];
        if (qs_cmd_suggest(argv[0], sug, 1) == 1)
            rc = perr(p, line, "unknown command '%s'; did you mean '%s'?", argv[0], sug[0]);
        else
            rc = perr(p, line, "unknown command '%s'", argv[0]);
    }
    qs_split_free(argv);
    if (rc != QS_OK) return rc;
    qs_lesson_item *it = new_item(p, QS_LI_CMD, line);
    if (!it) return QS_ERR;
    if (!(it->text = strdup(cmdline))) return perr(p, line, "out of memory");
    p->commands++;
    return QS_OK;
}

/* Splits "a | b | c" into answers of the quiz. */
static int add_answers(parser *p, qs_quiz *q, const char *s, int line)
{
    const char *a = s;
    for (;;) {
        const char *bar = strchr(a, '|');
        size_t n = bar ? (size_t)(bar - a) : strlen(a);
        char *w = trim_dup(a, n);
        if (!w) return perr(p, line, "out of memory");
        qs_lesson_unmark(w);
        if (!*w) {
            free(w);
            return perr(p, line, "empty answer");
        }
        char **v = realloc(q->answers, (size_t)(q->nanswers + 2) * sizeof *v);
        if (!v) { free(w); return perr(p, line, "out of memory"); }
        q->answers = v;
        v[q->nanswers++] = w;
        v[q->nanswers] = NULL;
        if (!bar) break;
        a = bar + 1;
    }
    return QS_OK;
}

/* One body line (not in the header). */
static int body_line(parser *p, char *line, int ln)
{
    size_t len = strlen(line);
    qs_lesson_item *it;

    if (len == 0) return close_open(p);
    if (line[0] == '#' && line[1] != '#') return QS_OK;     /* comment */

    if (len >= 3 && strspn(line, "-") == len) {             /* step break */
        if (close_open(p) != QS_OK) return QS_ERR;
        if (p->l->nsteps == 0 || !p->step_has_items) {
            if (p->l->nsteps == 0) return new_step(p, ln);
            return perr(p, ln, "empty step (two '---' lines with nothing between them)");
        }
        return new_step(p, ln);
    }

    /* quiz continuation lines */
    if (p->cur && p->cur->kind == QS_LI_QUIZ) {
        qs_quiz *q = &p->cur->quiz;
        if (strncmp(line, "answer:", 7) == 0) {
            p->quiz_answers_seen = 1;
            return add_answers(p, q, line + 7, ln);
        }
        if (strncmp(line, "hint:", 5) == 0) {
            char *h = trim_dup(line + 5, strlen(line + 5));
            if (!h) return perr(p, ln, "out of memory");
            if (!*h) { free(h); return perr(p, ln, "empty hint"); }
            qs_lesson_unmark(h);
            if (q->hint) {
                int rc = append(&q->hint, h, 0);
                free(h);
                return rc ? perr(p, ln, "out of memory") : QS_OK;
            }
            q->hint = h;
            return QS_OK;
        }
        if (q->nanswers == 0 && !q->hint && !isspace((unsigned char)line[0]) &&
            line[0] != '>' && line[0] != '@' && strncmp(line, "expect ", 7) != 0 &&
            strncmp(line, "quiz:", 5) != 0 && line[0] != '\\') {
            char *t = trim_dup(line, len);
            qs_lesson_unmark(t);
            int rc = t ? append(&q->question, t, 0) : -1;
            free(t);
            return rc ? perr(p, ln, "out of memory") : QS_OK;
        }
        if (close_open(p) != QS_OK) return QS_ERR;
    }

    if (strncmp(line, "answer:", 7) == 0 || strncmp(line, "hint:", 5) == 0)
        return perr(p, ln, "'%.*s' outside a quiz (start one with 'quiz:')",
                    line[0] == 'a' ? 7 : 5, line);

    if (strncmp(line, "quiz:", 5) == 0) {
        if (close_open(p) != QS_OK) return QS_ERR;
        char *t = trim_dup(line + 5, len - 5);
        if (!t) return perr(p, ln, "out of memory");
        if (!*t) { free(t); return perr(p, ln, "quiz without a question"); }
        qs_lesson_unmark(t);
        if (!(it = new_item(p, QS_LI_QUIZ, ln))) { free(t); return QS_ERR; }
        it->quiz.question = t;
        p->cur = it;
        p->quiz_answers_seen = 0;
        return QS_OK;
    }

    if (line[0] == '>') {
        if (close_open(p) != QS_OK) return QS_ERR;
        char *c = trim_dup(line + 1, len - 1);
        if (!c) return perr(p, ln, "out of memory");
        int rc = parse_command(p, c, ln);
        free(c);
        return rc;
    }

    if (strncmp(line, "expect", 6) == 0 && (line[6] == ' ' || line[6] == '\t' ||
                                             line[6] == '\0')) {
        qs_expect e;
        qs_err xe = {{0}};
        if (close_open(p) != QS_OK) return QS_ERR;
        if (qs_expect_parse(line + 6, &e, &xe) != QS_OK) return perr(p, ln, "%s", xe.msg);
        if (p->commands == 0) {
            qs_expect_fini(&e);
            return perr(p, ln, "expect before any command: it checks the last command's "
                        "result");
        }
        if (!(it = new_item(p, QS_LI_EXPECT, ln))) { qs_expect_fini(&e); return QS_ERR; }
        it->expect = e;
        return QS_OK;
    }

    if (line[0] == '@') {
        if (close_open(p) != QS_OK) return QS_ERR;
        return parse_directive(p, line + 1, ln);
    }

    if (line[0] == '#' && line[1] == '#') {
        if (close_open(p) != QS_OK) return QS_ERR;
        char *h = trim_dup(line + strspn(line, "#"), strlen(line + strspn(line, "#")));
        if (!h) return perr(p, ln, "out of memory");
        if (!*h) { free(h); return perr(p, ln, "empty heading"); }
        qs_lesson_unmark(h);
        if (!(it = new_item(p, QS_LI_HEADING, ln))) { free(h); return QS_ERR; }
        it->text = h;
        return QS_OK;
    }

    /* narration: indented lines are preformatted, others join into a paragraph */
    int pre = line[0] == ' ' || line[0] == '\t';
    const char *t = line;
    if (t[0] == '\\') t++;                                   /* escape a leading marker */
    if (p->cur && (p->cur->kind != QS_LI_TEXT || p->cur->preformatted != pre))
        if (close_open(p) != QS_OK) return QS_ERR;
    if (!p->cur) {
        if (!(it = new_item(p, QS_LI_TEXT, ln))) return QS_ERR;
        it->preformatted = pre;
        p->cur = it;
    }
    char *piece = pre ? strdup(t) : trim_dup(t, strlen(t));
    qs_lesson_unmark(piece);                         /* {2026}: strict-check exemption */
    int rc = piece ? append(&p->cur->text, piece, pre) : -1;
    free(piece);
    return rc ? perr(p, ln, "out of memory") : QS_OK;
}

/* Removes the common indentation of a preformatted block (tabs count as one column). */
static void dedent(char *s)
{
    size_t common = (size_t)-1;
    for (const char *l = s; l; l = strchr(l, '\n')) {
        if (*l == '\n') l++;
        size_t k = strspn(l, " \t");
        if (l[k] && l[k] != '\n' && k < common) common = k;
        if (!strchr(l, '\n')) break;
    }
    if (common == (size_t)-1 || common == 0) return;
    char *w = s;
    const char *r = s;
    while (*r) {
        size_t k = 0;
        while (k < common && (r[k] == ' ' || r[k] == '\t')) k++;
        r += k;
        while (*r && *r != '\n') *w++ = *r++;
        if (*r == '\n') *w++ = *r++;
    }
    *w = '\0';
}

static char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t n = strlen(b);
    if (n > 7 && strcmp(b + n - 7, ".lesson") == 0) n -= 7;
    return strndup(b, n);
}

int qs_lesson_parse(const char *text, const char *path, qs_lesson **out, qs_err *err)
{
    parser p;
    int ln = 0, header = 1, rc = QS_OK;
    const char *s = text ? text : "";
    memset(&p, 0, sizeof p);
    *out = NULL;
    p.path = path ? path : "<lesson>";
    p.err = err;
    if (!(p.l = calloc(1, sizeof *p.l))) return qs_err_set(err, "%s: out of memory", p.path);
    p.l->delay_ms = QS_LESSON_DEFAULT_DELAY_MS;
    p.l->path = strdup(p.path);
    p.l->name = base_name(p.path);

    while (*s && rc == QS_OK) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        const char *next = nl ? nl + 1 : s + n;    /* before n is trimmed below */
        char *line = strndup(s, n);
        ln++;
        if (!line) { rc = perr(&p, ln, "out of memory"); break; }
        while (n && isspace((unsigned char)line[n - 1])) line[--n] = '\0';
        if (ln == 1 && (unsigned char)line[0] == 0xEF && (unsigned char)line[1] == 0xBB &&
            (unsigned char)line[2] == 0xBF)
            memmove(line, line + 3, n - 2);                 /* UTF-8 byte order mark */
        if (header) {
            size_t k = meta_key(line);
            if (n == 0 || (line[0] == '#' && line[1] != '#')) {
                if (n == 0 && p.l->title) header = 0;
                free(line);
                s = next;
                continue;
            }
            if (k) {
                char *v = trim_dup(line + k + 1, strlen(line + k + 1));
                char **dst = NULL;
                if (!v) rc = perr(&p, ln, "out of memory");
                else if (!*v) rc = perr(&p, ln, "'%.*s:' without a value", (int)k, line);
                else if (strncmp(line, "title", k) == 0 && k == 5) dst = &p.l->title;
                else if (strncmp(line, "level", k) == 0 && k == 5) dst = &p.l->level;
                else if (strncmp(line, "author", k) == 0 && k == 6) dst = &p.l->author;
                else if (strncmp(line, "summary", k) == 0 && k == 7) dst = &p.l->summary;
                else if (strncmp(line, "delay", k) == 0 && k == 5) {
                    int ms = parse_delay(v);
                    if (ms < 0) rc = perr(&p, ln, "delay: '%s' is not a delay (e.g. 4s, "
                                          "2.5s, 500ms)", v);
                    else p.l->delay_ms = ms;
                } else if (strncmp(line, "files", k) == 0 && k == 5) {
                    /* files: read | write | read write (comma or space separated) */
                    char *save = NULL;
                    for (char *w = strtok_r(v, " ,", &save); w && rc == QS_OK;
                         w = strtok_r(NULL, " ,", &save)) {
                        if (strcmp(w, "read") == 0) p.l->files |= QS_LESSON_FILES_READ;
                        else if (strcmp(w, "write") == 0)
                            p.l->files |= QS_LESSON_FILES_READ | QS_LESSON_FILES_WRITE;
                        else rc = perr(&p, ln, "files: '%s' is not read or write", w);
                    }
                } else if (strncmp(line, "quiz", k) != 0 && strncmp(line, "answer", k) != 0 &&
                           strncmp(line, "hint", k) != 0) {
                    rc = perr(&p, ln, "unknown metadata '%.*s:' (title, level, delay, author, "
                              "summary, files)", (int)k, line);
                } else {
                    k = 0;      /* a quiz at the very top: body */
                }
                if (dst) {
                    if (*dst) rc = perr(&p, ln, "'%.*s:' given twice", (int)k, line);
                    else { *dst = v; v = NULL; }
                }
                free(v);
                if (k || rc != QS_OK) {
                    free(line);
                    s = next;
                    continue;
                }
            }
            header = 0;
            if (!p.l->title) {
                rc = perr(&p, ln, "a lesson starts with a 'title:' line");
                free(line);
                break;
            }
        }
        rc = body_line(&p, line, ln);
        free(line);
        s = next;
    }
    if (rc == QS_OK && !p.l->title)
        rc = perr(&p, ln ? ln : 1, "a lesson starts with a 'title:' line");
    if (rc == QS_OK) rc = close_open(&p);
    if (rc == QS_OK) {
        /* drop a trailing empty step (a final ---) */
        if (p.l->nsteps && p.l->steps[p.l->nsteps - 1].nitems == 0) {
            free(p.l->steps[p.l->nsteps - 1].items);
            p.l->nsteps--;
        }
        if (p.l->nsteps == 0) rc = perr(&p, ln ? ln : 1, "the lesson has no steps");
    }
    if (rc == QS_OK) {
        for (int i = 0; i < p.l->nsteps; i++) {
            qs_lesson_step *st = &p.l->steps[i];
            if (st->delay_ms < 0) st->delay_ms = p.l->delay_ms;
            for (int j = 0; j < st->nitems; j++)
                if (st->items[j].kind == QS_LI_TEXT && st->items[j].preformatted)
                    dedent(st->items[j].text);
        }
        *out = p.l;
        return QS_OK;
    }
    qs_lesson_free(p.l);
    return rc;
}

int qs_lesson_load(const char *path, qs_lesson **out, qs_err *err)
{
    if (qs_io_check_regular(NULL, path, err) != QS_OK) return QS_ERR;  /* a FIFO would block */
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0, k;
    char chunk[8192];
    *out = NULL;
    if (!f) return qs_err_set(err, "%s: %s", path, strerror(errno));
    while ((k = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + k + 1 > cap) {
            cap = (len + k + 1) * 2;
            char *nb = realloc(buf, cap);
            if (!nb) { free(buf); fclose(f); return qs_err_set(err, "%s: out of memory", path); }
            buf = nb;
        }
        memcpy(buf + len, chunk, k);
        len += k;
        if (len > QS_LESSON_MAX_BYTES) {
            free(buf);
            fclose(f);
            return qs_err_set(err, "%s: too large for a lesson (over %d bytes)", path,
                              QS_LESSON_MAX_BYTES);
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) { free(buf); return qs_err_set(err, "%s: read error", path); }
    if (!buf) buf = calloc(1, 1);
    if (!buf) return qs_err_set(err, "%s: out of memory", path);
    buf[len] = '\0';
    if (memchr(buf, '\0', len)) {
        free(buf);
        return qs_err_set(err, "%s: not a text file (contains NUL bytes)", path);
    }
    int line = 1;                       /* qscope-lesson(5): the file is UTF-8 text */
    for (const char *q = buf; *q; line++) {
        const char *nl = strchr(q, '\n');
        size_t n = nl ? (size_t)(nl - q) : strlen(q);
        if (!qs_utf8_valid(q, n)) {
            free(buf);
            return qs_err_set(err, "%s:%d: not UTF-8 text (a lesson file is UTF-8)", path, line);
        }
        q += n + (nl != NULL);
    }
    int rc = qs_lesson_parse(buf, path, out, err);
    free(buf);
    return rc;
}

int qs_lesson_count(const qs_lesson *l, qs_li_kind kind)
{
    int n = 0;
    for (int i = 0; l && i < l->nsteps; i++)
        for (int j = 0; j < l->steps[i].nitems; j++) n += l->steps[i].items[j].kind == kind;
    return n;
}

char *qs_lesson_wrap(const char *text, int width)
{
    size_t n = strlen(text);
    char *out = malloc(n + 1);
    if (!out) return NULL;
    if (width < 10) width = 10;
    size_t o = 0;
    int col = 0;
    const char *p = text;
    while (*p) {
        if (*p == '\n') { out[o++] = '\n'; col = 0; p++; continue; }
        if (*p == ' ') { p++; continue; }
        size_t w = 0;
        int cols = 0;
        while (p[w] && p[w] != ' ' && p[w] != '\n') {
            if (((unsigned char)p[w] & 0xC0) != 0x80) cols++;
            w++;
        }
        if (col > 0) {
            if (col + 1 + cols > width) { out[o++] = '\n'; col = 0; }
            else { out[o++] = ' '; col++; }
        }
        memcpy(out + o, p, w);
        o += w;
        col += cols;
        p += w;
    }
    out[o] = '\0';
    return out;
}
