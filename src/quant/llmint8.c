/* llmint8.c — LLM.int8() mixed-precision decomposition (Dettmers et al. 2022, bitsandbytes
 * MatMul8bitLt with threshold): outlier input columns in floating point, the rest in int8 with
 * vector-wise (per-row of X, per-output-row of W) absmax scales (llmq.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/llmq.h"

int qs_llmint8(const float *X, int n, const float *W, int out, int in, double threshold,
               float *Y, uint8_t *keep, int *nkeep, qs_err *err)
{
    if (n <= 0 || out <= 0 || in <= 0) return qs_err_set(err, "llmint8: empty matrices");
    uint8_t *k = calloc((size_t)in, 1);
    float *Xr = malloc((size_t)n * in * sizeof *Xr), *Wr = malloc((size_t)out * in * sizeof *Wr);
    float *Yr = malloc((size_t)n * out * sizeof *Yr);
    int rc = QS_OK, nk = 0;
    if (!k || !Xr || !Wr || !Yr) { rc = qs_err_set(err, "llmint8: out of memory"); goto done; }
    for (int j = 0; j < in; j++) {
        for (int t = 0; t < n && !k[j]; t++)
            if (fabs((double)X[(size_t)t * in + j]) >= threshold) k[j] = 1;
        nk += k[j];
    }
    /* the int8 part: outlier columns zeroed on both sides */
    for (int t = 0; t < n; t++)
        for (int j = 0; j < in; j++) Xr[(size_t)t * in + j] = k[j] ? 0.0f : X[(size_t)t * in + j];
    for (int o = 0; o < out; o++)
        for (int j = 0; j < in; j++) Wr[(size_t)o * in + j] = k[j] ? 0.0f : W[(size_t)o * in + j];
    if ((rc = qs_w8a8(Xr, n, Wr, out, in, 0, Yr, err)) != QS_OK) goto done;
    for (int t = 0; t < n; t++)
        for (int o = 0; o < out; o++) {
            double acc = 0.0;     /* the kept columns in floating point */
            for (int j = 0; j < in; j++)
                if (k[j]) acc += (double)X[(size_t)t * in + j] * W[(size_t)o * in + j];
            Y[(size_t)t * out + o] = (float)((double)Yr[(size_t)t * out + o] + acc);
        }
    if (keep) memcpy(keep, k, (size_t)in);
    if (nkeep) *nkeep = nk;
done:
    free(k); free(Xr); free(Wr); free(Yr);
    return rc;
}
