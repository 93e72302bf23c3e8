/* llm_acts.h — the synthetic calibration activations of the method commands (cmd_llm.c),
 * shared with `methods` (cmd_methods.c) so every row of its table sees the same matrix the
 * single-method commands build from the same n= outliers= oscale= seed= keys. Private to
 * src/cmd. */
#ifndef QSCOPE_LLM_ACTS_H
#define QSCOPE_LLM_ACTS_H

#include <stddef.h>
#include <stdint.h>

#include "qscope/err.h"

/* X [n × in] (malloc'd, the caller frees): seeded N(0, 1) rows with k planted outlier
 * channels (their indices, at most 64, into chan) scaled by oscale, read from argv's keys
 * with the method commands' defaults (n=256, outliers=4, oscale=20, seed=1); label
 * receives the "synthetic activations: ..." text every result carries. */
int qs_llm_acts(int argc, char **argv, int in, float **X, int *n, int *chan, int *k,
                char *label, size_t len, qs_err *err);

/* n fresh rows of the same distribution as qs_llm_acts' X (seed's held-out stream, the same
 * k planted channels × scale), malloc'd; NULL when out of memory */
float *qs_llm_heldout(const float *X, int n, int in, uint64_t seed, const int *chan, int k,
                      double scale);

#endif
