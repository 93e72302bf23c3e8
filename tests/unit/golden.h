/* golden.h — reading value lines of the golden files in tests/golden/ ("NAME COUNT v1 v2 ...",
 * '#' starts a comment line), shared by the unit tests that compare against them. */
#ifndef QSCOPE_TEST_GOLDEN_H
#define QSCOPE_TEST_GOLDEN_H

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads the values of line `name` of `file` into a new array of elem-sized numbers (float
 * parsed with %f, double with %lf); the count goes to *n. Fails the test when the file or
 * the line is missing or malformed. The caller frees the array. */
static void *golden_line(const char *file, const char *name, int64_t *n, size_t elem)
{
    FILE *fp = fopen(file, "r");
    cr_assert_not_null(fp, "cannot open %s", file);
    char key[256];
    long long cnt;
    void *v = NULL;
    while (fscanf(fp, "%255s", key) == 1) {
        if (key[0] == '#') {
            int c;
            while ((c = fgetc(fp)) != '\n' && c != EOF) {}
            continue;
        }
        cr_assert_eq(fscanf(fp, "%lld", &cnt), 1, "%s: bad count for %s", file, key);
        void *w = malloc((size_t)(cnt ? cnt : 1) * elem);
        cr_assert_not_null(w);
        for (long long i = 0; i < cnt; i++) {
            int ok = elem == sizeof(float) ? fscanf(fp, "%f", (float *)w + i)
                                           : fscanf(fp, "%lf", (double *)w + i);
            cr_assert_eq(ok, 1, "%s: bad value %lld of %s", file, i, key);
        }
        if (strcmp(key, name) == 0) {
            v = w;
            *n = cnt;
            break;
        }
        free(w);
    }
    fclose(fp);
    cr_assert_not_null(v, "no golden line %s in %s", name, file);
    return v;
}

static inline float *golden_f(const char *file, const char *name, int64_t *n)
{
    return golden_line(file, name, n, sizeof(float));
}

static inline double *golden_d(const char *file, const char *name, int64_t *n)
{
    return golden_line(file, name, n, sizeof(double));
}

#endif
