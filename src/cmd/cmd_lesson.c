/* cmd_lesson.c — lesson commands: lesson list|play|check, expect (issue 8). */
#include "qscope/cmd.h"

const qs_cmd qs_cmds_lesson[] = {
    {0},
};
