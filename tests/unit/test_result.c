/* test_result.c — result kinds (qscope/result.h): every command row, at every depth, declares
 * the kinds it returns; every result a command returns (each row's example, the lab's
 * subcommands in order, and the shape variants of bits, hist, derive, help...) has the shape
 * of a kind its row declares; the checks refuse a result of another shape; the typed views
 * decode what the faces draw. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qscope/cmd.h"
#include "qscope/result.h"

/* Every row and sub row, depth first; fn(row, parent). */
static void walk(const qs_cmd *rows, const qs_cmd *parent,
                 void (*fn)(const qs_cmd *, const qs_cmd *))
{
    for (const qs_cmd *c = rows; c->name; c++) {
        fn(c, parent);
        if (c->subs) walk(c->subs, c, fn);
    }
}

static int nrows;
static void check_row(const qs_cmd *c, const qs_cmd *parent)
{
    nrows++;
    cr_expect_neq(c->kinds, 0u, "row '%s' declares no result kind", c->name);
    cr_expect_eq(c->kinds & ~(QS_RK_ALL | QS_RK(QS_R_NONE)), 0u,
                 "row '%s' declares a kind out of range", c->name);
    if (c->kinds & QS_RK(QS_R_NONE))
        cr_expect(c->flags & QS_CMD_FACE, "row '%s' returns nothing but is not a face row",
                  c->name);
    if (parent)
        cr_expect_eq(c->kinds & ~parent->kinds, 0u,
                     "row '%s' returns a kind its parent '%s' does not declare", c->name,
                     parent->name);
}

Test(result, every_row_declares_kinds)
{
    for (int i = 0; i < qs_cmd_count(); i++) {
        const qs_cmd *c = qs_cmd_at(i);
        check_row(c, NULL);
        if (c->subs) walk(c->subs, c, check_row);
    }
    cr_assert_gt(nrows, 40);
    for (int k = 0; k < QS_R_COUNT; k++)
        cr_expect_neq(strcmp(qs_result_kind_name((qs_result_kind)k), "?"), 0);
}

/* Runs line on s; on success checks the result against the row's kinds and marks the row
 * (the sub row for `lab X` / `lab gpt X`) as seen. */
#define MAXSEEN 256
static const qs_cmd *seen[MAXSEEN];
static int nseen;

static const qs_cmd *leaf(const qs_cmd *c, const char *line)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", line);
    char *save = NULL, *w = strtok_r(buf, " ", &save);     /* the command word */
    while (c && c->subs && (w = strtok_r(NULL, " ", &save))) {
        const qs_cmd *s = qs_cmd_sub(c, w);
        if (!s) break;
        c = s;
    }
    return c;
}

static int run_checked(qs_session *s, const char *line)
{
    json_t *out = NULL;
    const qs_cmd *cmd = NULL;
    qs_err err = {{0}};
    int rc = qs_cmd_run_line(s, line, &out, &cmd, &err);
    if (rc != QS_OK) return rc;
    cr_assert_not_null(cmd, "%s: no row", line);
    const qs_cmd *row = leaf(cmd, line);
    int ok = 0;
    char why[2048] = "";
    for (int k = 0; k < QS_R_COUNT; k++) {
        if (!(row->kinds & QS_RK(k))) continue;
        qs_err e = {{0}};
        if (qs_result_check((qs_result_kind)k, out, &e) == QS_OK) ok = 1;
        else snprintf(why + strlen(why), sizeof why - strlen(why), " [%s]", e.msg);
    }
    char *js = json_dumps(out, JSON_COMPACT);
    cr_expect(ok, "'%s' (row %s, kinds 0x%x): no declared kind fits:%s\n  %.300s", line,
              row->name, row->kinds, why, js ? js : "");
    free(js);
    /* the kind a face draws is one the row declares */
    qs_result_kind k = qs_result_kind_of(row->kinds, out);
    cr_expect(row->kinds & QS_RK(k), "'%s': drawn as %s, not declared", line,
              qs_result_kind_name(k));
    if (nseen < MAXSEEN) seen[nseen++] = row;
    json_decref(out);
    return rc;
}

static int was_seen(const qs_cmd *c)
{
    for (int i = 0; i < nseen; i++)
        if (seen[i] == c) return 1;
    return 0;
}

static char dir[64];

static void enter_tmpdir(void)
{
    const char *top = getenv("QSCOPE_TOP");
    char cwd[4096], link[4200];
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    if (!top || !*top) top = cwd;
    snprintf(dir, sizeof dir, "/tmp/qscope_result_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(link, sizeof link, "%s/datasets", top);
    cr_assert_eq(chdir(dir), 0);
    cr_assert_eq(symlink(link, "datasets"), 0);
    snprintf(link, sizeof link, "%s/lessons", top);
    cr_assert_eq(symlink(link, "lessons"), 0);
}

static void leave_tmpdir(void)
{
    unlink("datasets");
    unlink("lessons");
    unlink("session.qs");
    unlink("mlp.safetensors");
    cr_assert_eq(chdir("/"), 0);
    rmdir(dir);
}

static void fresh(qs_session *s)
{
    qs_session_init(s);
    qs_err err = {{0}};
    json_t *out = NULL;
    cr_assert_eq(qs_cmd_run_line(s, "load datasets/default.npy", &out, NULL, &err), QS_OK,
                 "%s", err.msg);
    json_decref(out);
}

/* Shape variants the examples do not reach. */
static const char *const variants[] = {
    "bits 7.32 all", "bits all fp8-e4m3", "bits 0x40EA3D71", "bits 1 e8m0", "bits 7 int8",
    "bits 7.32 fp16 flip=3", "hist log", "hist bins=8 range=-1:1", "derive", "derive 0.5",
    "derive requant", "calib mse", "calib entropy", "calib histogram", "codes value=0.3",
    "codes code=3", "help", "help lab", "help lab gpt ptq", "scheme", "set", "lesson list",
    "lesson check lessons/01-why-quantize.lesson", "scheme int4 sym per-channel axis=0",
    "derive 0.5 channel=1", "scheme nf4", "derive", "scheme q4_k", "derive", "scheme mxfp4",
    "derive", "qparams", "scheme fp8-e4m3", "qparams", "derive",
    "scheme nf4", "qparams", "scheme q4_k", "qparams", "scheme int8", "qparams",
    "scheme nvfp4", "qparams", "scheme int4 per-group size=32", "qparams", "scheme q8_0",
    "qparams",
    "values nan inf", "stats",      /* min, max... "nan": still a stats result */
    "values 1 2 3", "synth normal n=100", "stats", "tensors",
};

Test(result, every_result_has_a_declared_shape)
{
    qs_session s;
    enter_tmpdir();
    /* every top row's example, on the shipped tensor (`source` after `save` wrote the file) */
    for (int i = 0; i < qs_cmd_count(); i++) {
        const qs_cmd *c = qs_cmd_at(i);
        if (!c->example || !*c->example || (c->flags & QS_CMD_FACE)) continue;
        fresh(&s);
        run_checked(&s, c->example);
        qs_session_fini(&s);
    }
    fresh(&s);              /* in order: a scheme line sets up the derive after it */
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++)
        cr_expect_eq(run_checked(&s, variants[i]), QS_OK, "'%s' failed", variants[i]);
    qs_session_fini(&s);
    /* the lab's subcommands, in the order they need each other */
    static const char *const lab[] = {
        "lab status", "lab train epochs=1", "lab ptq bits=4", "lab qat bits=4 epochs=1",
        "lab sweep bits=4..8", "lab int", "lab lora epochs=1", "lab qlora epochs=1",
        "lab status", "lab save mlp.safetensors", "lab load mlp.safetensors", "lab gpt status",
    };
    fresh(&s);
    for (size_t i = 0; i < sizeof lab / sizeof lab[0]; i++)
        cr_expect_eq(run_checked(&s, lab[i]), QS_OK, "'%s' failed", lab[i]);
    qs_session_fini(&s);
    leave_tmpdir();
    /* every row that returns a result was run, except the GPT lab's, which need
     * datasets/kjv.txt (`make datasets`) and minutes of training */
    for (int i = 0; i < qs_cmd_count(); i++) {
        const qs_cmd *c = qs_cmd_at(i);
        if (c->flags & QS_CMD_FACE) continue;
        cr_expect(was_seen(c) || c->subs, "row '%s' was never run", c->name);
        for (const qs_cmd *sub = c->subs; sub && sub->name; sub++)
            cr_expect(was_seen(sub) || sub->subs, "row '%s %s' was never run", c->name,
                      sub->name);
    }
}

/* The checks tell the shapes apart: a histogram is not bits, an object with counts and edges
 * is not a generic object, a trace needs its steps. */
Test(result, checks_refuse_other_shapes)
{
    json_t *h = json_pack("{s:[i,i], s:[f,f,f], s:b}", "counts", 1, 2, "edges", 0.0, 0.5, 1.0,
                          "log", 0);
    cr_assert_eq(qs_result_check(QS_R_HIST, h, NULL), QS_OK);
    cr_assert_eq(qs_result_check(QS_R_OBJECT, h, NULL), QS_ERR);
    cr_assert_eq(qs_result_check(QS_R_BITS, h, NULL), QS_ERR);
    cr_assert_eq(qs_result_kind_of(QS_RK(QS_R_OBJECT), h), QS_R_OBJECT);
    cr_assert_eq(qs_result_kind_of(QS_RK_ALL, h), QS_R_HIST);
    qs_hist_view v;
    cr_assert_eq(qs_hist_view_get(h, &v, NULL), QS_OK);
    cr_assert_eq(v.n, 2);
    cr_assert_eq(v.counts[1], 2);
    cr_assert_float_eq(v.edges[2], 1.0, 0);
    qs_hist_view_free(&v);
    json_array_append_new(json_object_get(h, "edges"), json_real(2));  /* n + 2 edges */
    cr_assert_eq(qs_result_check(QS_R_HIST, h, NULL), QS_ERR);
    json_decref(h);
    h = json_pack("{s:[f], s:[f,f]}", "counts", 1.5, "edges", 0.0, 1.0);  /* real count */
    cr_assert_eq(qs_result_check(QS_R_HIST, h, NULL), QS_ERR);
    json_decref(h);

    json_t *b = json_pack("{s:s, s:s, s:s, s:s, s:s}", "format", "fp16", "hex", "0x4000",
                          "sign_bits", "0", "exponent_bits", "10000", "mantissa_bits",
                          "0000000000");
    qs_bits_view bv;
    cr_assert_eq(qs_bits_view_get(b, &bv, NULL), QS_OK);
    cr_assert_str_eq(bv.exponent_bits, "10000");
    cr_assert_eq(qs_result_kind_of(QS_RK(QS_R_BITS) | QS_RK(QS_R_TABLE), b), QS_R_BITS);
    json_object_set_new(b, "sign", json_string("+"));
    cr_assert_eq(qs_result_check(QS_R_BITS, b, NULL), QS_ERR);
    json_decref(b);

    json_t *t = json_pack("{s:[{s:s, s:f}], s:i}", "steps", "title", "scale", "result", 0.5,
                          "n", 1);
    cr_assert_eq(qs_result_check(QS_R_TRACE, t, NULL), QS_OK);
    cr_assert_eq(qs_result_check(QS_R_OBJECT, t, NULL), QS_ERR);
    json_array_append_new(json_object_get(t, "steps"), json_pack("{s:i}", "title", 3));
    cr_assert_eq(qs_result_check(QS_R_TRACE, t, NULL), QS_ERR);
    json_decref(t);

    /* qparams: a single number reads as an array of one, null qmin as NaN, a per-channel
     * parameter of a set past the end as the first; a real zero point is refused */
    json_t *q = json_pack("{s:s, s:f, s:[i,i], s:n, s:i, s:[f,f], s:[f,f]}", "label", "x",
                          "scale", 0.5, "zero_point", 3, 4, "qmin", "qmax", 7, "clip_min",
                          -1.0, -2.0, "clip_max", 1.0, 2.0);
    qs_qparams_view qv;
    cr_assert_eq(qs_qparams_view_get(q, &qv, NULL), QS_OK);
    cr_assert_eq(qv.nscale, 1);
    cr_assert_float_eq(qs_view_at(qv.scale, qv.nscale, 5), 0.5, 0);
    cr_assert_float_eq(qs_view_zp(&qv, 1, -9), 4, 0);
    cr_assert_float_eq(qs_view_zp(&qv, 7, -9), 3, 0);
    cr_assert(isnan(qv.qmin));
    cr_assert_float_eq(qv.qmax, 7, 0);
    cr_assert_float_eq(qs_view_at(qv.clip_max, qv.nclip, 1), 2.0, 0);
    cr_assert_eq(qv.has_codebook, 0);
    qs_qparams_view_free(&qv);
    cr_assert_eq(qs_result_check(QS_R_QPARAMS, q, NULL), QS_ERR);  /* a result's scale[] */
    json_object_set_new(q, "scale", json_pack("[f]", 0.5));
    cr_assert_eq(qs_result_check(QS_R_QPARAMS, q, NULL), QS_OK);
    json_array_set_new(json_object_get(q, "zero_point"), 0, json_real(0.5));
    cr_assert_eq(qs_qparams_view_get(q, &qv, NULL), QS_ERR);
    cr_assert_eq(qs_result_check(QS_R_QPARAMS, q, NULL), QS_ERR);
    json_decref(q);

    /* NaN and infinities are the strings qs_json_real writes, never null: the checks and the
     * views read them as numbers */
    json_t *st = json_pack("{s:i, s:s, s:s, s:s, s:n}", "n", 2, "min", "nan", "max", "inf",
                           "mean", "-inf", "std");
    cr_assert_eq(qs_result_check(QS_R_STATS, st, NULL), QS_OK);
    json_object_set_new(st, "min", json_string("big"));
    cr_assert_eq(qs_result_check(QS_R_STATS, st, NULL), QS_ERR);
    json_decref(st);
    q = json_pack("{s:s, s:[f], s:[i], s:i, s:i, s:[s], s:[s], s:s}", "label", "x", "scale",
                  0.5, "zero_point", 0, "qmin", -8, "qmax", 7, "clip_min", "-inf", "clip_max",
                  "inf", "elem_max", "inf");
    cr_assert_eq(qs_qparams_view_get(q, &qv, NULL), QS_OK);
    cr_assert(isinf(qv.clip_min[0]) && qv.clip_min[0] < 0);
    cr_assert(isinf(qv.clip_max[0]) && qv.clip_max[0] > 0);
    cr_assert(isinf(qv.elem_max));
    qs_qparams_view_free(&qv);
    cr_assert_eq(qs_result_check(QS_R_QPARAMS, q, NULL), QS_OK);
    json_decref(q);

    json_t *x = json_pack("{s:s}", "text", "hello");
    cr_assert_eq(qs_result_kind_of(QS_RK_ALL, x), QS_R_TEXT);
    cr_assert_eq(qs_result_check(QS_R_OBJECT, x, NULL), QS_ERR);
    json_decref(x);
    cr_assert_eq(qs_result_kind_of(QS_RK_ALL, NULL), QS_R_NONE);
}
