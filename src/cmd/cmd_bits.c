/* cmd_bits.c — commands on number formats: bits (issue 2). */
#include "qscope/cmd.h"

const qs_cmd qs_cmds_bits[] = {
    {0},
};
