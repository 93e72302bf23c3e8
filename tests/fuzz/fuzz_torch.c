/* fuzz_torch.c — libFuzzer harness for PyTorch zip checkpoints (libzip + the restricted
 * unpickler + strided storage reads). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_open_and_read("fuzz.pt", data, size);
    return 0;
}
