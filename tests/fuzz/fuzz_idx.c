/* fuzz_idx.c — libFuzzer harness for the IDX (MNIST family) parser and the digits CSV parser
 * of src/nn/data.c: the first two bytes split the input into an images file and a labels
 * file; the whole input is also parsed as digits CSV. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/nn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    size_t split = (size_t)(data[0] | data[1] << 8);
    const uint8_t *p = data + 2;
    size_t n = size - 2;
    if (split > n) split = n;
    /* heap copies of exactly the two files, so ASan sees reads past either end */
    uint8_t *img = malloc(split ? split : 1), *lab = malloc(n - split ? n - split : 1);
    char *text = malloc(n + 1);
    if (!img || !lab || !text) goto done;
    memcpy(img, p, split);
    memcpy(lab, p + split, n - split);
    qs_nn_set s;
    memset(&s, 0, sizeof s);
    qs_err err = {""};
    if (qs_nn_parse_idx(img, split, lab, n - split, &s, "fuzz.idx", &err) == QS_OK) {
        for (int64_t i = 0; i < s.n; i++)
            if (s.y[i] > 9) abort();
        qs_nn_set_fini(&s);
    } else if (strncmp(err.msg, "fuzz.idx", 8) != 0 || strchr(err.msg, '\n')) {
        abort();
    }
    memcpy(text, p, n);
    text[n] = '\0';
    memset(&s, 0, sizeof s);
    if (qs_nn_parse_csv(text, n, 4, 16.0f, &s, "fuzz.csv", &err) == QS_OK) qs_nn_set_fini(&s);
done:
    free(img);
    free(lab);
    free(text);
    return 0;
}
