/* imatrix.h — llama.cpp's importance matrix (issue 17): the per-input-column mean of x² of a
 * linear layer's calibration inputs (llama-imatrix), and the weighted quantizers llama.cpp
 * uses with it (`llama-quantize --imatrix`): Q4_0, Q4_K and Q6_K (ggml_imatrix.c). */
#ifndef QSCOPE_IMATRIX_H
#define QSCOPE_IMATRIX_H

#include <stdint.h>

#include "qscope/err.h"

/* imat[j] = mean over the n rows of X [n × in] of X_tj². */
int qs_imatrix_from_acts(const float *X, int64_t n, int in, float *imat, qs_err *err);

/* Quantizes each of the rows of W [rows × n_per_row] with ggml type id (QS_GGML_Q4_0, _Q4_K
 * or _Q6_K) as llama.cpp's quantize_q4_0 / quantize_q4_K / quantize_q6_K do: with qw (the
 * imatrix, n_per_row entries, shared by every row) the weighted search of
 * quantize_row_*_impl, with qw NULL the reference quantizer; y receives the dequantized
 * weights. n_per_row must be a whole number of blocks. */
int qs_ggml_quantize_imatrix(int id, const float *W, int64_t rows, int64_t n_per_row,
                             const float *qw, float *y, qs_err *err);

#endif
