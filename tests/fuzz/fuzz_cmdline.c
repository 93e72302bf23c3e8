/* fuzz_cmdline.c — libFuzzer harness for the command parser: shell-style word splitting, `-c`
 * command splitting, command lookup and suggestions, and the argument helpers. Commands are
 * never run (they could load or write files). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/cmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    qs_err err = {""};
    char **lines = NULL;
    int nl = qs_split_commands(text, &lines, &err);
    if (nl < 0) {
        if (lines || strchr(err.msg, '\n')) abort();
    } else {
        for (int i = 0; i < nl; i++) {
            char **argv = NULL;
            int argc = qs_split(lines[i], &argv, &err);
            if (argc < 0) {
                if (argv) abort();
                continue;
            }
            if (argc > 0) {
                const qs_cmd *c = qs_cmd_find(argv[0]);
                const char *sug[4];
                if (!c) qs_cmd_suggest(argv[0], sug, 4);
                long long v;
                double d;
                qs_arg_int(argc - 1, argv + 1, "n", 0, 1000, &v, &err);
                qs_arg_double(argc - 1, argv + 1, "p", 0, 100, &d, &err);
                qs_arg_flag(argc - 1, argv + 1, "sym");
                qs_arg_pos(argc - 1, argv + 1, 0);
            }
            qs_split_free(argv);
        }
        qs_split_free(lines);
    }
    free(text);
    return 0;
}
