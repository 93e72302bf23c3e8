/* test_tui.c — the TUI without a terminal: the binding table (help generated from it, no
 * clashes), the tab bar layout behind mouse clicks, the model built from a session (stats and
 * per-channel ranges of the bundled tensor against numpy's, tests/golden/tui_default.txt),
 * key handlers' flags and model transitions on every screen, the Bits screen against the
 * reference sheet's 7.32 example, the seed examples on the Derive screen, the worker thread,
 * the lesson player and a lesson's @highlight drawn on the screen it drives. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ctype.h>
#include <dirent.h>
#include <strings.h>
#include <fcntl.h>
#include <unistd.h>

#include "../../src/tui/tui_int.h"
#include "qscope/calib.h"
#include "qscope/kernels.h"

#define TOL_F32 1e-6        /* relative: float32 values printed with 9 digits */
#define TOL_STAT 1e-9       /* relative: mean / std accumulated in double */

static qs_session S;
static qs_tui_model M;

/* Path of a repository file, from $QSCOPE_TOP when set (tests/run.sh), else the cwd. */
static const char *top_path(const char *rel)
{
    static char buf[4096];
    const char *top = getenv("QSCOPE_TOP");
    snprintf(buf, sizeof buf, "%s/%s", top && *top ? top : ".", rel);
    return buf;
}

static void run(const char *line)
{
    json_t *out = NULL;
    qs_err err = {{0}};
    int rc = qs_cmd_run_line(&S, line, &out, NULL, &err);
    cr_assert_eq(rc, QS_OK, "%s: %s", line, err.msg);
    json_decref(out);
}

static void setup_default(void)
{
    char line[4200];
    qs_kernels_init();
    qs_session_init(&S);
    snprintf(line, sizeof line, "load \"%s\"", top_path("datasets/default.npy"));
    run(line);
    qs_tui_model_init(&M, &S, 80, 24);
}

static void setup_values(void)
{
    qs_kernels_init();
    qs_session_init(&S);
    run("values -20 1000");
    qs_tui_model_init(&M, &S, 80, 24);
}

static void teardown(void)
{
    qs_tui_model_fini(&M);
    qs_session_fini(&S);
}

static int close_rel(double a, double b, double tol)
{
    return fabs(a - b) <= tol * fmax(fabs(a), fabs(b)) || a == b;
}

/* ---- the binding table ------------------------------------------------------------------ */

Test(bindings, no_key_bound_twice_on_a_screen)
{
    for (const qs_tui_binding *a = qs_tui_bindings; a->act != QA_NONE; a++)
        for (const qs_tui_binding *b = a + 1; b->act != QA_NONE; b++)
            cr_expect(!(a->screen == b->screen && a->key == b->key),
                      "key %d bound twice on screen %d", a->key, a->screen);
}

Test(bindings, every_row_is_described_or_an_alternative)
{
    /* the help screen shows described rows; a row without help is an alternative key for the
     * row just above it (same screen), whose label names the alternatives ("+/-", "1-6") */
    const qs_tui_binding *described = NULL;
    for (const qs_tui_binding *a = qs_tui_bindings; a->act != QA_NONE; a++) {
        cr_expect(a->label && *a->label, "a row without a key label");
        if (a->help) {
            cr_expect(*a->help, "empty help for '%s'", a->label);
            described = a;
            continue;
        }
        cr_expect(described && described->screen == a->screen,
                  "'%s' has no help and follows no described row of its screen", a->label);
    }
}

Test(bindings, screen_rows_win_over_global_rows)
{
    /* 'v' is global nowhere but means different things on Data, Derive and Bits */
    cr_assert_eq(qs_tui_binding_find(QS_SCR_DATA, 'v')->act, QA_CHANNELS);
    cr_assert_eq(qs_tui_binding_find(QS_SCR_DERIVE, 'v')->act, QA_VALUE);
    cr_assert_eq(qs_tui_binding_find(QS_SCR_BITS, 'v')->act, QA_BITS_VALUE);
    cr_assert_eq(qs_tui_binding_find(QS_SCR_BITS, 'q')->act, QA_QUIT);
    cr_assert_null(qs_tui_binding_find(QS_SCR_DATA, 'Z'));
}

Test(tabs, clicks_map_to_the_drawn_tabs)
{
    int prev_end = 0;
    for (int i = 0; i < QS_SCR_COUNT; i++) {
        int x0, x1;
        qs_tui_tab_span(i, &x0, &x1);
        cr_assert_gt(x1, x0);
        cr_assert_gt(x0, prev_end - 1);
        cr_assert_eq(qs_tui_tab_at(x0), i);
        cr_assert_eq(qs_tui_tab_at(x1), i);
        cr_assert_eq(qs_tui_tab_at((x0 + x1) / 2), i);
        prev_end = x1;
    }
    cr_assert_eq(qs_tui_tab_at(0), -1);
    cr_assert_eq(qs_tui_tab_at(prev_end + 1), -1);
    /* the tab bar fits the minimum width */
    cr_assert_lt(prev_end, QS_TUI_MIN_COLS);
}

/* ---- the model from the bundled tensor, against numpy ---------------------------------- */

Test(model, default_tensor_stats_and_channels_match_numpy, .init = setup_default,
     .fini = teardown)
{
    FILE *f = fopen(top_path("tests/golden/tui_default.txt"), "r");
    cr_assert_not_null(f, "tests/golden/tui_default.txt missing");
    char key[32];
    double v, lo, hi;
    int rows = 0, row, nrow = 0;
    while (fscanf(f, "%31s", key) == 1) {
        if (strcmp(key, "row") == 0) {
            cr_assert_eq(fscanf(f, "%d %lf %lf", &row, &lo, &hi), 3);
            cr_assert_lt(row, M.nchan);
            cr_expect(close_rel(M.chan_min[row], lo, TOL_F32), "row %d min %g vs %g", row,
                      (double)M.chan_min[row], lo);
            cr_expect(close_rel(M.chan_max[row], hi, TOL_F32), "row %d max %g vs %g", row,
                      (double)M.chan_max[row], hi);
            nrow++;
            continue;
        }
        cr_assert_eq(fscanf(f, "%lf", &v), 1);
        if (!strcmp(key, "n")) cr_expect_eq(json_integer_value(json_object_get(M.stats, "n")),
                                            (json_int_t)v);
        else if (!strcmp(key, "rows")) rows = (int)v;
        else if (!strcmp(key, "min") || !strcmp(key, "max"))
            cr_expect(close_rel(json_number_value(json_object_get(M.stats, key)), v, TOL_F32),
                      "%s", key);
        else
            cr_expect(close_rel(json_number_value(json_object_get(M.stats, key)), v, TOL_STAT),
                      "%s: %.17g vs %.17g", key,
                      json_number_value(json_object_get(M.stats, key)), v);
    }
    fclose(f);
    cr_assert_eq(M.nchan, rows);
    cr_assert_eq(nrow, rows);
    /* the histogram holds every value, over a range that covers the data and zero */
    json_t *c = json_object_get(M.hist, "counts");
    cr_assert_gt(json_array_size(c), 8);
    long long sum = 0;
    for (size_t i = 0; i < json_array_size(c); i++) sum += json_integer_value(json_array_get(c, i));
    cr_expect_eq(sum, 4096);
    cr_expect_leq(M.plot_lo, json_number_value(json_object_get(M.stats, "min")));
    cr_expect_geq(M.plot_hi, json_number_value(json_object_get(M.stats, "max")));
}

Test(model, resize_follows_the_width, .init = setup_default, .fini = teardown)
{
    size_t before = json_array_size(json_object_get(M.hist, "counts"));
    qs_tui_resize(&M, 120, 40);
    size_t after = json_array_size(json_object_get(M.hist, "counts"));
    cr_expect_eq(before, 80 - 4);
    cr_expect_eq(after, 120 - 4);
    cr_expect_eq(qs_tui_handle_key(&M, KEY_RESIZE) & (QS_TUI_RESIZE | QS_TUI_REDRAW),
                 QS_TUI_RESIZE | QS_TUI_REDRAW);
}

/* synth is a slow command: the TUI runs it in the worker; wait for it (with a deadline) */
static void wait_job(void)
{
    for (int i = 0; i < 20000 && M.job.running; i++) {
        qs_tui_job_poll(&M);
        usleep(1000);
    }
    cr_assert_eq(M.job.running, 0, "the job did not end");
}

/* What the model shows after a scheme key, a calibrator key or a new tensor is what a fresh
 * session computes for the same state (the session's cache never shows a stale value): the
 * session's history replayed, then the model's own queries. */
static void model_matches_fresh(const char *after)
{
    qs_session f;
    qs_session_init(&f);
    for (int i = 0; i < S.nhistory; i++) {
        json_t *o = NULL;
        qs_err err = {{0}};
        cr_assert_eq(qs_cmd_run_line(&f, S.history[i], &o, NULL, &err), QS_OK, "%s: %s",
                     S.history[i], err.msg);
        json_decref(o);
    }
    char hist[128];
    snprintf(hist, sizeof hist, "hist bins=%d range=%.9g:%.9g", M.cols - 4, M.plot_lo,
             M.plot_hi);
    const char *q[] = {"qparams", "quant", hist, "derive"};
    json_t *shown[] = {M.qparams, M.quant, M.hist, M.derive};
    for (int i = 0; i < 4; i++) {
        json_t *o = NULL;
        qs_err err = {{0}};
        if (qs_cmd_run_line(&f, q[i], &o, NULL, &err) != QS_OK) {
            cr_assert_null(shown[i], "after %s: the model shows a '%s' a fresh session "
                           "cannot compute (%s)", after, q[i], err.msg);
            continue;
        }
        cr_assert_not_null(shown[i], "after %s: no %s in the model", after, q[i]);
        cr_assert(json_equal(o, shown[i]), "after %s: the model's '%s' is not a fresh "
                  "session's", after, q[i]);
        json_decref(o);
    }
    qs_session_fini(&f);
}

Test(model, scheme_keys_show_fresh_results, .init = setup_default, .fini = teardown)
{
    qs_tui_handle_key(&M, '2');
    /* every calibrator per tensor, then per channel under minmax and percentile (an mse or
     * entropy search per channel is slow to replay) */
    static const char keys[] = "--s+c-cccgs+cg";
    for (const char *k = keys; *k; k++) {
        char after[256];
        snprintf(after, sizeof after, "key '%c' (%s)", *k, M.scheme_str);
        cr_assert(qs_tui_handle_key(&M, *k) & QS_TUI_REDRAW, "%s", after);
        snprintf(after, sizeof after, "key '%c' -> %s", *k, M.scheme_str);
        model_matches_fresh(after);
    }
    /* a new tensor of the same size under the same scheme: new values only */
    qs_tui_run_user(&M, "calib minmax");
    qs_tui_run_user(&M, "synth normal n=4096 seed=3");
    wait_job();
    model_matches_fresh("synth normal n=4096 seed=3");
    qs_tui_handle_key(&M, '-');
    model_matches_fresh("synth, then '-'");
    qs_tui_run_user(&M, "synth normal n=4096 seed=4");
    wait_job();
    model_matches_fresh("synth normal n=4096 seed=4");
}

/* ---- keys ----------------------------------------------------------------------------------- */

Test(keys, screens_switch_and_wrap, .init = setup_values, .fini = teardown)
{
    for (int i = 0; i < QS_SCR_COUNT; i++) {
        int f = qs_tui_handle_key(&M, '1' + i);
        cr_assert(f & QS_TUI_HANDLED);
        cr_assert(f & QS_TUI_REDRAW);
        cr_assert_eq(M.screen, i);
    }
    cr_assert(qs_tui_handle_key(&M, '\t') & QS_TUI_REDRAW);
    cr_assert_eq(M.screen, QS_SCR_DATA, "Tab wraps from Lesson to Data");
    qs_tui_handle_key(&M, KEY_BTAB);
    cr_assert_eq(M.screen, QS_SCR_LESSON, "Shift-Tab wraps from Data to Lesson");
    qs_tui_goto(&M, QS_SCR_DATA);
    cr_assert(qs_tui_handle_key(&M, 'q') & QS_TUI_QUIT);
}

Test(keys, help_opens_and_any_key_closes, .init = setup_values, .fini = teardown)
{
    qs_tui_handle_key(&M, '?');
    cr_assert_eq(M.help, 1);
    int f = qs_tui_handle_key(&M, '3');
    cr_assert_eq(M.help, 0);
    cr_assert_eq(M.screen, QS_SCR_DATA, "the closing key is not also acted on");
    cr_assert(f & QS_TUI_REDRAW);
}

Test(keys, colon_runs_a_command_on_the_session, .init = setup_values, .fini = teardown)
{
    qs_tui_goto(&M, QS_SCR_BITS);
    int f = qs_tui_handle_key(&M, ':');
    cr_assert(f & QS_TUI_PROMPT);
    cr_assert_eq(M.prompt, QS_PR_COMMAND);
    qs_tui_submit(&M, "synth laplace n=500 seed=3");
    wait_job();
    cr_assert_eq(M.prompt, QS_PR_NONE);
    cr_assert_eq(S.tensor->n, 500);
    cr_assert_eq(M.screen, QS_SCR_DATA, "a data command shows the Data screen");
    cr_assert_eq(json_integer_value(json_object_get(M.stats, "n")), 500);
    cr_assert_not_null(M.output);
    cr_assert_eq(S.nhistory, 2, "the ':' line is recorded for 'save' (values + synth)");
    /* the TUI's own queries (stats, hist) are not recorded */
    cr_assert_str_eq(S.history[1], "synth laplace n=500 seed=3");
}

Test(keys, bad_commands_report_and_keep_the_tensor, .init = setup_values, .fini = teardown)
{
    qs_tui_handle_key(&M, ':');
    qs_tui_submit(&M, "stast");
    cr_assert_eq(M.status_err, 1);
    cr_assert_not_null(strstr(M.status, "did you mean stats"), "%s", M.status);
    qs_tui_handle_key(&M, ':');
    qs_tui_submit(&M, "load /nonexistent/file.npy");
    /* load is slow: it runs in the worker; wait for it */
    for (int i = 0; i < 2000 && M.job.running; i++) {
        qs_tui_job_poll(&M);
        usleep(1000);
    }
    cr_assert_eq(M.job.running, 0);
    cr_assert_eq(M.status_err, 1);
    cr_assert_eq(S.tensor->n, 2, "the session keeps its tensor");
    cr_assert(qs_tui_handle_key(&M, ':') & QS_TUI_PROMPT);
    cr_assert(qs_tui_submit(&M, "quit") & QS_TUI_QUIT);
}

Test(keys, source_runs_a_script_and_names_the_failing_line, .init = setup_values,
     .fini = teardown)
{
    char path[] = "/tmp/qscope_tui_srcXXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    const char *text = "# a script\nvalues 1 2 3\nscheme int4 sym\n\nstats\n";
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    char line[200];
    snprintf(line, sizeof line, "source %s", path);
    qs_tui_run_user(&M, line);
    cr_assert_eq(M.status_err, 0, "%s", M.status);
    cr_assert_eq(S.tensor->n, 3);
    cr_assert_eq(S.scheme.bits, 4);
    cr_assert_eq(M.t_n, 3, "the screens follow");
    /* a failing line stops the script and is named FILE:LINE */
    fd = open(path, O_WRONLY | O_TRUNC);
    text = "values 5 6\nstast\nvalues 7\n";
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    qs_tui_run_user(&M, line);
    cr_assert_eq(M.status_err, 1);
    char want[100];
    snprintf(want, sizeof want, "%s:2:", path);
    cr_assert_not_null(strstr(M.status, want), "%s", M.status);
    cr_assert_eq(S.tensor->n, 2, "line 3 did not run");
    unlink(path);
}

Test(keys, prompt_cancel_changes_nothing, .init = setup_values, .fini = teardown)
{
    qs_tui_goto(&M, QS_SCR_DERIVE);
    cr_assert(qs_tui_handle_key(&M, 'v') & QS_TUI_PROMPT);
    cr_assert_eq(M.prompt, QS_PR_DERIVE);
    qs_tui_submit(&M, NULL);
    cr_assert_eq(M.prompt, QS_PR_NONE);
    cr_assert_eq(M.has_value, 0);
}

Test(keys, data_toggles, .init = setup_default, .fini = teardown)
{
    cr_assert(qs_tui_handle_key(&M, 'l') & QS_TUI_REDRAW);
    cr_assert_eq(M.log_scale, 1);
    qs_tui_handle_key(&M, 'l');
    cr_assert_eq(M.log_scale, 0);
    qs_tui_handle_key(&M, 'v');
    cr_assert_eq(M.channels, 1);
    qs_tui_handle_key(&M, KEY_DOWN);
    qs_tui_handle_key(&M, KEY_DOWN);
    cr_assert_eq(M.chan_scroll, 2);
    qs_tui_handle_key(&M, KEY_UP);
    cr_assert_eq(M.chan_scroll, 1);
}

/* The Error screen's clip drag is `calib manual` through the command table: the seed example
 * [-20, 1000] narrowed by one step (2.5% of the width at each end) is [5.5, 974.5]; uint8
 * affine widens it to [0, 974.5], so scale = 974.5f / 255 (float32, PyTorch's rule) and
 * zero point 0. r goes back to the calibrator before the drag. */
Test(error, drag_is_calib_manual, .init = setup_values, .fini = teardown)
{
    qs_tui_run_user(&M, "scheme uint8 asym");
    qs_tui_goto(&M, QS_SCR_ERROR);
    int f = qs_tui_handle_key(&M, KEY_LEFT);
    cr_assert(f & QS_TUI_HANDLED);
    cr_assert_eq(S.calib.kind, QS_CAL_MANUAL, "%s", M.status);
    cr_assert_eq(S.calib.lo, 5.5);
    cr_assert_eq(S.calib.hi, 974.5);
    cr_assert_eq(M.clip_manual, 1);
    cr_assert(strstr(M.scheme_str, "manual"), "the status bar names the calibrator: %s",
              M.scheme_str);
    json_t *sc = json_object_get(M.qparams, "scale");
    cr_assert_eq((float)json_number_value(json_array_get(sc, 0)), 974.5f / 255.0f);
    cr_assert_eq(json_integer_value(json_array_get(json_object_get(M.qparams, "zero_point"), 0)),
                 0);
    cr_assert_not_null(strstr(M.status, "MSE"), "%s", M.status);
    int nh = S.nhistory;
    cr_assert_str_eq(S.history[nh - 1], "calib manual min=5.5 max=974.5");
    qs_tui_handle_key(&M, KEY_LEFT);
    cr_assert_eq(S.nhistory, nh, "only the last drag step is kept for 'save'");
    /* a scheme change keeps the manual range (it is the session's calibrator) */
    qs_tui_handle_key(&M, '-');
    cr_assert_eq(S.scheme.bits, 7);
    cr_assert_eq(M.clip_manual, 1);
    qs_tui_handle_key(&M, 'r');
    cr_assert_eq(S.calib.kind, QS_CAL_MINMAX);
    cr_assert_eq(M.clip_manual, 0);
    cr_assert_eq(M.clip_hi, 1000.0);
}

/* Per-channel schemes drag too: every channel gets the same range. */
Test(error, drag_works_per_channel, .init = setup_default, .fini = teardown)
{
    qs_tui_goto(&M, QS_SCR_ERROR);
    qs_tui_run_user(&M, "scheme int8 sym per-channel axis=0");
    qs_tui_handle_key(&M, KEY_RIGHT);
    cr_assert_eq(S.calib.kind, QS_CAL_MANUAL, "%s", M.status);
    json_t *sc = json_object_get(M.qparams, "scale");
    cr_assert_eq(json_array_size(sc), 64);
    double amax = fmax(-S.calib.lo, S.calib.hi);
    for (size_t i = 0; i < 64; i++) {
        cr_assert_eq((float)json_number_value(json_array_get(sc, i)), (float)amax / 127.5f,
                     "channel %zu", i);
        cr_assert_eq(json_number_value(json_array_get(json_object_get(M.qparams, "clip_max"),
                                                      i)), (double)(float)amax);
    }
}

Test(keys, unbound_key_says_so, .init = setup_values, .fini = teardown)
{
    int f = qs_tui_handle_key(&M, 'Z');
    cr_assert_eq(f & QS_TUI_HANDLED, 0);
    cr_assert_eq(M.status_err, 1);
}

/* ---- Bits: the reference sheet's 7.32 ---------------------------------------------------- */

Test(bits, seven_point_three_two, .init = setup_values, .fini = teardown)
{
    qs_tui_bits_set(&M, 7.32);
    cr_assert_str_eq(M.bits[QS_FMT_FP32].hex, "0x40EA3D71");
    cr_assert_eq(M.bits[QS_FMT_FP32].exponent, 129);
    cr_assert_eq(M.bits[QS_FMT_FP32].exponent_unbiased, 2);
    cr_assert_float_eq(M.bits[QS_FMT_FP32].value, 7.320000171661377, 1e-15);
    cr_assert_str_eq(M.bits[QS_FMT_FP16].hex, "0x4752");
    cr_assert_float_eq(M.bits[QS_FMT_FP16].value, 7.3203125, 0);
}

Test(bits, space_flips_the_bit_under_the_cursor, .init = setup_values, .fini = teardown)
{
    qs_tui_goto(&M, QS_SCR_BITS);
    qs_tui_bits_set(&M, 7.32);
    M.bits_row = QS_FMT_FP32;
    M.bits_cur = 0;
    cr_assert(qs_tui_handle_key(&M, ' ') & QS_TUI_REDRAW);
    cr_assert_str_eq(M.bits[QS_FMT_FP32].hex, "0xC0EA3D71", "sign bit flipped");
    cr_assert_float_eq(M.bits_input, -7.320000171661377, 1e-15);
    /* the exponent's lowest bit: field 129 -> 128 halves the value */
    qs_tui_handle_key(&M, ' ');
    for (int i = 0; i < 8; i++) qs_tui_handle_key(&M, KEY_RIGHT);
    cr_assert_eq(M.bits_cur, 8);
    qs_tui_handle_key(&M, ' ');
    cr_assert_str_eq(M.bits[QS_FMT_FP32].hex, "0x406A3D71");
    cr_assert_float_eq(M.bits_input, 3.6600000858306885, 1e-15);
    /* every other row re-encodes the new value: FP16 of 3.66 */
    cr_assert_str_eq(M.bits[QS_FMT_FP16].hex, "0x4352");
    /* the cursor stays inside the row */
    for (int i = 0; i < 40; i++) qs_tui_handle_key(&M, KEY_RIGHT);
    cr_assert_eq(M.bits_cur, 31);
}

Test(bits, typed_values_and_hex_patterns, .init = setup_values, .fini = teardown)
{
    qs_tui_goto(&M, QS_SCR_BITS);
    M.bits_row = QS_FMT_FP16;
    cr_assert(qs_tui_handle_key(&M, 'v') & QS_TUI_PROMPT);
    qs_tui_submit(&M, "0x3C00");
    cr_assert_float_eq(M.bits_input, 1.0, 0);
    cr_assert_str_eq(M.bits[QS_FMT_FP32].hex, "0x3F800000");
    qs_tui_handle_key(&M, 'v');
    qs_tui_submit(&M, "0x1FFFF");      /* not a 16-bit pattern */
    cr_assert_eq(M.status_err, 1);
    cr_assert_float_eq(M.bits_input, 1.0, 0);
    qs_tui_handle_key(&M, 'v');
    qs_tui_submit(&M, "-0.1");
    cr_assert_str_eq(M.bits[QS_FMT_FP32].hex, "0xBDCCCCCD");
    cr_assert_str_eq(M.bits[QS_FMT_BF16].hex, "0xBDCD");
    /* up / down wrap over the rows */
    M.bits_row = QS_FMT_FP32;
    qs_tui_handle_key(&M, KEY_UP);
    cr_assert_gt(M.bits_row, QS_FMT_FP32);
    qs_tui_handle_key(&M, KEY_DOWN);
    cr_assert_eq(M.bits_row, QS_FMT_FP32);
}

/* issue 17: the MX formats are rows; f cycles the row sets and ↑/↓ walk the set shown */
Test(bits, row_sets_and_the_mx_formats, .init = setup_values, .fini = teardown)
{
    qs_tui_goto(&M, QS_SCR_BITS);
    qs_tui_bits_set(&M, 7.32);
    /* every format's fields come from numfmt, FP4 E2M1 included: 7.32 saturates to 6 */
    cr_assert_float_eq(M.bits[QS_FMT_E2M1].value, 6.0, 0);
    cr_assert_str_eq(M.bits[QS_FMT_E8M0].hex, "0x82");
    cr_assert_eq(M.bits_view, QS_BITS_ALL);
    M.bits_row = QS_FMT_FP32;
    /* the all-formats set: fp32 .. uint8 then e3m2 e2m3 e2m1 e8m0 */
    for (int i = 0; i < 8; i++) qs_tui_handle_key(&M, KEY_DOWN);
    cr_assert_eq(M.bits_row, QS_FMT_E3M2);
    for (int i = 0; i < 3; i++) qs_tui_handle_key(&M, KEY_DOWN);
    cr_assert_eq(M.bits_row, QS_FMT_E8M0);
    /* E8M0 has 8 bits, all exponent: its lowest bit takes field 130 to 131, the scale 8 to 16 */
    M.bits_cur = 7;
    qs_tui_handle_key(&M, ' ');
    cr_assert_float_eq(M.bits_input, 16.0, 0);
    /* f: classic has no e8m0, so the cursor goes to fp32 */
    cr_assert(qs_tui_handle_key(&M, 'f') & QS_TUI_REDRAW);
    cr_assert_eq(M.bits_view, QS_BITS_CLASSIC);
    cr_assert_eq(M.bits_row, QS_FMT_FP32);
    qs_tui_handle_key(&M, KEY_UP);      /* wraps to the scheme row, past uint8 */
    cr_assert_eq(M.bits_row, M.have_code ? QS_TUI_BITS_SCHEME : QS_FMT_UINT8);
    /* f: MX — fp32, e4m3, e5m2, e3m2, e2m3, e2m1, e8m0, int8 */
    qs_tui_handle_key(&M, 'f');
    cr_assert_eq(M.bits_view, QS_BITS_MX);
    M.bits_row = QS_FMT_FP32;
    qs_tui_handle_key(&M, KEY_DOWN);
    cr_assert_eq(M.bits_row, QS_FMT_E4M3);
    qs_tui_handle_key(&M, KEY_DOWN);
    qs_tui_handle_key(&M, KEY_DOWN);
    cr_assert_eq(M.bits_row, QS_FMT_E3M2);
    /* a pattern typed on the fp4 row is read as FP4: 0x5 = 0 10 1 = 3 */
    qs_tui_handle_key(&M, KEY_DOWN);
    qs_tui_handle_key(&M, KEY_DOWN);
    cr_assert_eq(M.bits_row, QS_FMT_E2M1);
    qs_tui_handle_key(&M, 'v');
    qs_tui_submit(&M, "0x5");
    cr_assert_float_eq(M.bits_input, 3.0, 0);
    qs_tui_handle_key(&M, 'v');
    qs_tui_submit(&M, "0x1F");         /* not a 4-bit pattern */
    cr_assert_eq(M.status_err, 1);
    /* the MX set keeps the cursor's row when it has it; f comes back to all */
    qs_tui_handle_key(&M, 'f');
    cr_assert_eq(M.bits_view, QS_BITS_ALL);
    cr_assert_eq(M.bits_row, QS_FMT_E2M1);
}

/* ---- Derive: the seeds' examples --------------------------------------------------------- */

Test(derive, seed_examples_one_key_away, .init = setup_default, .fini = teardown)
{
    qs_tui_goto(&M, QS_SCR_DERIVE);
    qs_tui_handle_key(&M, 'e');
    cr_assert_eq(M.example, 1);
    cr_assert_not_null(M.ex_qparams);
    cr_assert_float_eq(json_number_value(json_array_get(json_object_get(M.ex_qparams, "scale"), 0)),
                       1000.0 / 255.0, 1e-6);
    qs_tui_handle_key(&M, 'e');
    cr_assert_eq(M.example, 2);
    cr_assert_float_eq(json_number_value(json_array_get(json_object_get(M.ex_qparams, "scale"), 0)),
                       4.0, 1e-6);
    cr_assert_eq(json_integer_value(json_array_get(json_object_get(M.ex_qparams, "zero_point"), 0)),
                 5);
    int n = (int)json_array_size(json_object_get(M.derive, "steps"));
    cr_assert_gt(n, 3);
    cr_assert_eq(M.step, 0);
    qs_tui_handle_key(&M, 'n');
    qs_tui_handle_key(&M, 'n');
    cr_assert_eq(M.step, 2);
    qs_tui_handle_key(&M, 'p');
    cr_assert_eq(M.step, 1);
    for (int i = 0; i < n + 5; i++) qs_tui_handle_key(&M, 'n');
    cr_assert_eq(M.step, n - 1);
    /* the user's tensor was not touched by the example */
    cr_assert_eq(S.tensor->n, 4096);
    qs_tui_handle_key(&M, 'e');
    cr_assert_eq(M.example, 0);
    /* follow an element of the tensor */
    qs_tui_handle_key(&M, KEY_RIGHT);
    cr_assert_eq(M.elem, 0);
    cr_assert_float_eq(M.value, S.tensor->data[0], 0);
}

/* ---- the Lab form ---------------------------------------------------------------------------- */

Test(lab, the_form_speaks_the_lab_commands_grammar, .init = setup_values, .fini = teardown)
{
    const qs_cmd *lab = qs_cmd_find("lab");
    cr_assert_not_null(lab);
    qs_tui_goto(&M, QS_SCR_LAB);
    cr_assert_str_eq(M.lab_line, "lab sweep bits=2..8 abits=8 gran=tensor calib=minmax epochs=5");
    /* every action's line passes its subcommand row's argument specs (the lab's nested
     * table; completion offers the same specs) */
    for (int a = 0; a < 7; a++) {
        char **argv = NULL;
        qs_err err = {{0}};
        int argc = qs_split(M.lab_line, &argv, &err);
        cr_assert_gt(argc, 1);
        cr_assert_str_eq(argv[0], "lab");
        const qs_cmd *sub = qs_cmd_sub(lab, argv[1]);
        cr_assert_not_null(sub, "'%s' is not a lab subcommand", argv[1]);
        for (int i = 2; i < argc; i++)
            cr_assert_not_null(strchr(argv[i], '='), "%s", argv[i]);
        cr_expect_eq(qs_args_check(sub, argc - 2, argv + 2, &err), QS_OK, "'%s': %s",
                     M.lab_line, err.msg);
        qs_split_free(argv);
        M.lab_field = 0;
        qs_tui_handle_key(&M, KEY_RIGHT);   /* next action */
    }
    cr_assert_str_eq(M.lab_line, "lab sweep bits=2..8 abits=8 gran=tensor calib=minmax epochs=5",
                     "seven actions wrap around");
    /* the epochs field is not part of a PTQ run */
    qs_tui_handle_key(&M, KEY_RIGHT);
    cr_assert_str_eq(M.lab_line, "lab ptq bits=4 abits=8 gran=tensor calib=minmax");
}

/* The form's calib setting cycles through every calibrator row of the descriptor table the
 * lab takes (QS_CALF_LAB), in table order, and wraps: a new row shows up with no edit of the
 * form. The expected list is read off the table, not written here. */
Test(lab, the_forms_calibrators_are_the_tables_rows, .init = setup_values, .fini = teardown)
{
    const char *want[QS_CAL_COUNT];
    int n = 0;
    for (int k = 0; k < QS_CAL_COUNT; k++)
        if (qs_calib_table[k].flags & QS_CALF_LAB) want[n++] = qs_calib_table[k].name;
    cr_assert_geq(n, 5, "the table has only %d lab calibrators", n);
    qs_tui_goto(&M, QS_SCR_LAB);
    const char *v;
    int used;
    for (int i = 0; i < 8 && strcmp(qs_tui_lab_field(&M, M.lab_field, &v, &used), "calib"); i++)
        qs_tui_handle_key(&M, KEY_DOWN);
    cr_assert_str_eq(qs_tui_lab_field(&M, M.lab_field, &v, &used), "calib");
    for (int i = 0; i <= n; i++) {
        char key[64];
        snprintf(key, sizeof key, " calib=%s ", want[i % n]);
        cr_expect(strstr(M.lab_line, key) != NULL, "step %d: '%s' lacks%s", i, M.lab_line, key);
        cr_expect_str_eq(qs_tui_lab_field(&M, M.lab_field, &v, &used), "calib");
        cr_expect_str_eq(v, want[i % n]);
        /* the line the form runs passes `lab sweep`'s specs */
        char **argv = NULL;
        qs_err err = {{0}};
        int argc = qs_split(M.lab_line, &argv, &err);
        cr_assert_gt(argc, 2);
        cr_expect_eq(qs_args_check(qs_cmd_sub(qs_cmd_find("lab"), argv[1]), argc - 2, argv + 2,
                                   &err), QS_OK, "'%s': %s", M.lab_line, err.msg);
        qs_split_free(argv);
        qs_tui_handle_key(&M, KEY_RIGHT);
    }
    /* and backwards from the first to the last row */
    qs_tui_handle_key(&M, KEY_LEFT);
    qs_tui_handle_key(&M, KEY_LEFT);
    qs_tui_lab_field(&M, M.lab_field, &v, &used);
    cr_expect_str_eq(v, want[n - 1]);
}

/* ---- drawing, into an ncurses screen that writes to /dev/null ----------------------------- */

static SCREEN *scr;
static FILE *scr_out, *scr_in;
static WINDOW *w_tabs, *w_body, *w_status, *w_bottom;

/* An ncurses screen of cols x rows that draws nowhere; the windows are read back. */
static void term_open(int cols, int rows)
{
    char c[16], r[16];
    snprintf(c, sizeof c, "%d", cols);
    snprintf(r, sizeof r, "%d", rows);
    setenv("COLUMNS", c, 1);
    setenv("LINES", r, 1);
    scr_out = fopen("/dev/null", "w");
    scr_in = fopen("/dev/null", "r");
    scr = newterm("vt100", scr_out, scr_in);
    cr_assert_not_null(scr, "newterm vt100");
    w_tabs = newwin(1, cols, 0, 0);
    w_body = newwin(rows - 3, cols, 1, 0);
    w_status = newwin(1, cols, rows - 2, 0);
    w_bottom = newwin(1, cols, rows - 1, 0);
    M.utf8 = 0;
    M.color = 0;
    qs_tui_resize(&M, cols, rows);
}

static void term_close(void)
{
    delwin(w_tabs);
    delwin(w_body);
    delwin(w_status);
    delwin(w_bottom);
    endwin();
    delscreen(scr);
    fclose(scr_out);
    fclose(scr_in);
}

static void frame(void)
{
    qs_tui_draw_frame(&M, w_tabs, w_body, w_status, w_bottom);
}

/* 1 when text appears on some row of w. */
static int shows(WINDOW *w, const char *text)
{
    char row[512];
    for (int y = 0; y < getmaxy(w); y++) {
        mvwinnstr(w, y, 0, row, (int)sizeof row - 1);
        if (strstr(row, text)) return 1;
    }
    return 0;
}

static int find_text(WINDOW *w, const char *text, int *y, int *x);

Test(draw, bits_screen_shows_the_patterns_and_a_flip, .init = setup_values, .fini = teardown)
{
    term_open(120, 40);     /* 80 columns leave the hex column out (the details keep it) */
    qs_tui_goto(&M, QS_SCR_BITS);
    qs_tui_bits_set(&M, 7.32);
    frame();
    cr_expect(shows(w_body, "0x40EA3D71"));
    cr_expect(shows(w_body, "0x4752"));
    cr_expect(shows(w_body, "10000001"), "FP32's exponent field");
    cr_expect(shows(w_tabs, "3 Bits"));
    cr_expect(shows(w_bottom, "space flip"), "the screen's hint line");
    M.bits_cur = 0;
    qs_tui_handle_key(&M, ' ');
    frame();
    cr_expect(shows(w_body, "0xC0EA3D71"));
    cr_expect(!shows(w_body, "0x40EA3D71"));
    term_close();
}

/* At 80 columns nothing on the Bits screen is cut: the value line wraps, and the scheme's
 * code row puts its dequantized value and error under the stored / error columns. For 7.32
 * with the values -20 1000 tensor (int8 asym: scale 1020/255 = 4, zero point -123): code
 * clamp(round(7.32/4) - 123) = -121, dequantized (−121 + 123)·4 = 8, error +0.68. */
Test(draw, bits_screen_fits_80_columns, .init = setup_values, .fini = teardown)
{
    term_open(80, 24);
    qs_tui_goto(&M, QS_SCR_BITS);
    qs_tui_bits_set(&M, 7.32);
    frame();
    cr_expect(shows(w_body, " 2^2"), "the value line wraps instead of being cut");
    cr_expect(shows(w_body, "code -121"));
    int ry, rx;
    char crow[512];
    cr_assert(find_text(w_body, "code -121", &ry, &rx));
    mvwinnstr(w_body, ry, 0, crow, (int)sizeof crow - 1);
    cr_expect(strstr(crow, " 8 ") && strstr(crow, "+0.68"), "dequantized value and error in "
              "columns: %s", crow);
    /* every screen's hint line keeps the way out at 80 columns */
    for (int i = 0; i < QS_SCR_COUNT; i++) {
        qs_tui_goto(&M, i);
        frame();
        cr_expect(shows(w_bottom, "q quit"), "screen %d's hint line lost 'q quit'", i);
    }
    term_close();
}

Test(draw, help_lists_every_described_binding, .init = setup_values, .fini = teardown)
{
    term_open(120, 40);
    for (int scr_i = 0; scr_i < QS_SCR_COUNT; scr_i++) {
        qs_tui_goto(&M, scr_i);
        qs_tui_handle_key(&M, '?');
        frame();
        for (const qs_tui_binding *b = qs_tui_bindings; b->act != QA_NONE; b++) {
            if (!b->help || (b->screen != scr_i && b->screen != -1)) continue;
            char head[24];
            snprintf(head, sizeof head, "%.20s", b->help);
            cr_expect(shows(w_body, head), "screen %d help lacks '%s'", scr_i, b->help);
            /* and its end: 120 columns hold every description whole */
            size_t hl = strlen(b->help);
            const char *tail = b->help + (hl > 8 ? hl - 8 : 0);
            if (!(tail[0] & 0x80) && !strpbrk(tail, "\xe2"))   /* ASCII tails only */
                cr_expect(shows(w_body, tail), "screen %d help cuts '%s'", scr_i, b->help);
        }
        qs_tui_handle_key(&M, 'x');     /* closes the help */
    }
    term_close();
}

Test(draw, data_screen_at_80x24, .init = setup_default, .fini = teardown)
{
    term_open(80, 24);
    frame();
    cr_expect(shows(w_body, "min -1.56668"), "numpy: min -1.56668043");
    cr_expect(shows(w_body, "max 1.39044"), "numpy: max 1.39044154");
    cr_expect(shows(w_body, "histogram"));
    cr_expect(!shows(w_status, "int8 asym/tensor"), "the welcome message leaves no room");
    qs_tui_status(&M, 0, "ok");
    frame();
    cr_expect(shows(w_status, "default [64, 64] . int8 asym/tensor . minmax"));
    cr_expect(shows(w_tabs, "qscope . default"), "ASCII fallback of the title");
    qs_tui_handle_key(&M, 'v');
    frame();
    cr_expect(shows(w_body, "64 channels"));
    term_close();
}

Test(draw, too_small_says_so, .init = setup_values, .fini = teardown)
{
    term_open(40, 10);
    qs_tui_draw_too_small(&M, stdscr);
    cr_expect(shows(stdscr, "terminal too small: 40x10"));
    term_close();
}

/* ---- a lesson's @highlight, drawn on the live screen ---------------------------------------- */

/* Writes text to a temporary lesson file; path receives its name (unlink it afterwards). */
static void lesson_file(char *path, const char *text)
{
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

/* Where text first appears in w (rows read as ASCII: the tests draw without UTF-8). */
static int find_text(WINDOW *w, const char *text, int *y, int *x)
{
    char row[512];
    for (int r = 0; r < getmaxy(w); r++) {
        mvwinnstr(w, r, 0, row, (int)sizeof row - 1);
        const char *p = strstr(row, text);
        if (p) {
            *y = r;
            *x = (int)(p - row);
            return 1;
        }
    }
    return 0;
}

#define HL_ATTRS (A_REVERSE | A_BOLD)   /* how a highlighted cell looks without colours */

/* 1 when the cell at (y, x) is drawn as a highlight. */
static int cell_hl(WINDOW *w, int y, int x)
{
    return (mvwinch(w, y, x) & HL_ATTRS) == HL_ATTRS;
}

/* Highlighted cells among the n from (y, x). */
static int hl_cells(WINDOW *w, int y, int x, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++) k += cell_hl(w, y, x + i);
    return k;
}

/* Highlighted cells in the whole window. */
static int hl_count(WINDOW *w)
{
    int k = 0;
    for (int y = 0; y < getmaxy(w); y++) k += hl_cells(w, y, 0, getmaxx(w));
    return k;
}

/* The element `text` is on screen, every cell of it highlighted, with the marker before it. */
static void expect_marked(WINDOW *w, const char *text)
{
    int y, x, n = (int)strlen(text);
    cr_assert(find_text(w, text, &y, &x), "'%s' is not on the screen", text);
    cr_expect_eq(hl_cells(w, y, x, n), n, "'%s': %d of %d cells highlighted", text,
                 hl_cells(w, y, x, n), n);
    cr_expect_eq((char)(mvwinch(w, y, x - 1) & A_CHARTEXT), '>', "'%s' has no marker", text);
    cr_expect(cell_hl(w, y, x - 1), "the marker is highlighted too");
}

/* The element `text` is on screen and none of its cells is highlighted. */
static void expect_plain(WINDOW *w, const char *text)
{
    int y, x, n = (int)strlen(text);
    cr_assert(find_text(w, text, &y, &x), "'%s' is not on the screen", text);
    cr_expect_eq(hl_cells(w, y, x, n), 0, "'%s' is highlighted", text);
}

Test(draw, highlight_marks_the_named_element_for_one_step, .init = setup_values,
     .fini = teardown)
{
    char path[] = "/tmp/qscope_tui_hlXXXXXX";
    lesson_file(path, "title: Highlights\n\n"
                "## Zero point\n> values -20 1000\n> scheme uint8 asym\n> calib minmax\n"
                "> qparams\n@screen derive\n@highlight zero_point\n---\n"
                "## Exponent\n> bits 7.32 fp32\n@screen bits\n@highlight exponent\n---\n"
                "## Nothing marked\n> qparams\n@screen derive\n---\n"
                "## Elsewhere\n@highlight bits_per_param\n---\n"
                "## Steps\n> derive 250\n@highlight steps\n---\n"
                "## Mantissa\n> bits 7.32\n@highlight mantissa\n");
    term_open(120, 40);
    qs_tui_goto(&M, QS_SCR_LESSON);
    qs_tui_lesson_open(&M, path);
    cr_assert_not_null(M.lesson, "%s", M.status);
    qs_tui_handle_key(&M, 'n');         /* nothing runs before the learner starts step 1 */
    /* 1: the Derive screen beside the narration marks the zero point, nothing else */
    cr_assert_str_eq(M.highlight, "zero_point");
    cr_assert_eq(M.lesson_live, QS_SCR_DERIVE);
    frame();
    expect_marked(w_body, "zero point 5");
    expect_plain(w_body, "scale 4");
    cr_expect_eq(hl_count(w_body), 13, "only 'zero point 5' and its marker");
    cr_expect(shows(w_status, "look at: zero_point"));
    /* 2: the next step's highlight replaces it: the exponent bits of every float row and
     * the column heading; the sign and mantissa bits stay as they were */
    qs_tui_handle_key(&M, 'n');
    cr_assert_str_eq(M.highlight, "exponent");
    frame();
    expect_marked(w_body, "exponent");
    int y, x;
    cr_assert(find_text(w_body, "fp32      0 10000001", &y, &x), "the FP32 row");
    char row[512];
    mvwinnstr(w_body, y, 0, row, (int)sizeof row - 1);
    int ex = (int)(strstr(row, "10000001") - row);
    cr_expect_eq(hl_cells(w_body, y, ex, 8), 8, "FP32's 8 exponent bits");
    cr_expect(!cell_hl(w_body, y, ex - 2), "the sign bit is not the exponent");
    cr_expect_eq(hl_cells(w_body, y, ex + 9, 23), 0, "nor are the 23 mantissa bits");
    cr_assert(find_text(w_body, "fp16      0 10001", &y, &x), "the FP16 row");
    mvwinnstr(w_body, y, 0, row, (int)sizeof row - 1);
    cr_expect_eq(hl_cells(w_body, y, (int)(strstr(row, "10001") - row), 5), 5,
                 "FP16's 5 exponent bits");
    cr_expect(!shows(w_body, "zero point 5"), "the Derive screen is not in view");
    /* 3: a step without @highlight marks nothing, though the same element is on screen */
    qs_tui_handle_key(&M, 'n');
    cr_assert_str_eq(M.highlight, "");
    frame();
    expect_plain(w_body, "zero point 5");
    cr_expect_eq(hl_count(w_body), 0);
    /* 4: a name only another screen declares (the Error screen's bits/param row) marks
     * nothing on the Derive screen and is not an error */
    qs_tui_handle_key(&M, 'n');
    cr_assert_str_eq(M.highlight, "bits_per_param");
    cr_assert_eq(M.lesson_live, QS_SCR_DERIVE);
    frame();
    expect_plain(w_body, "zero point 5");
    cr_expect_eq(hl_count(w_body), 0);
    cr_expect_eq(M.status_err, 0);
    cr_expect(shows(w_status, "look at: bits_per_param"));
    /* 5: the derivation's steps: the current step's line, with the marker */
    qs_tui_handle_key(&M, 'n');
    frame();
    expect_marked(w_body, " 1/12. observed range");
    /* 6: the mantissa; leaving the Lesson screen drops the highlight */
    qs_tui_handle_key(&M, 'n');
    cr_assert_eq(M.lesson_live, QS_SCR_BITS);
    frame();
    expect_marked(w_body, "mantissa");
    cr_assert(find_text(w_body, "fp32      0 10000001", &y, &x));
    mvwinnstr(w_body, y, 0, row, (int)sizeof row - 1);
    cr_expect_eq(hl_cells(w_body, y, (int)(strstr(row, "11010100011110101110001") - row), 23),
                 23, "FP32's 23 mantissa bits");
    qs_tui_goto(&M, QS_SCR_BITS);
    cr_assert_str_eq(M.highlight, "");
    frame();
    cr_expect(shows(w_body, "0x40EA3D71"));
    cr_expect_eq(hl_count(w_body), 0, "the Bits screen on its own marks nothing");
    term_close();
    unlink(path);
}

/* The Error screen's rows the granularity lessons point at, and the Lab's steps table. */
Test(draw, highlight_on_the_error_and_lab_screens, .init = setup_default, .fini = teardown)
{
    char path[] = "/tmp/qscope_tui_hl2XXXXXX", text[5000];
    snprintf(text, sizeof text, "title: Costs\n\n"
             "## Per channel\n> load \"%s\"\n> scheme int4 sym per-channel axis=0\n> quant\n"
             "@highlight per_channel\n---\n"
             "## NF4\n> scheme nf4 block=64 dq\n> quant\n@highlight bits_per_param\n",
             top_path("datasets/default.npy"));
    lesson_file(path, text);
    term_open(120, 40);
    qs_tui_goto(&M, QS_SCR_LESSON);
    qs_tui_lesson_open(&M, path);
    cr_assert_not_null(M.lesson, "%s", M.status);
    qs_tui_handle_key(&M, 'n');         /* nothing runs before the learner starts step 1 */
    for (int i = 0; i < 20000 && M.job.running; i++)   /* load plays in the worker */
        if (!qs_tui_job_poll(&M)) usleep(1000);
    cr_assert_eq(M.lesson_live, QS_SCR_ERROR);
    frame();
    expect_marked(w_body, "granularity  per-channel");
    expect_plain(w_body, "bits/param   4.5");
    qs_tui_handle_key(&M, 'n');
    frame();
    expect_marked(w_body, "bits/param   4.127");
    expect_plain(w_body, "granularity  block 64");
    /* the Lab screen draws `lab int`'s steps as a table: its title and first column */
    qs_tui_goto(&M, QS_SCR_LAB);
    json_error_t je;
    json_t *lab = json_loads("{\"model\": \"ptq\", \"steps\": [{\"title\": \"accumulate in int32\","
                             " \"result\": 57087}, {\"title\": \"rescale\", \"result\": 90}]}",
                             0, &je);
    cr_assert_not_null(lab, "%s", je.text);
    json_decref(M.lab);
    M.lab = lab;
    frame();
    expect_plain(w_body, "accumulate in int32");
    cr_expect_eq(hl_count(w_body), 0);
    snprintf(M.highlight, sizeof M.highlight, "steps");
    frame();
    expect_marked(w_body, "steps");
    int y, x;
    cr_assert(find_text(w_body, "accumulate in int32", &y, &x));
    cr_expect_eq(hl_cells(w_body, y, x, 19), 19, "the steps' names");
    cr_expect_eq(hl_cells(w_body, y, x + 19, 20), 0, "not their results");
    term_close();
    unlink(path);
}

Test(lesson, a_step_with_a_slow_command_plays_in_the_worker, .init = setup_values,
     .fini = teardown)
{
    char path[] = "/tmp/qscope_tui_slowXXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    char text[5000];
    snprintf(text, sizeof text, "title: Slow\n\n## Load\nA file.\n> load \"%s\"\n"
             "expect n == 4096\n---\n## After\nDone.\n", top_path("datasets/default.npy"));
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    qs_tui_goto(&M, QS_SCR_LESSON);
    qs_tui_lesson_open(&M, path);
    cr_assert_not_null(M.lesson, "%s", M.status);
    qs_tui_handle_key(&M, 'n');         /* nothing runs before the learner starts step 1 */
    cr_assert_eq(M.job.running, 1, "load is a slow command: the step runs in the worker");
    /* the screen keys wait while it runs; drawing shows the lesson's own start (no tensor) */
    cr_assert_eq(M.t_n, 0);
    int flags = 0;
    for (int i = 0; i < 20000 && !flags; i++) {
        flags = qs_tui_job_poll(&M);
        if (!flags) usleep(1000);
    }
    cr_assert(flags & QS_TUI_REDRAW);
    cr_assert_eq(M.s->tensor->n, 4096);
    cr_assert_eq(S.tensor->n, 2, "the user's session is not the lesson's");
    cr_assert_eq(M.t_n, 4096, "the snapshot follows once the step is shown");
    cr_assert_eq(M.lesson_shown, 1);
    size_t n = json_array_size(M.lesson_log);
    const char *last = json_string_value(json_object_get(json_array_get(M.lesson_log, n - 1),
                                                         "text"));
    cr_assert_not_null(strstr(last, "n = 4096"), "%s", last);
    unlink(path);
}

/* ---- Derive: the GPTQ and SmoothQuant traces ------------------------------------------------ */

/* Runs the pending job to its end (at most 20 s). */
static void finish_job(void)
{
    for (int i = 0; i < 20000 && M.job.running; i++)
        if (!qs_tui_job_poll(&M)) usleep(1000);
    cr_assert_eq(M.job.running, 0, "the job did not finish");
}

/* The same command run independently on the session: its result. */
static json_t *result_of(const char *line)
{
    json_t *out = NULL;
    qs_err err = {{0}};
    cr_assert_eq(qs_cmd_query(&S, line, &out, NULL, &err), QS_OK, "%s: %s", line, err.msg);
    return out;
}

static const char *step_title(int i)
{
    json_t *st = json_array_get(json_object_get(qs_tui_derive_result(&M), "steps"), (size_t)i);
    return json_string_value(json_object_get(st, "title"));
}

Test(derive, m_cycles_scheme_gptq_smoothquant_traces, .init = setup_default, .fini = teardown)
{
    qs_tui_goto(&M, QS_SCR_DERIVE);
    int n0 = (int)json_array_size(json_object_get(M.derive, "steps"));
    cr_assert_gt(n0, 3);
    /* m: GPTQ (a slow command: in the worker), its steps exactly the command's */
    qs_tui_handle_key(&M, 'm');
    cr_assert_eq(M.dsrc, QS_DSRC_GPTQ);
    cr_assert_eq(M.job.running, 1, "gptq runs in the worker");
    finish_job();
    json_t *want = result_of("gptq trace=2");
    cr_assert_not_null(M.mt[QS_DSRC_GPTQ].res, "%s", M.status);
    cr_assert(json_equal(json_object_get(qs_tui_derive_result(&M), "steps"),
                         json_object_get(want, "steps")));
    cr_assert_eq(M.step, 0);
    cr_assert_eq(M.screen, QS_SCR_DERIVE);
    cr_assert_str_eq(S.history[S.nhistory - 1], "gptq trace=2", "the key runs a command");
    /* ] goes to the first step of each traced column, [ back; ←/→ and n/p step */
    qs_tui_handle_key(&M, ']');
    cr_assert_str_eq(step_title(M.step), "column 0");
    int c0 = M.step;
    qs_tui_handle_key(&M, KEY_RIGHT);
    cr_assert_eq(M.step, c0 + 1, "→ steps on a method's trace");
    cr_assert_str_eq(step_title(M.step), "update after column 0");
    qs_tui_handle_key(&M, ']');
    cr_assert_str_eq(step_title(M.step), "column 1");
    int c1 = M.step;
    qs_tui_handle_key(&M, ']');
    cr_assert_eq(M.step, c1, "no third column traced");
    qs_tui_handle_key(&M, KEY_LEFT);
    cr_assert_eq(M.step, c1 - 1);
    qs_tui_handle_key(&M, '[');
    cr_assert_eq(M.step, c0, "[ goes back to the start of the column");
    qs_tui_handle_key(&M, '[');
    cr_assert_eq(M.step, 0, "[ from column 1: the set-up");
    /* drawn at 80x24: what it is of, that the activations are synthetic, where the step is,
     * and the step's numbers as the command gave them */
    term_open(80, 24);
    M.step = c0;
    frame();
    cr_expect(shows(w_body, "GPTQ on W [64 x 64] . synthetic activations . traced column 1 of 2"));
    cr_expect(shows(w_body, "not a model's activations"));
    char sub[300];
    snprintf(sub, sizeof sub, "= %s", json_string_value(json_object_get(
        json_array_get(json_object_get(want, "steps"), (size_t)c0), "substituted")));
    cr_expect(shows(w_body, sub), "'%s'", sub);
    cr_expect(!shows(w_body, "scale 0.0115966"), "no scheme parameters on a method's trace");
    cr_expect_eq(qs_tui_numline_rows(&M), 0);
    /* m: SmoothQuant (at once), on the first planted outlier; ] follows the next channel */
    qs_tui_handle_key(&M, 'm');
    cr_assert_eq(M.dsrc, QS_DSRC_SMOOTH);
    json_t *sq = result_of("smoothquant");
    long long ch = json_integer_value(json_object_get(sq, "channel"));
    cr_assert(json_equal(json_object_get(qs_tui_derive_result(&M), "steps"),
                         json_object_get(sq, "steps")));
    qs_tui_handle_key(&M, 'n');
    qs_tui_handle_key(&M, 'n');
    frame();
    cr_expect(shows(w_body, "SmoothQuant on W [64 x 64] . synthetic activations . alpha 0.5"));
    snprintf(sub, sizeof sub, "= %s", json_string_value(json_object_get(
        json_array_get(json_object_get(sq, "steps"), 2), "substituted")));
    cr_expect(shows(w_body, sub), "'%s'", sub);
    qs_tui_handle_key(&M, ']');
    cr_assert_eq(json_integer_value(json_object_get(M.mt[QS_DSRC_SMOOTH].res, "channel")), ch + 1);
    cr_assert_eq(M.step, 2, "the step stays on the next channel");
    /* m: back to the scheme's derivation, unchanged */
    qs_tui_handle_key(&M, 'm');
    cr_assert_eq(M.dsrc, QS_DSRC_SCHEME);
    cr_assert_eq((int)json_array_size(json_object_get(qs_tui_derive_result(&M), "steps")), n0);
    frame();
    cr_expect(shows(w_body, "scale 0.0115966"));
    /* m again: the kept GPTQ trace is of this tensor, so nothing runs */
    size_t nh = S.nhistory;
    qs_tui_handle_key(&M, 'm');
    cr_assert_eq(M.dsrc, QS_DSRC_GPTQ);
    cr_assert_eq(M.job.running, 0);
    cr_assert_eq(S.nhistory, nh);
    /* another scheme shows the scheme's derivation again */
    qs_tui_handle_key(&M, '-');
    cr_assert_eq(S.scheme.bits, 7);
    cr_assert_eq(M.dsrc, QS_DSRC_SCHEME);
    term_close();
    json_decref(want);
    json_decref(sq);
}

Test(derive, typed_method_commands_route_to_the_trace, .init = setup_default, .fini = teardown)
{
    /* trace=0 has no steps: the output pane, as before */
    qs_tui_run_cmdline(&M, "gptq bits=3 group=32 trace=0");
    finish_job();
    cr_assert_eq(M.screen, QS_SCR_DATA);
    cr_assert_eq(M.dsrc, QS_DSRC_SCHEME);
    cr_assert_eq(M.output_shown, 1);
    /* with steps: the Derive screen shows them; r runs the same line again */
    qs_tui_run_cmdline(&M, "gptq bits=3 group=32 trace=3");
    finish_job();
    cr_assert_eq(M.screen, QS_SCR_DERIVE);
    cr_assert_eq(M.dsrc, QS_DSRC_GPTQ);
    cr_assert_eq(json_integer_value(json_object_get(M.mt[QS_DSRC_GPTQ].res, "parts")), 3);
    qs_tui_handle_key(&M, 'r');
    finish_job();
    cr_assert_str_eq(S.history[S.nhistory - 1], "gptq bits=3 group=32 trace=3");
    /* apply: the tensor now holds GPTQ's weights (the Data screen's stats follow), the trace
     * says its steps are of the weights before, and r would not apply twice */
    float w0 = S.tensor->data[0];
    double mean0 = json_number_value(json_object_get(M.stats, "mean"));
    qs_tui_run_cmdline(&M, "gptq trace=2 apply");
    finish_job();
    cr_assert_neq(S.tensor->data[0], w0);
    cr_assert_neq(json_number_value(json_object_get(M.stats, "mean")), mean0);
    cr_assert_eq(M.dsrc, QS_DSRC_GPTQ);
    cr_assert_eq(M.mt[QS_DSRC_GPTQ].applied, 1);
    cr_assert_str_eq(M.mt[QS_DSRC_GPTQ].line, "gptq trace=2");
    /* a new tensor: back to the scheme's derivation; m runs GPTQ again on the new one */
    qs_tui_run_cmdline(&M, "synth normal n=512 seed=3; reshape 16x32");
    finish_job();
    cr_assert_eq(M.dsrc, QS_DSRC_SCHEME);
    qs_tui_goto(&M, QS_SCR_DERIVE);
    qs_tui_handle_key(&M, 'm');
    finish_job();
    cr_assert_eq(M.dsrc, QS_DSRC_GPTQ);
    json_t *mx = json_object_get(M.mt[QS_DSRC_GPTQ].res, "matrix");
    cr_assert_eq(json_integer_value(json_array_get(mx, 0)), 16);
    cr_assert_eq(json_integer_value(json_array_get(mx, 1)), 32);
}

Test(derive, a_lesson_shows_a_method_trace_and_gives_the_users_back, .init = setup_default,
     .fini = teardown)
{
    char path[] = "/tmp/qscope_tui_mtraceXXXXXX", text[5000];
    snprintf(text, sizeof text, "title: Traces\n\n## GPTQ\n> load \"%s\"\n> gptq trace=1\n"
             "@screen derive\n@highlight activations\n---\n## Scheme\n> scheme int4\n"
             "@screen derive\n", top_path("datasets/default.npy"));
    lesson_file(path, text);
    qs_tui_goto(&M, QS_SCR_DERIVE);
    qs_tui_handle_key(&M, 'm');
    finish_job();
    qs_tui_handle_key(&M, 'm');         /* the user's own: SmoothQuant */
    cr_assert_eq(M.dsrc, QS_DSRC_SMOOTH);
    term_open(120, 40);
    qs_tui_goto(&M, QS_SCR_LESSON);
    qs_tui_lesson_open(&M, path);
    cr_assert_not_null(M.lesson, "%s", M.status);
    cr_assert_eq(M.dsrc, QS_DSRC_SCHEME, "the lesson starts from its own views");
    qs_tui_handle_key(&M, 'n');
    finish_job();
    cr_assert_eq(M.lesson_live, QS_SCR_DERIVE);
    cr_assert_eq(M.dsrc, QS_DSRC_GPTQ);
    frame();
    expect_marked(w_body, "synthetic activations");
    qs_tui_handle_key(&M, 'n');
    finish_job();
    cr_assert_eq(M.dsrc, QS_DSRC_SCHEME, "a scheme: its derivation");
    qs_tui_handle_key(&M, 'X');
    cr_assert_null(M.lesson);
    cr_assert_eq(M.dsrc, QS_DSRC_SMOOTH, "the user's trace source comes back");
    cr_assert_not_null(M.mt[QS_DSRC_SMOOTH].res);
    cr_assert_not_null(M.mt[QS_DSRC_GPTQ].res, "and the user's GPTQ trace");
    cr_assert_eq(json_integer_value(json_object_get(M.mt[QS_DSRC_GPTQ].res, "parts")), 2);
    term_close();
    unlink(path);
}

/* ---- the worker thread --------------------------------------------------------------------- */

Test(job, a_slow_command_runs_in_the_worker, .init = setup_values, .fini = teardown)
{
    char line[4200];
    snprintf(line, sizeof line, "load \"%s\"", top_path("datasets/default.npy"));
    cr_assert_eq(qs_tui_job_start(&M, line), QS_OK);
    cr_assert_eq(qs_tui_job_start(&M, line), QS_ERR, "one job at a time");
    /* while it runs, keys that would touch the session are refused; q would cancel it */
    qs_tui_handle_key(&M, '+');
    cr_assert_eq(M.status_err, 1, "busy");
    cr_assert_eq(S.scheme.bits, 8);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int done = 0;
    while (!done) {
        done = qs_tui_job_poll(&M);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        cr_assert_lt(t1.tv_sec - t0.tv_sec, 20, "the job did not finish");
        if (!done) usleep(1000);
    }
    cr_assert_eq(S.tensor->n, 4096);
    cr_assert_eq(M.screen, QS_SCR_DATA);
    cr_assert_eq(json_integer_value(json_object_get(M.stats, "n")), 4096);
    cr_assert_null(S.progress, "the progress sink is unhooked afterwards");
    /* q while a job runs: quit, with the cancel flag raised for the worker */
    cr_assert_eq(qs_tui_job_start(&M, line), QS_OK);
    cr_assert(qs_tui_handle_key(&M, 'q') & QS_TUI_QUIT);
    cr_assert_eq(M.cancel, 1);
}

/* issue 17: m on the Error screen runs `methods` at the scheme's bits in the worker; its
 * table is the Error screen's until x, and is stale once the bits change */
Test(job, methods_on_the_error_screen, .init = setup_default, .fini = teardown)
{
    char line[96];
    run("scheme bits=3 sym");
    qs_tui_refresh(&M);
    qs_tui_methods_line(&S, line, sizeof line);
    cr_assert_str_eq(line, "methods bits=3 sym");
    run("scheme nf4");
    qs_tui_methods_line(&S, line, sizeof line);
    cr_assert_str_eq(line, "methods bits=4", "not an integer scheme: the command's default");
    run("scheme int8 asym");
    qs_tui_refresh(&M);
    qs_tui_goto(&M, QS_SCR_ERROR);
    cr_assert(qs_tui_handle_key(&M, 'm') & QS_TUI_HANDLED);
    cr_assert(M.job.running, "methods is a slow command: it runs in the worker");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!qs_tui_job_poll(&M)) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        cr_assert_lt(t1.tv_sec - t0.tv_sec, 20, "the job did not finish");
        usleep(1000);
    }
    cr_assert_eq(M.err_methods, 1);
    json_t *rows = json_object_get(M.methods, "rows");
    cr_assert_eq(json_array_size(rows), 7);
    cr_assert_str_eq(json_string_value(json_object_get(M.methods, "grid")), "int8 asym per-row");
    cr_assert_str_eq(M.methods_key, M.methods_want, "fresh");
    qs_tui_handle_key(&M, '-');
    cr_assert_str_neq(M.methods_key, M.methods_want, "int7 now: stale");
    /* x: the calibrator table is the Error screen's again */
    qs_tui_handle_key(&M, 'x');
    while (M.job.running && !qs_tui_job_poll(&M)) usleep(1000);
    cr_assert_eq(M.err_methods, 0);
}

/* ---- the lesson player ---------------------------------------------------------------------- */

Test(lesson, steps_narration_commands_and_a_quiz, .init = setup_default, .fini = teardown)
{
    char path[] = "/tmp/qscope_tui_lessonXXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    const char *text = "title: Test lesson\n\n## First\nSome narration.\n> values -20 1000\n"
                       "@screen bits\n---\n## Second\nquiz: What is 2 + 2?\nanswer: 4 | four\n"
                       "hint: count\n";
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    qs_tui_goto(&M, QS_SCR_LESSON);
    qs_tui_lesson_open(&M, path);
    cr_assert_not_null(M.lesson, "%s", M.status);
    cr_assert_neq(M.s, &S, "the lesson plays on a session of its own");
    cr_assert(!M.s->tensor || M.s->tensor->n != 2, "nothing runs before the learner starts step 1");
    qs_tui_handle_key(&M, 'n');
    cr_assert_eq(M.s->tensor->n, 2, "the lesson's command ran on its session");
    cr_assert_eq(S.tensor->n, 4096, "the user's tensor is untouched");
    cr_assert_eq(M.screen, QS_SCR_LESSON, "results go beside the narration");
    cr_assert_eq(M.lesson_live, QS_SCR_BITS, "@screen bits");
    size_t n = json_array_size(M.lesson_log);
    cr_assert_geq(n, 3);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(M.lesson_log, 0), "text")),
                     "First");
    /* the next step: a quiz opens the answer prompt */
    int f = qs_tui_handle_key(&M, 'n');
    cr_assert(f & QS_TUI_PROMPT);
    cr_assert_eq(M.prompt, QS_PR_ANSWER);
    qs_tui_submit(&M, "5");
    cr_assert_eq(M.status_err, 1);
    cr_assert_not_null(strstr(M.status, "count"));
    qs_tui_handle_key(&M, 'a');
    qs_tui_submit(&M, "Four");
    cr_assert_eq(M.status_err, 0);
    /* back a step re-runs the first step's command from the lesson's own start */
    qs_tui_run_user(&M, "values 1 2 3");
    cr_assert_eq(M.s->tensor->n, 3);
    qs_tui_handle_key(&M, 'p');
    cr_assert_eq(M.s->tensor->n, 2);
    /* X closes the lesson: the user's session and tensor are back */
    qs_tui_handle_key(&M, 'X');
    cr_assert_null(M.lesson);
    cr_assert_eq(M.s, &S);
    cr_assert_eq(M.t_n, 4096);
    unlink(path);
}

Test(lesson, auto_play_waits_for_the_delay_then_stops_at_a_quiz, .init = setup_default,
     .fini = teardown)
{
    char path[] = "/tmp/qscope_tui_autoXXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    const char *text = "title: Auto\ndelay: 3s\n\n## One\nFirst.\n---\n## Two\nSecond.\n---\n"
                       "## Three\nquiz: 1 + 1?\nanswer: 2\n";
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    qs_tui_goto(&M, QS_SCR_LESSON);
    qs_tui_lesson_open(&M, path);
    cr_assert_not_null(M.lesson, "%s", M.status);
    qs_tui_handle_key(&M, 'n');         /* nothing runs before the learner starts step 1 */
    cr_assert_eq(qs_tui_lesson_tick(&M, 1000), 0, "auto-play is off");
    qs_tui_handle_key(&M, 'A');
    cr_assert_eq(M.lesson_auto, 1);
    cr_assert_eq(qs_tui_lesson_tick(&M, 1000), 0, "the first tick sets the deadline");
    cr_assert_eq(qs_tui_lesson_tick(&M, 3999), 0, "3 s have not passed");
    cr_assert(qs_tui_lesson_tick(&M, 4000) & QS_TUI_REDRAW);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(M.lesson_log, 0), "text")),
                     "Two");
    int f = qs_tui_lesson_tick(&M, 7000);
    cr_assert(f & QS_TUI_PROMPT, "the quiz asks for an answer");
    cr_assert_eq(qs_tui_lesson_tick(&M, 20000), 0, "auto-play waits while the quiz is open");
    unlink(path);
}

/* Presenter mode: a quiz waits without opening the answer line; the lesson starts from its
 * own state (not the user's tensor and views) and X gives those back. */
Test(lesson, presenter_mode_and_the_users_state_come_back, .init = setup_default,
     .fini = teardown)
{
    char path[] = "/tmp/qscope_tui_presentXXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    const char *text = "title: Present\n\n## One\n> values -20 1000\nexpect n == 2\n---\n"
                       "## Two\nquiz: 2 + 2?\nanswer: 4\n";
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    M.log_scale = 1;
    qs_tui_bits_set(&M, 1.5);
    cr_assert(qs_tui_present(&M, 1) & QS_TUI_RESIZE, "the windows are laid out again");
    cr_assert_eq(M.screen, QS_SCR_LESSON);
    qs_tui_lesson_open(&M, path);
    cr_assert_not_null(M.lesson, "%s", M.status);
    cr_assert_eq(M.log_scale, 0, "the lesson starts from its own views");
    cr_assert_float_eq(M.bits_input, 7.32, 0);
    cr_assert_neq(M.s, &S, "the lesson plays on a session of its own");
    cr_assert(!M.s->tensor, "nothing runs before the learner starts step 1");
    qs_tui_handle_key(&M, 'n');
    cr_assert_eq(M.s->tensor->n, 2);
    cr_assert_eq(S.tensor->n, 4096);
    int f = qs_tui_handle_key(&M, 'n');
    cr_assert_eq(M.lesson_quiz, 1);
    cr_assert(!(f & QS_TUI_PROMPT), "presenter mode: a opens the answer line");
    cr_assert_eq(M.prompt, QS_PR_NONE);
    cr_assert(qs_tui_handle_key(&M, 'a') & QS_TUI_PROMPT);
    qs_tui_submit(&M, "4");
    cr_assert_eq(M.lesson_quiz, 0);
    qs_tui_handle_key(&M, 'X');
    cr_assert_null(M.lesson);
    cr_assert_eq(M.s, &S, "the user's session is back");
    cr_assert_eq(M.log_scale, 1, "and the user's views");
    cr_assert_float_eq(M.bits_input, 1.5, 0);
    cr_assert_eq(M.t_n, 4096);
    qs_tui_present(&M, 0);
    unlink(path);
}

/* ---- the screen table and the drawing agree on the highlight names ------------------------ */

/* The TUI's sources concatenated (every .c file in src/tui), or NULL. */
static char *tui_sources(void)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", top_path("src/tui"));
    DIR *d = opendir(dir);
    if (!d) return NULL;
    size_t n = 0;
    char *all = calloc(1, 1);
    struct dirent *e;
    while (all && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 3 || strcmp(e->d_name + len - 2, ".c")) continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f) continue;
        char buf[65536];
        size_t k;
        while ((k = fread(buf, 1, sizeof buf, f)) > 0) {
            char *grown = realloc(all, n + k + 1);
            if (!grown) { free(all); all = NULL; break; }
            all = grown;
            memcpy(all + n, buf, k);
            n += k;
            all[n] = '\0';
        }
        fclose(f);
    }
    closedir(d);
    return all;
}

/* Every element the TUI marks goes through the table's constants (no name spelled as a
 * string, which `lesson check` would not know), every name the table declares is drawn by
 * some screen, and the screens' titles are their @screen names. */
Test(screens, the_table_declares_exactly_what_the_tui_highlights)
{
    char *src = tui_sources();
    cr_assert_not_null(src, "cannot read %s", top_path("src/tui"));
    int calls = 0;
    for (const char *p = src; (p = strstr(p, "hl(m, ")); p += 6) {
        if (p > src && (isalnum((unsigned char)p[-1]) || p[-1] == '_')) continue; /* put_hl */
        calls++;
        cr_expect(strncmp(p + 6, "QS_HL_", 6) == 0,
                  "a highlight not named by a qs_hl constant: %.40s", p);
    }
    cr_expect_geq(calls, QS_HL_COUNT, "the TUI's hl() calls were not found");
    for (int h = 0; h < QS_HL_COUNT; h++) {
        char call[64];
        int k = snprintf(call, sizeof call, "hl(m, QS_HL_");
        for (const char *c = qs_hl_names[h]; *c && k < (int)sizeof call - 2; c++)
            call[k++] = (char)toupper((unsigned char)*c);
        call[k++] = ')';
        call[k] = '\0';
        cr_expect_not_null(strstr(src, call), "'%s' is declared but no screen draws %s",
                           qs_hl_names[h], call);
        cr_expect_eq(qs_hl_find(qs_hl_names[h]), h, "no screen declares '%s'", qs_hl_names[h]);
    }
    cr_expect_eq(qs_hl_find("no_such_element"), -1);
    for (int i = 0; i < QS_SCR_COUNT; i++) {
        cr_expect_eq(strcasecmp(qs_screens[i].title, qs_screens[i].name), 0);
        char num[16];
        snprintf(num, sizeof num, "%d", i + 1);
        cr_expect_eq(qs_screen_find(num), i);
        cr_expect_eq(qs_screen_find(qs_screens[i].name), i);
    }
    free(src);
}
