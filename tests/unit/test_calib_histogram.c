/* test_calib_histogram.c — the `histogram` calibrator against python3-torch 1.13's
 * HistogramObserver on the tensors of tests/golden/torch_histogram.json
 * (tests/golden/make_histogram_golden.py): the range its L2 search picks, then the scale and
 * zero point of the torch convention bit for bit, for uint8 affine, int8 symmetric and
 * uint4 affine (torch: quint8 with quant_max 15). */
#include <criterion/criterion.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/calib.h"
#include "qscope/cmd.h"
#include "qscope/quant.h"

static json_t *golden(const char *name)
{
    char path[1024];
    const char *top = getenv("QSCOPE_TOP");
    snprintf(path, sizeof path, "%s/tests/golden/%s", top && *top ? top : ".", name);
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    cr_assert_not_null(j, "cannot read %s: %s", path, e.text);
    return j;
}

static float jf(json_t *o, const char *k)
{
    return (float)json_number_value(json_object_get(o, k));
}

Test(histogram, matches_torch_histogram_observer)
{
    json_t *g = golden("torch_histogram.json");
    json_t *cases = json_object_get(g, "cases");
    cr_assert_gt(json_array_size(cases), 0);
    size_t k;
    json_t *cs;
    json_array_foreach(cases, k, cs) {
        const char *tn = json_string_value(json_object_get(cs, "tensor"));
        const char *sn = json_string_value(json_object_get(cs, "scheme"));
        json_t *xs = json_object_get(cs, "x");
        int64_t n = (int64_t)json_array_size(xs);
        float *x = malloc((size_t)n * sizeof *x);
        for (int64_t i = 0; i < n; i++)
            x[i] = (float)json_number_value(json_array_get(xs, (size_t)i));
        qs_scheme sc;
        qs_err err = {{0}};
        char **w = NULL;
        int nw = qs_split(sn, &w, &err);
        cr_assert_eq(qs_scheme_parse(&sc, nw, w, &err), QS_OK, "%s: %s", sn, err.msg);
        qs_split_free(w);
        qs_layout l;
        int64_t shape[1] = { n };
        cr_assert_eq(qs_layout_make(1, shape, QS_G_TENSOR, 0, 1, &l), QS_OK);
        qs_calib c;
        qs_calib_default(&c);
        c.kind = QS_CAL_HISTOGRAM;
        qs_calib_result r;
        cr_assert_eq(qs_calib_run(x, &l, &sc, &c, &r, &err), QS_OK, "%s", err.msg);
        float want_lo = jf(cs, "new_min"), want_hi = jf(cs, "new_max");
        cr_assert(r.lo[0] == want_lo && r.hi[0] == want_hi,
                  "%s / %s: range [%.9g, %.9g], torch [%.9g, %.9g] (%s)", tn, sn, r.lo[0],
                  r.hi[0], want_lo, want_hi, r.reason);
        qs_qparams qp;
        cr_assert_eq(qs_qparams_compute(&sc, &l, r.lo, r.hi, NULL, &qp, &err), QS_OK);
        cr_assert_eq(qp.qmin, (int)json_integer_value(json_object_get(cs, "qmin")), "%s", sn);
        cr_assert_eq(qp.qmax, (int)json_integer_value(json_object_get(cs, "qmax")), "%s", sn);
        float want_s = jf(cs, "scale");
        int want_zp = (int)json_integer_value(json_object_get(cs, "zero_point"));
        cr_assert(memcmp(&qp.scale[0], &want_s, sizeof want_s) == 0 && qp.zp[0] == want_zp,
                  "%s / %s: scale %.9g zp %d, torch %.9g %d", tn, sn, qp.scale[0], qp.zp[0],
                  want_s, want_zp);
        cr_assert_gt(r.ncurve, 0, "%s / %s: no curve", tn, sn);
        qs_qparams_fini(&qp);
        qs_calib_result_fini(&r);
        free(x);
    }
    json_decref(g);
}

Test(histogram, cycle_lab_and_help_follow_the_row)
{
    const qs_calib_desc *d = &qs_calib_table[QS_CAL_HISTOGRAM];
    cr_assert_str_eq(d->name, "histogram");
    cr_assert_not_null(d->cycle, "the TUI's c cycle includes it");
    cr_assert(d->flags & QS_CALF_LAB, "the lab's calib= takes it");
    char *opts = qs_cmd_options(qs_cmd_find("calib"));
    cr_assert_not_null(strstr(opts, "histogram        PyTorch 1.13 HistogramObserver"), "%s", opts);
    free(opts);
}
