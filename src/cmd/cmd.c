/* cmd.c — the command table, shell-style word splitting, argument helpers and dispatch. */
#include "qscope/cmd.h"
#include "qscope/io.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Each module contributes an array of rows, terminated by {0}. */
extern const qs_cmd qs_cmds_core[];
extern const qs_cmd qs_cmds_data[];
extern const qs_cmd qs_cmds_bits[];
extern const qs_cmd qs_cmds_quant[];
extern const qs_cmd qs_cmds_model[];
extern const qs_cmd qs_cmds_lab[];
extern const qs_cmd qs_cmds_lesson[];
extern const qs_cmd qs_cmds_tensor[];      /* cmd_tensor.c: reshape rescale fold equalize */
extern const qs_cmd qs_cmds_llm[];
extern const qs_cmd qs_cmds_methods[];     /* cmd_methods.c: the methods side by side */

#define QS_MAX_CMDS 128

/* The table is a constant list of the modules' arrays, walked in order (no mutable state). */
static const qs_cmd *const groups[] = {
    qs_cmds_data, qs_cmds_bits, qs_cmds_quant, qs_cmds_model, qs_cmds_lab, qs_cmds_llm,
    qs_cmds_methods, qs_cmds_lesson, qs_cmds_core, qs_cmds_tensor,
};

/* Iterates over every row: *g and *i are the cursor; returns NULL at the end. */
static const qs_cmd *next_row(size_t *g, size_t *i)
{
    while (*g < sizeof groups / sizeof groups[0]) {
        const qs_cmd *row = &groups[*g][*i];
        if (row->name) {
            (*i)++;
            return row;
        }
        (*g)++;
        *i = 0;
    }
    return NULL;
}

int qs_cmd_count(void)
{
    size_t g = 0, i = 0;
    int n = 0;
    while (next_row(&g, &i)) n++;
    return n;
}

const qs_cmd *qs_cmd_at(int k)
{
    size_t g = 0, i = 0;
    const qs_cmd *c;
    int n = 0;
    while ((c = next_row(&g, &i)))
        if (n++ == k) return c;
    return NULL;
}

const qs_cmd *qs_cmd_find(const char *name)
{
    size_t g = 0, i = 0;
    const qs_cmd *c;
    if (!name) return NULL;
    while ((c = next_row(&g, &i)))
        if (strcmp(c->name, name) == 0) return c;
    return NULL;
}

int qs_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) return (int)(la > lb ? la : lb);
    int d[64][64];
    for (size_t i = 0; i <= la; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            int cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            int v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v) v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 &&
                tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == tolower((unsigned char)b[j - 1]) &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    }
    return d[la][lb];
}

int qs_cmd_suggest(const char *word, const char **out, int max)
{
    /* Score: prefix matches first (0), then edit distance (1 + d) up to a limit that grows
     * with the word's length. Stable by table order within a score. */
    size_t g = 0, i = 0;
    const qs_cmd *c;
    int scores[QS_MAX_CMDS];
    const char *names[QS_MAX_CMDS];
    int n = 0;
    size_t wl = strlen(word);
    int limit = wl <= 3 ? 1 : wl <= 6 ? 2 : 3;
    if (wl == 0 || max <= 0) return 0;
    while ((c = next_row(&g, &i)) && n < QS_MAX_CMDS) {
        int s;
        if (strncmp(c->name, word, wl) == 0) s = 0;
        else {
            int d = qs_edit_distance(word, c->name);
            /* also compare with the command's prefix of the same length (typo in a prefix) */
            size_t cl = strlen(c->name);
            if (cl > wl) {
                char pre[64];
                size_t k = wl < sizeof pre - 1 ? wl : sizeof pre - 1;
                memcpy(pre, c->name, k);
                pre[k] = '\0';
                int dp = qs_edit_distance(word, pre) + 1;
                if (dp < d && wl >= 3) d = dp;
            }
            if (d > limit) continue;
            s = 1 + d;
        }
        scores[n] = s;
        names[n] = c->name;
        n++;
    }
    /* Only the best tier: "hsit" suggests hist (1 edit), not also set and quit (2 edits). */
    int k = 0, best = 1 + limit + 1;
    for (int j = 0; j < n; j++)
        if (scores[j] < best) best = scores[j];
    for (int j = 0; j < n && k < max; j++)
        if (scores[j] == best) out[k++] = names[j];
    return k;
}

/* ---- splitting ------------------------------------------------------------------------- */

typedef struct strbuf {
    char *s;        /* data */
    size_t len;     /* used */
    size_t cap;     /* allocated */
} strbuf;

static int sb_put(strbuf *b, char c)
{
    if (b->len + 2 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 32;
        char *s = realloc(b->s, cap);
        if (!s) return -1;
        b->s = s;
        b->cap = cap;
    }
    b->s[b->len++] = c;
    b->s[b->len] = '\0';
    return 0;
}

static int push_word(char ***v, int *n, int *cap, char *w)
{
    if (*n + 2 > *cap) {
        int c = *cap ? *cap * 2 : 8;
        char **nv = realloc(*v, (size_t)c * sizeof *nv);
        if (!nv) return -1;
        *v = nv;
        *cap = c;
    }
    (*v)[(*n)++] = w;
    (*v)[*n] = NULL;
    return 0;
}

void qs_split_free(char **argv)
{
    if (!argv) return;
    for (char **p = argv; *p; p++) free(*p);
    free(argv);
}

/* Core splitter. When `cmds` is set, splits into command lines at unquoted ';' and '\n'
 * instead of words (quotes are kept in the output). */
static int split(const char *line, char ***out, int cmds, qs_err *err)
{
    char **v = NULL;
    int n = 0, cap = 0;
    strbuf b = {0};
    int inword = 0;
    int at_start = 1;   /* cmds: at the start of a word (a '#' there begins a comment) */
    const char *p = line ? line : "";
    if (push_word(&v, &n, &cap, NULL) < 0) goto oom;
    n = 0;
    for (;;) {
        char c = *p;
        /* backslash-newline continues the line, as in a shell: both go */
        if (c == '\\' && (p[1] == '\n' || (p[1] == '\r' && p[2] == '\n'))) {
            p += p[1] == '\n' ? 2 : 3;
            continue;
        }
        int sep = cmds ? (c == ';' || c == '\n' || c == '\0')
                       : (c == '\0' || isspace((unsigned char)c));
        if (sep) {
            if (cmds) {
                /* trim and keep non-empty lines */
                size_t s = 0, e = b.len;
                while (s < e && isspace((unsigned char)b.s[s])) s++;
                while (e > s && isspace((unsigned char)b.s[e - 1])) e--;
                if (e > s) {
                    char *w = strndup(b.s + s, e - s);
                    if (!w || push_word(&v, &n, &cap, w) < 0) { free(w); goto oom; }
                }
                b.len = 0;
                if (b.s) b.s[0] = '\0';
            } else if (inword) {
                char *w = strdup(b.s ? b.s : "");
                if (!w || push_word(&v, &n, &cap, w) < 0) { free(w); goto oom; }
                b.len = 0;
                if (b.s) b.s[0] = '\0';
                inword = 0;
            }
            if (c == '\0') break;
            at_start = 1;
            p++;
            continue;
        }
        if (!cmds && c == '#' && !inword) break;     /* comment */
        if (cmds && c == '#' && at_start) {           /* comment to the end of the line */
            while (*p && *p != '\n') p++;
            continue;
        }
        at_start = cmds && isspace((unsigned char)c);
        if (c == '\'' || c == '"') {
            char q = c;
            const char *start = p;
            if (cmds && sb_put(&b, c) < 0) goto oom;
            p++;
            while (*p && *p != q) {
                if (q == '"' && *p == '\\' && (p[1] == '"' || p[1] == '\\')) {
                    if (cmds && sb_put(&b, *p) < 0) goto oom;
                    p++;
                }
                if (sb_put(&b, *p) < 0) goto oom;
                p++;
            }
            if (*p != q) {
                qs_err_set(err, "unbalanced %s quote starting at column %d",
                           q == '"' ? "double" : "single", (int)(start - line) + 1);
                free(b.s);
                qs_split_free(v);
                return -1;
            }
            if (cmds && sb_put(&b, q) < 0) goto oom;
            p++;
            inword = 1;
            continue;
        }
        if (c == '\\' && p[1]) {
            if (cmds && sb_put(&b, c) < 0) goto oom;
            p++;
            c = *p;
        }
        if (sb_put(&b, c) < 0) goto oom;
        inword = 1;
        p++;
    }
    free(b.s);
    *out = v;
    return n;
oom:
    free(b.s);
    qs_split_free(v);
    qs_err_set(err, "out of memory");
    return -1;
}

int qs_split(const char *line, char ***argv, qs_err *err)
{
    return split(line, argv, 0, err);
}

int qs_split_commands(const char *text, char ***lines, qs_err *err)
{
    return split(text, lines, 1, err);
}

/* ---- arguments ------------------------------------------------------------------------- */

const char *qs_arg_kv(int argc, char **argv, const char *key)
{
    size_t kl = strlen(key);
    const char *found = NULL;
    for (int i = 0; i < argc; i++)
        if (strncmp(argv[i], key, kl) == 0 && argv[i][kl] == '=') found = argv[i] + kl + 1;
    return found;   /* the last one wins, as on a shell command line */
}

int qs_parse_double(const char *s, double *v)
{
    char *end;
    if (!s || !*s || isspace((unsigned char)*s)) return -1;
    errno = 0;
    double d = strtod(s, &end);
    if (*end != '\0') return -1;
    if (errno == ERANGE && isinf(d)) {
        /* overflowing literals become ±inf: accepted, as float formats need them */
    }
    *v = d;
    return 0;
}

int qs_parse_ll(const char *s, long long *v)
{
    char *end;
    if (!s || !*s || isspace((unsigned char)*s)) return -1;
    errno = 0;
    long long x = strtoll(s, &end, 0);
    if (*end != '\0' || errno == ERANGE) {
        /* allow 1e6-style integers */
        double d;
        if (qs_parse_double(s, &d) == 0 && d == floor(d) && fabs(d) < 9.2e18) {
            *v = (long long)d;
            return 0;
        }
        return -1;
    }
    *v = x;
    return 0;
}

int qs_arg_int(int argc, char **argv, const char *key, long long lo, long long hi,
               long long *v, qs_err *err)
{
    const char *s = qs_arg_kv(argc, argv, key);
    long long x;
    if (!s) return QS_OK;
    if (qs_parse_ll(s, &x) < 0)
        return qs_err_set(err, "%s=%s: not an integer", key, s);
    if (x < lo || x > hi)
        return qs_err_set(err, "%s=%s: out of range %lld..%lld", key, s, lo, hi);
    *v = x;
    return QS_OK;
}

int qs_arg_double(int argc, char **argv, const char *key, double lo, double hi, double *v,
                  qs_err *err)
{
    const char *s = qs_arg_kv(argc, argv, key);
    double x;
    if (!s) return QS_OK;
    if (qs_parse_double(s, &x) < 0 || isnan(x))
        return qs_err_set(err, "%s=%s: not a number", key, s);
    if (x < lo || x > hi)
        return qs_err_set(err, "%s=%s: out of range %g..%g", key, s, lo, hi);
    *v = x;
    return QS_OK;
}

int qs_arg_flag(int argc, char **argv, const char *word)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], word) == 0) return 1;
    return 0;
}

const char *qs_arg_pos(int argc, char **argv, int k)
{
    for (int i = 0; i < argc; i++) {
        if (strchr(argv[i], '=')) continue;
        if (k-- == 0) return argv[i];
    }
    return NULL;
}

static int in_list(const char *const *list, const char *w, size_t len)
{
    for (; list && *list; list++)
        if (strlen(*list) == len && strncmp(*list, w, len) == 0) return 1;
    return 0;
}

int qs_arg_check(const qs_cmd *c, int argc, char **argv, const char *const *keys,
                 const char *const *flags, int maxpos, qs_err *err)
{
    int pos = 0;
    for (int i = 0; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        if (eq) {
            if (!in_list(keys, argv[i], (size_t)(eq - argv[i])))
                return qs_err_set(err, "%s: unknown option '%.*s' (usage: %s)", c->name,
                                  (int)(eq - argv[i]), argv[i], c->usage);
        } else if (!in_list(flags, argv[i], strlen(argv[i]))) {
            if (pos++ >= maxpos)
                return qs_err_set(err, "%s: unexpected argument '%s' (usage: %s)", c->name,
                                  argv[i], c->usage);
        }
    }
    return QS_OK;
}

/* ---- argument specs -------------------------------------------------------------------- */

const qs_cmd *qs_cmd_sub(const qs_cmd *c, const char *name)
{
    for (const qs_cmd *r = c && name ? c->subs : NULL; r && r->name; r++)
        if (strcmp(r->name, name) == 0) return r;
    return NULL;
}

const char *qs_arg_choice_at(const qs_arg *a, int i, const char **help)
{
    if (help) *help = NULL;
    if (i < 0) return NULL;
    if (a->choice) return a->choice(i, help);
    for (int k = 0; a->choices && a->choices[k]; k++)
        if (k == i) return a->choices[k];
    return NULL;
}

static int is_choice(const qs_arg *a, const char *w, size_t len)
{
    const char *c;
    for (int i = 0; (c = qs_arg_choice_at(a, i, NULL)); i++)
        if (strlen(c) == len && strncmp(c, w, len) == 0) return 1;
    return 0;
}

const qs_arg *qs_arg_spec(const qs_arg *args, const char *key, size_t kl)
{
    for (const qs_arg *a = args; a && a->type != QS_ARG_END; a++)
        if ((a->type == QS_ARG_INT || a->type == QS_ARG_REAL || a->type == QS_ARG_TEXT ||
             a->type == QS_ARG_LIST) &&
            strlen(a->name) == kl && strncmp(a->name, key, kl) == 0)
            return a;
    return NULL;
}

static void choice_list(const qs_arg *a, char *buf, size_t len)
{
    const char *c;
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; (c = qs_arg_choice_at(a, i, NULL)) && o < len; i++)
        o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "", c);
}

int qs_arg_word_key(const qs_arg *args, int argc, char **argv, const char *key, size_t kl)
{
    for (const qs_arg *a = args; a && a->type != QS_ARG_END; a++) {
        if (a->type != QS_ARG_WORD || !a->keys) continue;
        for (int i = 0; i < argc; i++) {
            if (strchr(argv[i], '=') || !is_choice(a, argv[i], strlen(argv[i]))) continue;
            const char *k;
            for (int j = 0; (k = a->keys(argv[i], j, NULL)); j++)
                if (strlen(k) == kl && strncmp(k, key, kl) == 0) return 1;
        }
    }
    return 0;
}

void qs_cmd_label(const qs_cmd *c, char *buf, size_t len)
{
    /* the usage's leading command words, up to the row's own name */
    const char *u = c->usage ? c->usage : "", *p = u;
    size_t nl = strlen(c->name);
    snprintf(buf, len, "%s", c->name);
    while (*p) {
        size_t wl = strcspn(p, " ");
        if (wl == nl && strncmp(p, c->name, nl) == 0) {
            snprintf(buf, len, "%.*s", (int)(p + wl - u), u);
            return;
        }
        if (memchr(p, '=', wl) || memchr(p, '[', wl) || memchr(p, '|', wl) || !p[wl]) return;
        p += wl + 1;
    }
}

/* 1 when every comma-separated item of v is one of a's choices (*bad: the first that is
 * not, its length in *badlen). */
static int list_ok(const qs_arg *a, const char *v, const char **bad, size_t *badlen)
{
    for (const char *p = v;;) {
        size_t l = strcspn(p, ",");
        if (!is_choice(a, p, l)) {
            *bad = p;
            *badlen = l;
            return 0;
        }
        if (!p[l]) return 1;
        p += l + 1;
    }
}

int qs_args_check(const qs_cmd *c, int argc, char **argv, qs_err *err)
{
    if (!c->args) return QS_OK;
    char name[128];
    qs_cmd_label(c, name, sizeof name);
    int npos = 0, many = 0, pos = 0;
    for (const qs_arg *a = c->args; a->type != QS_ARG_END; a++)
        if (a->type == QS_ARG_POS) {
            npos++;
            size_t l = strlen(a->name);
            if (l >= 3 && strcmp(a->name + l - 3, "...") == 0) many = 1;
        }
    for (int i = 0; i < argc; i++) {
        const char *w = argv[i], *eq = strchr(w, '=');
        if (eq) {
            const qs_arg *a = qs_arg_spec(c->args, w, (size_t)(eq - w));
            if (!a && qs_arg_word_key(c->args, argc, argv, w, (size_t)(eq - w))) continue;
            if (!a)
                return qs_err_set(err, "%s: unknown option '%.*s' (usage: %s)", name,
                                  (int)(eq - w), w, c->usage);
            const char *v = eq + 1;
            if (a->type == QS_ARG_INT) {
                long long x;
                if (qs_parse_ll(v, &x) < 0)
                    return qs_err_set(err, "%s: %s: not an integer", name, w);
                if (x < a->lo || x > a->hi)
                    return qs_err_set(err, "%s: %s: out of range %.0f..%.0f", name, w, a->lo,
                                      a->hi);
            } else if (a->type == QS_ARG_REAL) {
                double x;
                if (qs_parse_double(v, &x) < 0 || isnan(x))
                    return qs_err_set(err, "%s: %s: not a number", name, w);
                if (x < a->lo || x > a->hi)
                    return qs_err_set(err, "%s: %s: out of range %g..%g", name, w, a->lo,
                                      a->hi);
            } else if (a->type == QS_ARG_LIST && (a->choices || a->choice)) {
                const char *bad;
                size_t bl;
                if (!list_ok(a, v, &bad, &bl)) {
                    char list[512];
                    choice_list(a, list, sizeof list);
                    return qs_err_set(err, "%s: %s=%s: '%.*s' is not one of %s", name,
                                      a->name, v, (int)bl, bad, list);
                }
            } else if ((a->choices || a->choice) && !is_choice(a, v, strlen(v))) {
                char list[512];
                choice_list(a, list, sizeof list);
                return qs_err_set(err, "%s: %s='%s' is not one of %s", name, a->name, v,
                                  list);
            }
            continue;
        }
        int known = 0;
        for (const qs_arg *a = c->args; a->type != QS_ARG_END && !known; a++)
            known = (a->type == QS_ARG_FLAG && strcmp(a->name, w) == 0) ||
                    (a->type == QS_ARG_WORD && is_choice(a, w, strlen(w)));
        if (known) continue;
        if (pos++ < npos || many) continue;
        for (const qs_arg *a = c->args; a->type != QS_ARG_END; a++)
            if (a->type == QS_ARG_WORD) {
                char list[512];
                choice_list(a, list, sizeof list);
                return qs_err_set(err, "%s: unknown %s '%s' (%s)", name, a->name, w, list);
            }
        return qs_err_set(err, "%s: unexpected argument '%s' (usage: %s)", name, w,
                          c->usage);
    }
    return QS_OK;
}

char *qs_cmd_options(const qs_cmd *c)
{
    size_t cap = 256, len = 0;
    char *out = malloc(cap);
    if (!out) return NULL;
    out[0] = '\0';
    for (const qs_arg *a = c->args; a && a->type != QS_ARG_END; a++) {
        if (a->type != QS_ARG_WORD || !a->choice) continue;
        const char *name, *help;
        for (int i = 0; (name = qs_arg_choice_at(a, i, &help)); i++) {
            size_t need = strlen(name) + (help ? strlen(help) : 0) + 24;
            if (len + need >= cap) {
                char *o2 = realloc(out, cap = 2 * (len + need));
                if (!o2) { free(out); return NULL; }
                out = o2;
            }
            len += (size_t)snprintf(out + len, cap - len, "%-16s %s\n", name, help ? help : "");
        }
    }
    char gen[2048];
    const char *h = c->help;
    if (!h) {
        /* a row without its own text (a subcommand): a line per spec */
        size_t gl = 0;
        gen[0] = '\0';
        for (const qs_arg *a = c->args; a && a->type != QS_ARG_END && gl < sizeof gen; a++) {
            char head[64], list[512] = "", range[96] = "";
            if (a->type == QS_ARG_FLAG || a->type == QS_ARG_POS || a->type == QS_ARG_WORD)
                snprintf(head, sizeof head, "%s", a->name);
            else
                snprintf(head, sizeof head, "%s=%s", a->name, a->meta ? a->meta : "");
            if (a->type == QS_ARG_INT)          /* integers as integers (seed's 2^62) */
                snprintf(range, sizeof range, "%.0f..%.0f", a->lo, a->hi);
            else if (a->type == QS_ARG_REAL)
                snprintf(range, sizeof range, "%.10g..%.10g", a->lo, a->hi);
            if (a->choices || a->choice) choice_list(a, list, sizeof list);
            gl += (size_t)snprintf(gen + gl, sizeof gen - gl, "%s%-16s %s%s%s%s%s%s%s",
                                   gl ? "\n" : "", head, a->help ? a->help : "",
                                   a->help && (range[0] || list[0]) ? ": " : "", range, list,
                                   !a->def ? "" : a->help || range[0] || list[0]
                                       ? " (default " : "(default ",
                                   a->def ? a->def : "",
                                   a->def ? ")" : "");
        }
        /* a nested table: a line per subcommand (help CMD SUB shows its options) */
        for (const qs_cmd *r = c->subs; r && r->name && gl < sizeof gen; r++)
            gl += (size_t)snprintf(gen + gl, sizeof gen - gl, "%s%-16s %s", gl ? "\n" : "",
                                   r->name, r->summary ? r->summary : "");
        if (gl >= sizeof gen) gen[sizeof gen - 1] = '\0';
        h = gen;
    }
    size_t hl = strlen(h);
    char tail[1024];
    size_t tl = 0;
    tail[0] = '\0';
    /* valued options whose values come from a table, in the row or its subcommands (once) */
    const qs_cmd *rows[2] = { c, c->subs };
    for (int r = 0; r < 2 && c->help; r++)
        for (const qs_cmd *row = rows[r]; row && row->name; row++) {
            for (const qs_arg *a = row->args; a && a->type != QS_ARG_END; a++) {
                if ((a->type != QS_ARG_TEXT && a->type != QS_ARG_LIST) || !a->choice) continue;
                char head[64], list[512];
                snprintf(head, sizeof head, "%s=%s", a->name, a->meta ? a->meta : "");
                if (strstr(tail, head)) continue;
                /* a row that documents the option on a line of its own keeps its words */
                char nlhead[72];
                snprintf(nlhead, sizeof nlhead, "\n%s ", head);
                if ((strncmp(h, head, strlen(head)) == 0 && h[strlen(head)] == ' ') ||
                    strstr(h, nlhead))
                    continue;
                choice_list(a, list, sizeof list);
                tl += (size_t)snprintf(tail + tl, sizeof tail - tl, "\n%-16s %s%s%s", head,
                                       a->help ? a->help : "", a->help ? ": " : "", list);
                if (tl >= sizeof tail) tl = sizeof tail - 1;
            }
            if (r == 0) break;  /* rows[0] is the row itself, not an array */
        }
    char *o2 = realloc(out, len + hl + tl + 1);
    if (!o2) { free(out); return NULL; }
    memcpy(o2 + len, h, hl);
    memcpy(o2 + len + hl, tail, tl + 1);
    return o2;
}

/* An error that starts with one of the command's own KEY=VALUE words, as the typed getters
 * (qs_arg_int, qs_arg_double) and qs_scheme_parse write them ("bits=99: expected 2..8"), gets
 * the command's name in front, like every other error line: "scheme: bits=99: ...". */
static void name_arg_error(const char *name, int argc, char **argv, qs_err *err)
{
    for (int i = 0; err && i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        if (!eq || eq == argv[i] || strncmp(err->msg, argv[i], (size_t)(eq - argv[i]) + 1))
            continue;
        qs_err_prefix(err, name);
        return;
    }
}

int qs_cmd_run_sub(const qs_cmd *c, qs_session *s, int argc, char **argv, json_t **out,
                   qs_err *err)
{
    char name[128], list[256];
    size_t o = 0;
    qs_cmd_label(c, name, sizeof name);
    list[0] = '\0';
    for (const qs_cmd *r = c->subs; r && r->name && o < sizeof list; r++)
        o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", r == c->subs ? "" : ", ",
                              r->name);
    if (argc < 1) return qs_err_set(err, "%s: expected a subcommand: %s", name, list);
    const qs_cmd *sub = qs_cmd_sub(c, argv[0]);
    if (!sub) return qs_err_set(err, "%s: unknown subcommand '%s' (%s)", name, argv[0], list);
    if (qs_args_check(sub, argc - 1, argv + 1, err) != QS_OK) return QS_ERR;
    int rc = sub->run(s, argc - 1, argv + 1, out, err);
    if (rc != QS_OK) {
        qs_cmd_label(sub, name, sizeof name);
        name_arg_error(name, argc - 1, argv + 1, err);
    }
    return rc;
}

/* ---- JSON helpers ---------------------------------------------------------------------- */

/* JSON has no Inf or NaN: they are the strings "inf", "-inf" and "nan" (qscope(1), JSON
 * OUTPUT), which `expect` reads back as numbers. */
json_t *qs_json_real(double v)
{
    if (isnan(v)) return json_string("nan");
    if (isinf(v)) return json_string(v > 0 ? "inf" : "-inf");
    return json_real(v);
}

void qs_json_set_real(json_t *obj, const char *key, double v)
{
    json_object_set_new(obj, key, qs_json_real(v));
}

int qs_json_real_get(const json_t *v, double *d)
{
    if (json_is_number(v)) {
        *d = json_number_value(v);
        return 0;
    }
    if (!json_is_string(v)) return -1;
    const char *s = json_string_value(v);
    if (!strcmp(s, "inf")) *d = INFINITY;
    else if (!strcmp(s, "-inf")) *d = -INFINITY;
    else if (!strcmp(s, "nan")) *d = NAN;
    else return -1;
    return 0;
}

/* ---- the lesson sandbox at the point of access ------------------------------------------- */

/* The real path of p (symbolic links followed); for a file that does not exist yet, the real
 * path of its folder plus its name. 0 on success. */
static int resolve_path(const char *p, char *out)
{
    char buf[PATH_MAX], rd[PATH_MAX];
    if (realpath(p, out)) return 0;
    const char *sl = strrchr(p, '/');
    const char *dir = ".";
    if (sl) {
        size_t n = (size_t)(sl - p);
        if (n >= sizeof buf) return -1;
        memcpy(buf, p, n);
        buf[n] = '\0';
        dir = n ? buf : "/";
    }
    const char *base = sl ? sl + 1 : p;
    if (!strcmp(base, "..") || !strcmp(base, ".") || !realpath(dir, rd)) return -1;
    size_t rl = strcmp(rd, "/") ? strlen(rd) : 0, bl = strlen(base);
    if (rl + 1 + bl >= PATH_MAX) return -1;
    memcpy(out, rd, rl);
    out[rl] = '/';
    memcpy(out + rl + 1, base, bl + 1);
    return 0;
}

int qs_path_under(const char *path, const char *root)
{
    char r[PATH_MAX];
    size_t n = root ? strlen(root) : 0;
    if (n == 0 || resolve_path(path, r) != 0) return 0;
    if (strcmp(root, "/") == 0) return 1;
    return strncmp(r, root, n) == 0 && (r[n] == '\0' || r[n] == '/');
}

int qs_cmd_check_path(const qs_session *s, const char *cmd, const char *path, int write,
                      qs_err *err)
{
    const qs_sandbox *sb = s ? s->sandbox : NULL;
    if (!sb) return QS_OK;
    if (write) {
        if (sb->allow & QS_SANDBOX_WRITE) return QS_OK;
        return qs_err_set(err, "%s: refused: a lesson may not write files (%s); its header "
                          "must say 'files: write' and the learner allow it", cmd, path);
    }
    if (sb->allow & QS_SANDBOX_READ) return QS_OK;
    for (int i = 0; i < 2; i++)
        if (sb->roots[i] && qs_path_under(path, sb->roots[i])) return QS_OK;
    return qs_err_set(err, "%s: refused: a lesson may read only under its own folder and "
                      "qscope's datasets (%s); its header must say 'files: read' and the "
                      "learner allow it", cmd, path);
}

/* ---- dispatch -------------------------------------------------------------------------- */

static int dispatch(qs_session *s, const char *line, json_t **out, const qs_cmd **cmd_out,
                    qs_err *err, int record);

int qs_cmd_run_line(qs_session *s, const char *line, json_t **out, const qs_cmd **cmd_out,
                    qs_err *err)
{
    return dispatch(s, line, out, cmd_out, err, 1);
}

int qs_cmd_query(qs_session *s, const char *line, json_t **out, const qs_cmd **cmd_out,
                 qs_err *err)
{
    return dispatch(s, line, out, cmd_out, err, 0);
}

static int dispatch(qs_session *s, const char *line, json_t **out, const qs_cmd **cmd_out,
                    qs_err *err, int record)
{
    char **argv = NULL;
    int argc, rc;
    json_t *res = NULL;
    *out = NULL;
    if (cmd_out) *cmd_out = NULL;
    argc = qs_split(line, &argv, err);
    if (argc < 0) return QS_ERR;
    if (argc == 0) {
        qs_split_free(argv);
        return QS_OK;
    }
    const qs_cmd *c = qs_cmd_find(argv[0]);
    if (!c) {
        const char *sug[3];
        int ns = qs_cmd_suggest(argv[0], sug, 3);
        if (ns == 0)
            qs_err_set(err, "unknown command '%s' (type 'help' for the list)", argv[0]);
        else if (ns == 1)
            qs_err_set(err, "unknown command '%s'; did you mean '%s'?", argv[0], sug[0]);
        else
            qs_err_set(err, "unknown command '%s'; did you mean %s%s%s%s%s?", argv[0],
                       "'", sug[0], ns == 2 ? "' or '" : "', '", sug[1],
                       ns == 2 ? "'" : "");
        if (ns == 3) {
            size_t l = strlen(err->msg);
            snprintf(err->msg + l - 1, sizeof err->msg - l + 1, "' or '%s'?", sug[2]);
        }
        qs_split_free(argv);
        return QS_ERR;
    }
    if (cmd_out) *cmd_out = c;
    qs_err_clear(err);
    /* A large tensor selected by load/use is converted by the first command that needs it. */
    if (!(c->flags & QS_CMD_NOTENSOR) && qs_session_materialize(s, err) != QS_OK) {
        qs_split_free(argv);
        return QS_ERR;
    }
    qs_session_resolve_axis(s, &s->scheme);     /* axis=auto: this tensor's channel axis */
    rc = c->run(s, argc - 1, argv + 1, &res, err);
    if (rc == QS_OK) {
        if (!res) res = json_object();
        if (record) {
            json_decref(s->last);
            s->last = json_incref(res);
            qs_session_remember(s, line);
        }
        *out = res;
    } else {
        json_decref(res);
        if (!err->msg[0]) qs_err_set(err, "%s: failed", c->name);
        else name_arg_error(c->name, argc - 1, argv + 1, err);
    }
    qs_split_free(argv);
    return rc;
}

/* ---- core commands: help ---------------------------------------------------------------- */

static json_t *cmd_json(const qs_cmd *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(c->name));
    json_object_set_new(o, "group", json_string(c->group ? c->group : ""));
    json_object_set_new(o, "usage", json_string(c->usage ? c->usage : c->name));
    json_object_set_new(o, "summary", json_string(c->summary ? c->summary : ""));
    char *opts = qs_cmd_options(c);
    json_object_set_new(o, "options", json_string(opts ? opts : (c->help ? c->help : "")));
    free(opts);
    json_object_set_new(o, "example", json_string(c->example ? c->example : ""));
    if (c->subs) {          /* a nested table: its rows' names (help CMD SUB shows each) */
        json_t *a = json_array();
        for (const qs_cmd *r = c->subs; r->name; r++) json_array_append_new(a, json_string(r->name));
        json_object_set_new(o, "subcommands", a);
    }
    return o;
}

/* 1 when w is a word the usage of c shows as a form of it (`lesson play`, `derive requant`,
 * `bits all`, `calib manual`; not a KEY of KEY=VALUE) or a choice of one of its word
 * arguments (`calib percentile`): `help CMD WORD` then shows CMD's help, which covers it. */
static int usage_form(const qs_cmd *c, const char *w)
{
    size_t wl = strlen(w);
    const char *u = c->usage ? c->usage : "";
    for (const char *p = u; *p;) {
        size_t l = strcspn(p, " |[]");
        if (l == wl && strncmp(p, w, wl) == 0 && p[l] != '=') return 1;
        p += l;
        if (*p) p++;
    }
    for (const qs_arg *a = c->args; a && a->type != QS_ARG_END; a++)
        if ((a->type == QS_ARG_WORD || a->type == QS_ARG_FLAG) &&
            (is_choice(a, w, wl) || (a->type == QS_ARG_FLAG && strcmp(a->name, w) == 0)))
            return 1;
    return 0;
}

static int run_help(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    (void)s;
    if (argc >= 1) {
        const qs_cmd *top = qs_cmd_find(argv[0]);
        if (!top) {
            const char *sug[1];
            if (qs_cmd_suggest(argv[0], sug, 1) == 1)
                return qs_err_set(err, "help: no command '%s'; did you mean '%s'?", argv[0],
                                  sug[0]);
            return qs_err_set(err, "help: no command '%s'", argv[0]);
        }
        if (argc >= 2 && top->subs) {
            /* help CMD SUB [SUB2 ...]: a row of a nested table, at any depth */
            const qs_cmd *c = top;
            for (int k = 1; k < argc; k++) {
                const qs_cmd *r = qs_cmd_sub(c, argv[k]);
                if (!r) {
                    char list[256], name[128];
                    size_t o = 0;
                    list[0] = '\0';
                    for (const qs_cmd *q = c->subs; q && q->name && o < sizeof list; q++)
                        o += (size_t)snprintf(list + o, sizeof list - o, "%s%s",
                                              q == c->subs ? "" : ", ", q->name);
                    qs_cmd_label(c, name, sizeof name);
                    if (!c->subs)
                        return qs_err_set(err, "help %s: has no subcommands (see 'help %s')",
                                          name, name);
                    return qs_err_set(err, "help %s: no subcommand '%s' (%s)", name, argv[k],
                                      list);
                }
                c = r;
            }
            json_t *o = cmd_json(c);
            char name[128];
            qs_cmd_label(c, name, sizeof name);
            json_object_set_new(o, "name", json_string(name));
            json_object_set_new(o, "help", json_string(name));
            *out = o;
            return QS_OK;
        }
        /* help CMD WORD: a form its usage shows (help lesson play, help derive requant) is
         * explained by CMD's own help */
        if (argc == 2 && !usage_form(top, argv[1]))
            return qs_err_set(err, "help %s: '%s' is not a form of %s (it has no subcommand "
                              "help); see 'help %s'", top->name, argv[1], top->name,
                              top->name);
        if (argc > 2)
            return qs_err_set(err, "help %s: one word after the command at most (%s has no "
                              "nested subcommands); see 'help %s'", top->name, top->name,
                              top->name);
        json_t *o = cmd_json(top);
        json_object_set_new(o, "help", json_string(top->name));
        *out = o;
        return QS_OK;
    }
    /* the list, group by group in the order the groups first appear (a module's rows may
     * join a group another module began: reshape and rescale are data commands) */
    json_t *arr = json_array();
    const char *groups_seen[QS_MAX_CMDS];
    int ng = 0;
    size_t g = 0, i = 0;
    const qs_cmd *c;
    while ((c = next_row(&g, &i)) && ng < QS_MAX_CMDS) {
        const char *gr = c->group ? c->group : "";
        int k = 0;
        while (k < ng && strcmp(groups_seen[k], gr)) k++;
        if (k == ng) groups_seen[ng++] = gr;
    }
    for (int k = 0; k < ng; k++) {
        g = i = 0;
        while ((c = next_row(&g, &i))) {
            if (strcmp(c->group ? c->group : "", groups_seen[k])) continue;
            json_t *o = json_object();
            json_object_set_new(o, "name", json_string(c->name));
            json_object_set_new(o, "group", json_string(c->group ? c->group : ""));
            json_object_set_new(o, "usage", json_string(c->usage ? c->usage : c->name));
            json_object_set_new(o, "summary", json_string(c->summary ? c->summary : ""));
            json_array_append_new(arr, o);
        }
    }
    *out = json_pack("{s:o}", "commands", arr);
    return QS_OK;
}

static int run_set(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    if (argc == 0) {
        *out = json_pack("{s:s, s:s, s:i}", "json", s->json ? "on" : "off", "color",
                         s->color < 0 ? "auto" : s->color ? "on" : "off", "precision",
                         s->precision);
        return QS_OK;
    }
    if (argc != 2) return qs_err_set(err, "set: usage: set json on|off | set color "
                                     "on|off|auto | set precision N");
    const char *k = argv[0], *v = argv[1];
    if (strcmp(k, "json") == 0) {
        if (strcmp(v, "on") && strcmp(v, "off"))
            return qs_err_set(err, "set json: expected on or off, not '%s'", v);
        s->json = strcmp(v, "on") == 0;
    } else if (strcmp(k, "color") == 0) {
        if (strcmp(v, "on") == 0) s->color = 1;
        else if (strcmp(v, "off") == 0) s->color = 0;
        else if (strcmp(v, "auto") == 0) s->color = -1;
        else return qs_err_set(err, "set color: expected on, off or auto, not '%s'", v);
    } else if (strcmp(k, "precision") == 0) {
        long long p;
        if (qs_parse_ll(v, &p) < 0 || p < 1 || p > 17)
            return qs_err_set(err, "set precision: expected an integer 1..17, not '%s'", v);
        s->precision = (int)p;
    } else {
        return qs_err_set(err, "set: unknown setting '%s' (json, color, precision)", k);
    }
    *out = json_pack("{s:s, s:s}", "set", k, "value", v);
    return QS_OK;
}

/* Appends word w to b quoted so that qscope's splitter and any POSIX shell read it the same
 * literal way: safe characters as they are, the rest inside '...', a ' as \' (no $, `, \,
 * glob, redirection or comment keeps a meaning). */
static int put_word(strbuf *b, const char *w)
{
    static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                               "_./=:,+@%^-";
    int inq = 0;
    if (!*w) return sb_put(b, '\'') || sb_put(b, '\'');
    for (const char *p = w; *p; p++) {
        int ok = strchr(safe, *p) != NULL && *p != '\0';
        if (*p == '\'') {
            if (inq && sb_put(b, '\'')) return -1;
            inq = 0;
            if (sb_put(b, '\\') || sb_put(b, '\'')) return -1;
            continue;
        }
        if (!ok && !inq) {
            if (sb_put(b, '\'')) return -1;
            inq = 1;
        }
        if (sb_put(b, *p)) return -1;
    }
    if (inq && sb_put(b, '\'')) return -1;
    return 0;
}

static int run_save(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    const char *path = NULL;
    int force = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--force") == 0) force = 1;
        else if (path) return qs_err_set(err, "save: usage: save FILE [--force]");
        else path = argv[i];
    }
    if (!path) return qs_err_set(err, "save: usage: save FILE [--force]");
    if (qs_cmd_check_path(s, "save", path, 1, err) != QS_OK) return QS_ERR;
    /* the first line says what the file is and stops any shell that is made to run it (';;'
     * is a syntax error to sh, bash and dash before they run a line); qscope skips it */
    strbuf b = {0};
    const char *head = QS_SCRIPT_MAGIC " qscope script, not a shell script: replay it with "
                       "'qscope FILE' or 'source FILE' in qscope\n";
    int n = 0, skipped = 0, oom = 0;
    for (const char *h = head; *h && !oom; h++) oom = sb_put(&b, *h) != 0;
    for (int i = 0; i < s->nhistory && !oom; i++) {
        char **w = NULL;
        int wc = qs_split(s->history[i], &w, NULL);
        if (wc <= 0 || strcmp(w[0], "save") == 0) {
            qs_split_free(w);
            continue;
        }
        int bad = 0;
        for (int k = 0; k < wc; k++) bad |= strpbrk(w[k], "\n\r") != NULL;
        if (bad) {                  /* a word spanning lines cannot be one script line */
            skipped++;
            qs_split_free(w);
            continue;
        }
        for (int k = 0; k < wc && !oom; k++)
            oom = (k && sb_put(&b, ' ')) || put_word(&b, w[k]);
        if (!oom) oom = sb_put(&b, '\n') != 0;
        qs_split_free(w);
        n++;
    }
    if (oom) {
        free(b.s);
        return qs_err_set(err, "save: out of memory");
    }
    int rc = qs_io_write_file("save", path, b.s, b.len, force, err);
    free(b.s);
    if (rc != QS_OK) return QS_ERR;
    *out = json_pack("{s:s, s:i, s:i}", "saved", path, "commands", n, "skipped", skipped);
    return QS_OK;
}

static int run_face_only(qs_session *s, int argc, char **argv, json_t **out, qs_err *err)
{
    (void)s; (void)argc; (void)argv; (void)out;
    return qs_err_set(err, "this command is handled by the REPL, the TUI or a script runner");
}

static const char *const save_words[] = {"--force", NULL};
static const char *const set_words[] = {"json", "color", "precision", "on", "off", "auto",
                                        NULL};

const qs_cmd qs_cmds_core[] = {
    {"help", "session", "help [COMMAND [SUBCOMMAND...]]", "list the commands, or show one "
     "command's (or subcommand's) usage, options and an example",
     "COMMAND     a command name\n"
     "SUBCOMMAND  a subcommand of a command with a nested table (help lab ptq, help lab gpt "
     "ptq); for another command, a form its usage shows (help derive requant, help lesson "
     "play) shows that command's help", "help load",
     NULL,
     QS_COMPL_COMMAND, QS_CMD_NOTENSOR, run_help, .kinds = QS_RK(QS_R_HELP)},
    {"set", "session", "set [json on|off | color on|off|auto | precision N]",
     "show or change output settings",
     "json on|off          print results as JSON lines\n"
     "color on|off|auto    colour output (auto: when a terminal and NO_COLOR is unset)\n"
     "precision N          significant digits of numbers (1..17, default 6)",
     "set precision 8", set_words, 0, QS_CMD_NOTENSOR, run_set, .kinds = QS_RK(QS_R_OBJECT)},
    {"source", "session", "source FILE", "run the commands of a script file",
     "FILE  a script (.qs): one command per line, '#' comments (e.g. one 'save' wrote)",
     "source session.qs", NULL,
     QS_COMPL_FILE, QS_CMD_FACE | QS_CMD_NOTENSOR | QS_CMD_READS, run_face_only,
     .kinds = QS_RK(QS_R_NONE)},
    {"save", "session", "save FILE [--force]", "write this session's successful commands as a "
     "replayable script (atomically; never through a symbolic link)",
     "FILE     the script to write (its first line marks it a qscope script, not a shell "
     "one)\n--force  replace an existing file (never done without it)", "save session.qs",
     save_words, QS_COMPL_FILE,
     QS_CMD_NOTENSOR | QS_CMD_WRITES, run_save, .kinds = QS_RK(QS_R_OBJECT)},
    {"quit", "session", "quit", "leave the REPL or the TUI (Ctrl-D also works)", "", "quit",
     NULL, 0, QS_CMD_FACE | QS_CMD_NOTENSOR, run_face_only, .kinds = QS_RK(QS_R_NONE)},
    {0},
};
