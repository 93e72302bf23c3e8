/* fuzz_io.c — libFuzzer harness for the io loaders behind format detection (.npy,
 * safetensors, text/CSV, and whatever the magic bytes select: GGUF, zip): the first byte
 * picks the file name (and so the extension fallback), the rest is the file. Whatever opens
 * must satisfy the loaders' invariants and convert without touching memory outside it. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *names[] = {"fuzz.npy", "fuzz.safetensors", "fuzz.csv", "fuzz.bin"};
    if (size < 1) return 0;
    fuzz_open_and_read(names[data[0] % 4], data + 1, size - 1);
    return 0;
}
