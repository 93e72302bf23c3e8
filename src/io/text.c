/* text.c — numbers as plain text or CSV: separated by whitespace, commas or semicolons, '#'
 * comments, an optional header line of non-numbers first; one tensor named after the file,
 * 2-D [rows, cols] when every row has the same count > 1, else 1-D. */
#include "io_priv.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>

/* Growing array of parsed values. */
typedef struct values {
    float *v;       /* values (heap) */
    size_t n;       /* used */
    size_t cap;     /* allocated */
} values;

static int push(values *vs, float x)
{
    if (vs->n == vs->cap) {
        size_t cap = vs->cap ? vs->cap * 2 : 1024;
        if (cap > SIZE_MAX / sizeof(float)) return QS_ERR;
        float *p = realloc(vs->v, cap * sizeof(float));
        if (!p) return QS_ERR;
        vs->v = p;
        vs->cap = cap;
    }
    vs->v[vs->n++] = x;
    return QS_OK;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }
static int is_delim(char c) { return c == ',' || c == ';'; }

/* Parses the token s[0..len) as a number in the C locale ("1.5", "-2e3", "nan", "inf");
 * surrounding double or single quotes are allowed. */
static int parse_number(const char *s, size_t len, locale_t loc, float *out)
{
    if (len >= 2 && (s[0] == '"' || s[0] == '\'') && s[len - 1] == s[0]) {
        s++;
        len -= 2;
    }
    if (len == 0 || len > QS_IO_TOKEN_MAX) return QS_ERR;
    char buf[QS_IO_TOKEN_MAX + 1];
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    double d = strtod_l(buf, &end, loc);
    if (end != buf + len) return QS_ERR;
    *out = qs_io_d2f(d);
    return QS_OK;
}

/* Token boundaries inside one line. */
typedef struct token {
    const char *s;  /* first byte */
    size_t len;     /* bytes */
} token;

/* Finds the next token in [*p, end): skips whitespace, consumes one delimiter after it
 * (so a trailing delimiter at the end of a line is allowed).
 * Returns 1 with a token, 0 at the end of the line, -1 for an empty field (two delimiters,
 * or a delimiter first). */
static int next_token(const char **p, const char *end, token *t)
{
    const char *s = *p;
    while (s < end && is_space(*s)) s++;
    if (s == end) {
        *p = s;
        return 0;
    }
    if (is_delim(*s)) {             /* a delimiter where a value should be */
        *p = s;
        return -1;
    }
    const char *b = s;
    while (s < end && !is_space(*s) && !is_delim(*s)) s++;
    t->s = b;
    t->len = (size_t)(s - b);
    while (s < end && is_space(*s)) s++;
    if (s < end && is_delim(*s)) s++;
    *p = s;
    return 1;
}

int qs_io_text_open(qs_file *f, qs_err *err)
{
    const char *P = f->path;
    const char *buf = (const char *)f->map;
    size_t len = f->maplen;
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {     /* UTF-8 byte order mark */
        buf += 3;
        len -= 3;
    }
    locale_t loc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (loc == (locale_t)0) return qs_err_set(err, "%s: cannot create the C locale", P);

    values vs = {NULL, 0, 0};
    int rc = QS_ERR;
    int64_t rows = 0, cols = -1;
    int uniform = 1, seen_content = 0;
    size_t line = 0;
    const char *header = NULL;
    size_t header_len = 0;
    const char *p = buf, *end = buf + len;
    while (p < end) {
        line++;
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) eol = end;
        if (memchr(p, '\0', (size_t)(eol - p))) {
            qs_err_set(err, "%s:%zu: a NUL byte: binary data, not text", P, line);
            goto done;
        }
        const char *cut = memchr(p, '#', (size_t)(eol - p));
        const char *lend = cut ? cut : eol;
        const char *lbeg = p;
        p = eol < end ? eol + 1 : end;

        /* The first line with tokens is a header when none of them is a number. */
        if (!seen_content) {
            const char *s = lbeg;
            int ntok = 0, nnum = 0, r;
            token t;
            while ((r = next_token(&s, lend, &t)) == 1) {
                float x;
                ntok++;
                if (parse_number(t.s, t.len, loc, &x) == QS_OK) nnum++;
            }
            if (ntok == 0 && r == 0) continue;      /* blank or comment-only line */
            seen_content = 1;
            if (ntok > 0 && nnum == 0 && r == 0) {
                header = lbeg;
                header_len = (size_t)(lend - lbeg);
                continue;
            }
        }

        const char *s = lbeg;
        int r;
        int64_t count = 0;
        token t;
        while ((r = next_token(&s, lend, &t)) == 1) {
            float x;
            if (parse_number(t.s, t.len, loc, &x) != QS_OK) {
                char q[QS_IO_QUOTE_LEN];
                qs_io_quote(q, t.s, t.len);
                qs_err_set(err, "%s:%zu: '%s' is not a number", P, line, q);
                goto done;
            }
            if (push(&vs, x) != QS_OK) {
                qs_err_set(err, "%s: out of memory", P);
                goto done;
            }
            count++;
        }
        if (r < 0) {
            qs_err_set(err, "%s:%zu: empty field (two separators with no number between)", P,
                       line);
            goto done;
        }
        if (count == 0) continue;
        rows++;
        if (cols < 0) cols = count;
        else if (cols != count) uniform = 0;
    }
    if (vs.n == 0) {
        qs_err_set(err, "%s: no numbers found", P);
        goto done;
    }
    if (vs.n > (size_t)INT64_MAX) goto done;

    f->entries = calloc(1, sizeof *f->entries);
    if (!f->entries) {
        qs_err_set(err, "%s: out of memory", P);
        goto done;
    }
    qs_entry *e = &f->entries[0];
    f->n = 1;
    if (!(e->name = qs_io_stem(P))) {
        qs_err_set(err, "%s: out of memory", P);
        goto done;
    }
    e->dtype = QS_DT_TEXT;
    e->n = (int64_t)vs.n;
    if (rows >= 2 && uniform && cols > 1) {
        e->ndim = 2;
        e->shape[0] = rows;
        e->shape[1] = cols;
    } else {
        e->ndim = 1;
        e->shape[0] = e->n;
    }
    e->nbytes = f->maplen;
    e->offset = 0;
    if (header) {
        while (header_len > 0 && is_space(header[header_len - 1])) header_len--;
        char q[QS_IO_QUOTE_LEN];
        qs_io_quote(q, header, header_len);
        if (qs_io_meta_add(f, "header", q, err) != QS_OK) goto done;
    }
    f->text_values = vs.v;
    vs.v = NULL;
    rc = QS_OK;
done:
    free(vs.v);
    freelocale(loc);
    return rc;
}
