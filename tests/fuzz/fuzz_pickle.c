/* fuzz_pickle.c — libFuzzer harness for the restricted unpickler alone (data.pkl bytes). Any
 * tensor it returns must have a sane shape and a storage key without '/'. */
#include "fuzz_common.h"

#include "../../src/io/io_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    if (size) memcpy(buf, data, size);
    qs_pk_tensor *t = NULL;
    int n = 0;
    qs_err err = {""};
    if (qs_io_pickle_tensors(buf, size, "fuzz.pt", &t, &n, &err) != QS_OK) {
        if (t || n) abort();
        fuzz_check_msg("fuzz.pt", &err);
    } else {
        for (int i = 0; i < n; i++) {
            if (t[i].ndim < 0 || t[i].ndim > QS_MAX_DIMS || strchr(t[i].key, '/') ||
                t[i].offset < 0 || t[i].storage_numel < 0)
                abort();
            for (int d = 0; d < t[i].ndim; d++)
                if (t[i].shape[d] < 0 || t[i].stride[d] < 0) abort();
        }
    }
    qs_io_pickle_free(t, n);
    free(buf);
    return 0;
}
