/* tensor.c — qs_tensor allocation, shapes and dtype names. */
#include "qscope/tensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct { const char *name; size_t size; } dtypes[QS_DT_COUNT] = {
    [QS_DT_F32] = {"F32", 4},   [QS_DT_F64] = {"F64", 8},   [QS_DT_F16] = {"F16", 2},
    [QS_DT_BF16] = {"BF16", 2}, [QS_DT_I8] = {"I8", 1},     [QS_DT_U8] = {"U8", 1},
    [QS_DT_I16] = {"I16", 2},   [QS_DT_U16] = {"U16", 2},   [QS_DT_I32] = {"I32", 4},
    [QS_DT_U32] = {"U32", 4},   [QS_DT_I64] = {"I64", 8},   [QS_DT_U64] = {"U64", 8},
    [QS_DT_F8_E4M3] = {"F8_E4M3", 1}, [QS_DT_F8_E5M2] = {"F8_E5M2", 1},
    [QS_DT_BOOL] = {"BOOL", 1},
    [QS_DT_Q8_0] = {"Q8_0", 0}, [QS_DT_Q4_0] = {"Q4_0", 0}, [QS_DT_Q4_1] = {"Q4_1", 0},
    [QS_DT_Q5_0] = {"Q5_0", 0}, [QS_DT_Q5_1] = {"Q5_1", 0}, [QS_DT_Q2_K] = {"Q2_K", 0},
    [QS_DT_Q3_K] = {"Q3_K", 0}, [QS_DT_Q4_K] = {"Q4_K", 0}, [QS_DT_Q5_K] = {"Q5_K", 0},
    [QS_DT_Q6_K] = {"Q6_K", 0}, [QS_DT_TEXT] = {"text", 0}, [QS_DT_SYNTH] = {"synth", 0},
};

const char *qs_dtype_name(qs_dtype dt)
{
    return (dt >= 0 && dt < QS_DT_COUNT && dtypes[dt].name) ? dtypes[dt].name : "?";
}

size_t qs_dtype_size(qs_dtype dt)
{
    return (dt >= 0 && dt < QS_DT_COUNT) ? dtypes[dt].size : 0;
}

int64_t qs_shape_numel(int ndim, const int64_t *shape)
{
    if (ndim < 0 || ndim > QS_MAX_DIMS) return -1;
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) return -1;
        if (shape[i] != 0 && n > INT64_MAX / shape[i]) return -1;
        n *= shape[i];
    }
    return n;
}

void qs_shape_str(int ndim, const int64_t *shape, char *buf, size_t len)
{
    size_t off = 0;
    if (len == 0) return;
    buf[0] = '\0';
    off += (size_t)snprintf(buf + off, len - off, "[");
    for (int i = 0; i < ndim && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, i ? ", %lld" : "%lld", (long long)shape[i]);
    if (off < len) snprintf(buf + off, len - off, "]");
}

void *qs_alloc_aligned(size_t bytes)
{
    void *p = NULL;
    if (bytes == 0) bytes = 64;
    bytes = (bytes + 63) & ~(size_t)63;
    if (posix_memalign(&p, 64, bytes) != 0) return NULL;
    return p;
}

void qs_free_aligned(void *p)
{
    free(p);
}

qs_tensor *qs_tensor_new(const char *name, int ndim, const int64_t *shape, qs_dtype src,
                         qs_err *err)
{
    int64_t n = qs_shape_numel(ndim, shape);
    if (n < 0) {
        qs_err_set(err, "shape product overflows or has a negative dimension");
        return NULL;
    }
    if ((uint64_t)n > SIZE_MAX / sizeof(float)) {
        qs_err_set(err, "tensor of %lld elements does not fit in memory", (long long)n);
        return NULL;
    }
    qs_tensor *t = calloc(1, sizeof *t);
    if (!t) goto oom;
    t->name = strdup(name ? name : "");
    t->data = qs_alloc_aligned((size_t)n * sizeof(float));
    if (!t->name || !t->data) goto oom;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
    t->n = n;
    t->src_dtype = src;
    return t;
oom:
    qs_tensor_free(t);
    qs_err_set(err, "out of memory allocating a tensor of %lld elements", (long long)n);
    return NULL;
}

qs_tensor *qs_tensor_from_values(const char *name, const float *v, int64_t n, qs_err *err)
{
    int64_t shape[1] = {n};
    qs_tensor *t = qs_tensor_new(name, 1, shape, QS_DT_SYNTH, err);
    if (t && n > 0) memcpy(t->data, v, (size_t)n * sizeof(float));
    return t;
}

qs_tensor *qs_tensor_clone(const qs_tensor *src, qs_err *err)
{
    qs_tensor *t = qs_tensor_new(src->name, src->ndim, src->shape, src->src_dtype, err);
    if (t && t->n > 0) memcpy(t->data, src->data, (size_t)t->n * sizeof(float));
    return t;
}

void qs_tensor_free(qs_tensor *t)
{
    if (!t) return;
    free(t->name);
    qs_free_aligned(t->data);
    free(t);
}
