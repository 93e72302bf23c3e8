/* cmd_quant.c — quantization commands: scheme, calib, qparams, codes, derive, quant, compare, memory (issue 3). */
#include "qscope/cmd.h"

const qs_cmd qs_cmds_quant[] = {
    {0},
};
