/* cmd_lab.c — the PTQ / QAT / LoRA lab commands: lab ... (issue 7). */
#include "qscope/cmd.h"

const qs_cmd qs_cmds_lab[] = {
    {0},
};
