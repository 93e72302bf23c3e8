/* vocab.c — argument-spec choices read from the engine's descriptor tables (qs_arg.choice),
 * so that parsing, completion and help follow a new row without an edit here. */
#include "qscope/calib.h"
#include "qscope/cmd.h"
#include "qscope/quant.h"

const char *qs_vocab_calib(int i, const char **help)
{
    if (i < 0 || i >= QS_CAL_COUNT) return NULL;
    if (help) *help = qs_calib_table[i].help;
    return qs_calib_table[i].name;
}

const char *qs_vocab_calib_lab(int i, const char **help)
{
    for (int k = 0; k < QS_CAL_COUNT; k++)
        if ((qs_calib_table[k].flags & QS_CALF_LAB) && i-- == 0) {
            if (help) *help = qs_calib_table[k].help;
            return qs_calib_table[k].name;
        }
    return NULL;
}

const char *qs_vocab_conv(int i, const char **help)
{
    if (i < 0 || i >= QS_CONV_COUNT) return NULL;
    if (help) *help = qs_conv_table[i].help;
    return qs_conv_table[i].name;
}
