/* fuzz_index.c — libFuzzer harness for sharded safetensors indexes. The index is read from
 * memory but named inside tests/fixtures/shards/, so names that hit the real shards there
 * open them (run from the repository root, as tests/fuzz/run.sh does). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_open_and_read("tests/fixtures/shards/fuzz.safetensors.index.json", data, size);
    return 0;
}
