/* test_cmd_data.c — the data commands through the command table: stats of loaded tensors
 * against numpy (tests/golden/loaded_stats.txt), load/use/values errors keep the session. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "qscope/cmd.h"
#include "qscope/kernels.h"

static qs_session S;

static void setup(void)
{
    qs_kernels_init();
    qs_session_init(&S);
}

static void teardown(void)
{
    qs_session_fini(&S);
}

TestSuite(cmd_data, .init = setup, .fini = teardown);

static json_t *run(const char *line)
{
    json_t *out = NULL;
    qs_err err = {{0}};
    int rc = qs_cmd_run_line(&S, line, &out, NULL, &err);
    cr_assert_eq(rc, QS_OK, "'%s' failed: %s", line, err.msg);
    return out;
}

static void close_to(double got, double want, const char *what, const char *where)
{
    /* float32 precision of the working values, relative to the tensor's scale */
    double tol = 1e-6 * fmax(1.0, fabs(want));
    cr_expect(fabs(got - want) <= tol, "%s %s: got %.17g want %.17g", where, what, got, want);
}

Test(cmd_data, stats_match_numpy)
{
    FILE *f = fopen("tests/golden/loaded_stats.txt", "r");
    cr_assert_not_null(f, "run from the repository root");
    char line[1024];
    int rows = 0;
    while (fgets(line, sizeof line, f)) {
        char file[256], tensor[256];
        long long n;
        double mn, mx, mean, sd, amax;
        if (line[0] == '#') continue;
        if (sscanf(line, "%255s %255s %lld %lf %lf %lf %lf %lf", file, tensor, &n, &mn, &mx,
                   &mean, &sd, &amax) != 8)
            continue;
        char cmd[600];
        if (strcmp(tensor, "-") == 0) snprintf(cmd, sizeof cmd, "load %s", file);
        else snprintf(cmd, sizeof cmd, "load %s '%s'", file, tensor);
        json_decref(run(cmd));
        json_t *st = run("stats");
        cr_expect_eq(json_integer_value(json_object_get(st, "n")), n, "%s n", cmd);
        close_to(json_number_value(json_object_get(st, "min")), mn, "min", cmd);
        close_to(json_number_value(json_object_get(st, "max")), mx, "max", cmd);
        close_to(json_number_value(json_object_get(st, "mean")), mean, "mean", cmd);
        close_to(json_number_value(json_object_get(st, "std")), sd, "std", cmd);
        close_to(json_number_value(json_object_get(st, "absmax")), amax, "absmax", cmd);
        json_decref(st);
        rows++;
    }
    fclose(f);
    cr_assert_gt(rows, 10, "golden file too short");
}

Test(cmd_data, errors_keep_the_session)
{
    json_decref(run("values -20 1000"));
    json_t *out = NULL;
    qs_err err = {{0}};
    cr_expect_eq(qs_cmd_run_line(&S, "load tests/fixtures/does-not-exist.npy", &out, NULL, &err),
                 QS_ERR);
    cr_expect(strstr(err.msg, "does-not-exist.npy") != NULL, "message names the file: %s",
              err.msg);
    cr_expect_eq(qs_cmd_run_line(&S, "load tests/fixtures/npy_trunc_data.npy", &out, NULL,
                                 &err), QS_ERR);
    cr_expect(strstr(err.msg, "npy_trunc_data.npy") != NULL, "%s", err.msg);
    cr_expect_eq(qs_cmd_run_line(&S, "use nothing", &out, NULL, &err), QS_ERR);
    cr_expect_eq(qs_cmd_run_line(&S, "values 1 abc", &out, NULL, &err), QS_ERR);
    cr_expect(strstr(err.msg, "abc") != NULL, "%s", err.msg);
    /* beyond float32 (3.4028235e38) would silently become inf: an error naming the value */
    cr_expect_eq(qs_cmd_run_line(&S, "values 1 1e39", &out, NULL, &err), QS_ERR);
    cr_expect(strstr(err.msg, "'1e39'") != NULL, "%s", err.msg);
    cr_expect_eq(qs_cmd_run_line(&S, "values -1e999", &out, NULL, &err), QS_ERR);
    cr_assert_not_null(S.tensor);
    cr_expect_eq(S.tensor->n, 2);
    cr_expect_eq(S.tensor->data[0], -20.0f);
    cr_expect_eq(S.tensor->data[1], 1000.0f);
    /* infinity written as such, and float32's largest value, are still accepted */
    json_decref(run("values inf 3.4028234e38"));
    cr_expect(isinf(S.tensor->data[0]));
    cr_expect_eq(S.tensor->data[1], 3.4028234e38f);
}

Test(cmd_data, names_with_slashes_and_use)
{
    json_decref(run("load tests/fixtures/model.safetensors encoder/layer.0/weight"));
    cr_assert_str_eq(S.tensor->name, "encoder/layer.0/weight");
    json_decref(run("use fc.half"));
    cr_assert_str_eq(S.tensor->name, "fc.half");
    json_t *t = run("tensors");
    json_t *arr = json_object_get(t, "tensors");
    cr_assert(json_array_size(arr) > 3);
    json_t *first = json_array_get(arr, 0);
    cr_expect_str_eq(json_string_value(json_object_get(first, "name")), "encoder/layer.0/weight");
    cr_expect(json_is_array(json_object_get(first, "shape")));
    cr_expect(json_is_string(json_object_get(first, "dtype")));
    json_decref(t);
}

Test(cmd_data, hist_counts_every_value)
{
    json_decref(run("synth normal n=10001 seed=7"));
    json_t *h = run("hist bins=13");
    json_t *c = json_object_get(h, "counts");
    cr_assert_eq(json_array_size(c), 13);
    long long total = 0;
    for (size_t i = 0; i < 13; i++) total += json_integer_value(json_array_get(c, i));
    cr_expect_eq(total, 10001, "min..max range holds every value (got %lld)", total);
    json_decref(h);
}

Test(cmd_data, suggestions_for_typos)
{
    json_t *out = NULL;
    qs_err err = {{0}};
    cr_expect_eq(qs_cmd_run_line(&S, "stast", &out, NULL, &err), QS_ERR);
    cr_expect(strstr(err.msg, "did you mean 'stats'") != NULL, "%s", err.msg);
}

/* A 10 GB safetensors file (sparse): opening and listing must not touch the data, and the
 * selected tensor is converted only when a command needs its values. */
Test(cmd_data, huge_file_lists_without_converting)
{
    char path[] = "/tmp/qscope-huge-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    const long long per = 1342177280LL;     /* 327680 x 1024 float32 */
    char hdr[2048];
    int len = snprintf(hdr, sizeof hdr, "{");
    for (int i = 0; i < 8; i++)
        len += snprintf(hdr + len, sizeof hdr - (size_t)len,
                        "%s\"layer.%d.weight\":{\"dtype\":\"F32\",\"shape\":[327680,1024],"
                        "\"data_offsets\":[%lld,%lld]}", i ? "," : "", i, per * i, per * (i + 1));
    len += snprintf(hdr + len, sizeof hdr - (size_t)len, "}");
    while (len % 8) hdr[len++] = ' ';
    unsigned char n8[8];
    for (int i = 0; i < 8; i++) n8[i] = (unsigned char)((unsigned long long)len >> (8 * i));
    cr_assert_eq(write(fd, n8, 8), 8);
    cr_assert_eq(write(fd, hdr, (size_t)len), len);
    cr_assert_eq(ftruncate(fd, 8 + len + per * 8), 0);
    close(fd);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "load %s layer.7.weight", path);
    json_t *r = run(cmd);
    cr_expect_null(S.tensor, "a 1.3 GB tensor is not converted by load");
    cr_expect_eq(json_integer_value(json_object_get(r, "n")), 327680LL * 1024);
    json_decref(r);
    r = run("tensors");
    cr_expect_eq(json_array_size(json_object_get(r, "tensors")), 8);
    json_decref(r);
    unlink(path);
}
