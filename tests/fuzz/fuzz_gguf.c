/* fuzz_gguf.c — libFuzzer harness for the GGUF loader and the ggml block dequantizers. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_open_and_read("fuzz.gguf", data, size);
    return 0;
}
