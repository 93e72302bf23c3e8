/* script.c — the text faces' end of the library's runner (qscope/script.h): renders each
 * result (text or JSON lines) and reports errors as "qscope: FILE:LINE: message". */
#include "front/front.h"
#include "qscope/io.h"

#include <stdlib.h>
#include <string.h>

#include "qscope/script.h"

static void on_error(qs_script *sc, const char *where, const char *msg, int rc)
{
    qs_runner *r = sc->ctx;
    (void)rc;
    if (r->before_output) r->before_output(r->before_ctx);
    /* messages quote names, file names and lines from files: escaped like every such text */
    fputs("qscope: ", r->errf);
    if (where) {
        qs_fput_escaped(r->errf, where, 0);
        fputs(": ", r->errf);
    }
    qs_fput_escaped(r->errf, msg, 0);
    fputc('\n', r->errf);
    fflush(r->errf);
}

static void on_result(qs_script *sc, const qs_cmd *cmd, json_t *res, const char *line)
{
    qs_runner *r = sc->ctx;
    (void)line;
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

static qs_script script_of(qs_runner *r)
{
    qs_script sc = { .s = r->s, .stop_on_error = r->stop_on_error, .result = on_result,
                     .error = on_error, .ops = r->ops, .ctx = r };
    return sc;
}

static int done(qs_runner *r, const qs_script *sc, int rc)
{
    r->errors += sc->errors;
    if (sc->quit) r->quit = 1;
    return rc;
}

int qs_run_line(qs_runner *r, const char *line, const char *where)
{
    qs_script sc = script_of(r);
    return done(r, &sc, qs_script_line(&sc, line, where));
}

int qs_run_text(qs_runner *r, const char *text, const char *name)
{
    qs_script sc = script_of(r);
    return done(r, &sc, qs_script_text(&sc, text, name));
}

int qs_run_file(qs_runner *r, const char *path)
{
    qs_script sc = script_of(r);
    return done(r, &sc, qs_script_file(&sc, path, 0, NULL));
}
