/* fuzz_common.h — shared checks of the loader harnesses: a heap copy of exactly the input (so
 * ASan sees any read past its end), the invariants every opened qs_file must satisfy, and
 * "a failure is one line naming the file". Header-only; included by tests/fuzz/fuzz_*.c. */
#ifndef QSCOPE_FUZZ_COMMON_H
#define QSCOPE_FUZZ_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/ggml.h"
#include "qscope/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A failure message must start with the file name and be one line. */
static void fuzz_check_msg(const char *name, const qs_err *err)
{
    if (strncmp(err->msg, name, strlen(name)) != 0 || strchr(err->msg, '\n') ||
        err->msg[0] == '\0')
        abort();
}

/* Opens data[0..size) as `name`, checks the invariants, reads every tensor. */
static void fuzz_open_and_read(const char *name, const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return;
    if (size) memcpy(buf, data, size);
    qs_file *f = NULL;
    qs_err err = {""};
    if (qs_file_open_mem(name, buf, size, &f, &err) != QS_OK) {
        if (f) abort();
        fuzz_check_msg(name, &err);
        free(buf);
        return;
    }
    for (int i = 0; i < f->n; i++) {
        const qs_entry *e = &f->entries[i];
        if (e->ndim < 0 || e->ndim > QS_MAX_DIMS || qs_shape_numel(e->ndim, e->shape) != e->n)
            abort();
        if (qs_file_find(f, e->name) < 0) abort();
        if (!f->read && e->dtype != QS_DT_TEXT) {
            /* data is a range of the mapping: it must lie inside it and match the type */
            if (e->offset > f->maplen || e->nbytes > f->maplen - e->offset) abort();
            size_t sz = qs_dtype_size(e->dtype);
            int gid = qs_ggml_type_of_dtype(e->dtype);
            if (sz && (uint64_t)e->n * sz != e->nbytes) abort();
            if (gid >= 0) {
                uint64_t want = 0;
                if (qs_ggml_row_bytes(gid, e->n, &want, NULL) != QS_OK || want != e->nbytes)
                    abort();
            }
        }
        if (e->n > (1 << 24)) continue;          /* valid but too big to convert here */
        qs_tensor *t = NULL;
        int rc = qs_file_read(f, i, &t, &err);
        /* only formats that decode on read (zip storages) or refused types may fail here */
        if (rc != QS_OK && !f->read && !e->type_name) abort();
        if (rc != QS_OK) fuzz_check_msg(name, &err);
        qs_tensor_free(t);
    }
    qs_file_close(f);
    free(buf);
}

#endif
