/* script.c — runs command lines and scripts for every face: renders each result (text or
 * JSON lines), reports errors as "qscope: FILE:LINE: message", handles source and quit. */
#include "front/front.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define QS_MAX_SOURCE_DEPTH 8

static void report(qs_runner *r, const char *where, const char *msg)
{
    if (r->before_output) r->before_output(r->before_ctx);
    if (where) fprintf(r->errf, "qscope: %s: %s\n", where, msg);
    else fprintf(r->errf, "qscope: %s\n", msg);
    fflush(r->errf);
}

static int run_file_at(qs_runner *r, const char *path, int sourced, const char *where);

int qs_run_line(qs_runner *r, const char *line, const char *where)
{
    qs_err err = {{0}};
    char **argv = NULL;
    int argc = qs_split(line, &argv, &err);
    if (argc < 0) {
        r->errors++;
        report(r, where, err.msg);
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
            r->errors++;
            report(r, where, "source: usage: source FILE");
            rc = QS_ERR;
        } else if (r->s->source_depth >= QS_MAX_SOURCE_DEPTH) {
            r->errors++;
            snprintf(err.msg, sizeof err.msg, "source: %s: nested too deeply (more than %d "
                     "levels)", argv[1], QS_MAX_SOURCE_DEPTH);
            report(r, where, err.msg);
            rc = QS_ERR;
        } else {
            r->s->source_depth++;
            rc = run_file_at(r, argv[1], 1, where);
            r->s->source_depth--;
            if (rc == QS_OK) qs_session_remember(r->s, line);
        }
        qs_split_free(argv);
        return rc;
    }
    qs_split_free(argv);

    json_t *res = NULL;
    const qs_cmd *cmd = NULL;
    int rc = qs_cmd_run_line(r->s, line, &res, &cmd, &err);
    if (rc != QS_OK) {
        r->errors++;
        report(r, where, rc == QS_CANCELLED && !err.msg[0] ? "cancelled" : err.msg);
        return rc;
    }
    if (res) {
        if (r->before_output) r->before_output(r->before_ctx);
        if (r->s->json) {
            qs_render_json(r->out, res);
        } else {
            qs_render_opts o;
            qs_render_opts_for(r->s, r->out, &o);
            qs_render_text(r->out, cmd, res, &o);
            fflush(r->out);
        }
    }
    json_decref(res);
    return QS_OK;
}

int qs_run_text(qs_runner *r, const char *text, const char *name)
{
    int lineno = 0, rc = QS_OK;
    const char *p = text;
    while (*p && !r->quit) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char *line = strndup(p, len);
        char where[1100];
        lineno++;
        if (!line) return QS_ERR;
        if (len && line[len - 1] == '\r') line[len - 1] = '\0';
        snprintf(where, sizeof where, "%s:%d", name, lineno);
        int lrc = qs_run_line(r, line, name ? where : NULL);
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

int qs_run_file(qs_runner *r, const char *path)
{
    return run_file_at(r, path, 0, NULL);
}

/* Runs the script at path; sourced: by a `source` command, at `where` (its FILE:LINE, or
 * NULL) which prefixes an error opening the script. */
static int run_file_at(qs_runner *r, const char *path, int sourced, const char *where)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) {
        char msg[1100];
        snprintf(msg, sizeof msg, "%s%s: %s", sourced ? "source: " : "", path, strerror(errno));
        r->errors++;
        report(r, where, msg);
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
    }
    if (f != stdin) fclose(f);
    if (!buf) return QS_OK;
    buf[len] = '\0';
    if (memchr(buf, '\0', len)) {
        char msg[1100];
        snprintf(msg, sizeof msg, "%s%s: not a text script (contains NUL bytes)",
                 sourced ? "source: " : "", path);
        r->errors++;
        report(r, where, msg);
        free(buf);
        return QS_ERR;
    }
    int rc = qs_run_text(r, buf, path);
    free(buf);
    return rc;
}
