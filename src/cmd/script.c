/* script.c — qs_script: the one runner of command lines and script files (script.h). */
#include "qscope/script.h"
#include "qscope/io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fail(qs_script *r, const char *where, const char *msg, int rc)
{
    r->errors++;
    if (r->error) r->error(r, where, msg, rc);
}

/* The face operation for the line's first words, or NULL. */
static const qs_face_op *face_op(const qs_script *r, int argc, char **argv)
{
    for (const qs_face_op *op = r->ops; op && op->cmd; op++) {
        char **w = NULL;
        qs_err e = {{0}};
        int n = qs_split(op->cmd, &w, &e), match = n > 0 && n <= argc;
        for (int i = 0; match && i < n; i++) match = strcmp(w[i], argv[i]) == 0;
        qs_split_free(w);
        if (match) return op;
    }
    return NULL;
}

int qs_script_line(qs_script *r, const char *line, const char *where)
{
    qs_err err = {{0}};
    char **argv = NULL;
    int argc = qs_split(line, &argv, &err);
    if (argc < 0) {
        fail(r, where, err.msg, QS_ERR);
        return QS_ERR;
    }
    if (argc == 0) {
        qs_split_free(argv);
        return QS_OK;
    }
    if (strcmp(argv[0], "quit") == 0 || strcmp(argv[0], "exit") == 0) {
        r->quit = 1;
        qs_split_free(argv);
        return QS_OK;
    }
    if (strcmp(argv[0], "source") == 0) {
        int rc;
        if (argc != 2) {
            fail(r, where, "source: usage: source FILE", QS_ERR);
            rc = QS_ERR;
        } else if (r->s->source_depth >= QS_MAX_SOURCE_DEPTH) {
            snprintf(err.msg, sizeof err.msg, "source: %s: nested too deeply (more than %d "
                     "levels)", argv[1], QS_MAX_SOURCE_DEPTH);
            fail(r, where, err.msg, QS_ERR);
            r->unwinding = 1;
            rc = QS_CANCELLED;      /* every enclosing script stops here too */
        } else {
            if (r->s->source_depth == 0) r->s->source_count = 0;    /* a new top-level one */
            r->s->source_depth++;
            rc = qs_script_file(r, argv[1], 1, where);
            r->s->source_depth--;
            if (rc == QS_OK) qs_session_remember(r->s, line);
            if (r->s->source_depth == 0 && r->unwinding) {   /* back at the top: an error */
                r->unwinding = 0;
                rc = QS_ERR;
            }
        }
        qs_split_free(argv);
        return rc;
    }
    const qs_face_op *op = face_op(r, argc, argv);
    int orc = op ? op->run(r, argc, argv) : 1;
    if (orc != 1) {
        if (orc != QS_OK) r->errors++;
        else qs_session_remember(r->s, line);
        qs_split_free(argv);
        return orc;
    }
    qs_split_free(argv);

    json_t *res = NULL;
    const qs_cmd *cmd = NULL;
    int rc = qs_cmd_run_line(r->s, line, &res, &cmd, &err);
    if (rc == QS_ERR && strchr(line, ';')) {
        /* a line copied from -c or the prompt, where ';' separates commands; here it does
         * not (scripts, pipes and lessons take one command per line): say so */
        char **parts = NULL;
        qs_err se = {{0}};
        int n = qs_split_commands(line, &parts, &se);
        qs_split_free(parts);
        size_t l = strlen(err.msg);
        if (n > 1 && l + 1 < sizeof err.msg)
            snprintf(err.msg + l, sizeof err.msg - l, " (';' does not separate commands in "
                     "a script: one command per line)");
    }
    if (rc != QS_OK) {
        fail(r, where, rc == QS_CANCELLED && !err.msg[0] ? "cancelled" : err.msg, rc);
        return rc;
    }
    if (res && r->result) r->result(r, cmd, res, line);
    json_decref(res);
    return QS_OK;
}

int qs_script_text(qs_script *r, const char *text, const char *name)
{
    int lineno = 0, rc = QS_OK;
    const char *p = text;
    while (*p && !r->quit) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        int first = ++lineno;
        /* a line ending in an unescaped backslash goes on on the next (qs_split removes the
         * backslash-newline): one command, named by its first line */
        for (;;) {
            size_t e = len, k = 0;
            if (e && p[e - 1] == '\r') e--;
            while (k < e && p[e - 1 - k] == '\\') k++;
            if (!nl || k % 2 == 0) break;
            const char *nl2 = strchr(nl + 1, '\n');
            len = nl2 ? (size_t)(nl2 - p) : strlen(p);
            nl = nl2;
            lineno++;
        }
        char *line = strndup(p, len);
        char where[1100];
        r->lines++;
        if (!line) return QS_ERR;
        if (len && line[len - 1] == '\r') line[len - 1] = '\0';
        if (first == 1 && strncmp(line, QS_SCRIPT_MAGIC " ", 3) == 0) {   /* save's mark */
            free(line);
            if (!nl) break;
            p = nl + 1;
            continue;
        }
        snprintf(where, sizeof where, "%s:%d", name ? name : "", first);
        int lrc = qs_script_line(r, line, name ? where : NULL);
        free(line);
        if (lrc != QS_OK) {
            rc = lrc;
            if (r->stop_on_error || lrc == QS_CANCELLED) break;
        }
        if (!nl) break;
        p = nl + 1;
    }
    return rc;
}

int qs_script_file(qs_script *r, const char *path, int sourced, const char *where)
{
    qs_err re = {{0}};
    /* a FIFO would block and /dev/zero never end: only regular files are scripts; and a
     * script that sources others may run at most QS_MAX_SOURCED files in all */
    if (strcmp(path, "-") != 0 &&
        qs_io_check_regular(sourced ? "source" : NULL, path, &re) != QS_OK) {
        fail(r, where, re.msg, QS_ERR);
        return QS_ERR;
    }
    if (sourced && ++r->s->source_count > QS_MAX_SOURCED) {
        snprintf(re.msg, sizeof re.msg, "source: %s: more than %d scripts sourced by one "
                 "command (a script that sources itself several times?)", path, QS_MAX_SOURCED);
        fail(r, where, re.msg, QS_ERR);
        r->unwinding = 1;
        return QS_CANCELLED;        /* every enclosing script stops here too */
    }
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) {
        char msg[1100];
        snprintf(msg, sizeof msg, "%s%s: %s", sourced ? "source: " : "", path, strerror(errno));
        fail(r, where, msg, QS_ERR);
        return QS_ERR;
    }
    char *buf = NULL;
    size_t cap = 0, len = 0;
    char chunk[65536];
    size_t k;
    while ((k = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + k + 1 > cap) {
            size_t nc = (len + k + 1) * 2;
            char *nb = realloc(buf, nc);
            if (!nb) { free(buf); if (f != stdin) fclose(f); return QS_ERR; }
            buf = nb;
            cap = nc;
        }
        memcpy(buf + len, chunk, k);
        len += k;
        if (len > QS_MAX_SCRIPT_BYTES) {
            free(buf);
            if (f != stdin) fclose(f);
            snprintf(re.msg, sizeof re.msg, "%s%s: too large for a script (over %d bytes)",
                     sourced ? "source: " : "", path, QS_MAX_SCRIPT_BYTES);
            fail(r, where, re.msg, QS_ERR);
            return QS_ERR;
        }
    }
    if (f != stdin) fclose(f);
    if (!buf) return QS_OK;
    buf[len] = '\0';
    if (memchr(buf, '\0', len)) {
        char msg[1100];
        snprintf(msg, sizeof msg, "%s%s: not a text script (contains NUL bytes)",
                 sourced ? "source: " : "", path);
        fail(r, where, msg, QS_ERR);
        free(buf);
        return QS_ERR;
    }
    int rc = qs_script_text(r, buf, path);
    free(buf);
    return rc;
}
