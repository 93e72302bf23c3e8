/* fuzz_io.c — libFuzzer harness for the io loaders (.npy, safetensors, text): the first byte
 * picks the file name (and so the extension fallback), the rest is the file. Whatever opens
 * must satisfy the loaders' invariants and convert without touching memory outside it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *names[] = {"fuzz.npy", "fuzz.safetensors", "fuzz.csv", "fuzz.bin"};
    if (size < 1) return 0;
    const char *name = names[data[0] % 4];
    /* a heap copy of exactly the file's bytes, so ASan sees any read past its end */
    size_t len = size - 1;
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) return 0;
    memcpy(buf, data + 1, len);

    qs_file *f = NULL;
    qs_err err = {""};
    if (qs_file_open_mem(name, buf, len, &f, &err) != QS_OK) {
        /* one line, naming the file */
        if (f || strncmp(err.msg, name, strlen(name)) != 0 || strchr(err.msg, '\n')) abort();
        free(buf);
        return 0;
    }
    for (int i = 0; i < f->n; i++) {
        const qs_entry *e = &f->entries[i];
        if (e->ndim < 0 || e->ndim > QS_MAX_DIMS || qs_shape_numel(e->ndim, e->shape) != e->n)
            abort();
        if (e->dtype != QS_DT_TEXT &&
            (e->offset > f->maplen || e->nbytes > f->maplen - e->offset ||
             (uint64_t)e->n * qs_dtype_size(e->dtype) != e->nbytes))
            abort();
        if (qs_file_find(f, e->name) < 0) abort();
        qs_tensor *t = NULL;
        if (qs_file_read(f, i, &t, &err) != QS_OK) abort();   /* open checked everything */
        qs_tensor_free(t);
    }
    qs_file_close(f);
    free(buf);
    return 0;
}
