/* cmd_model.c — model-file commands: report, export (issue 9). */
#include "qscope/cmd.h"

const qs_cmd qs_cmds_model[] = {
    {0},
};
