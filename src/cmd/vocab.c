/* vocab.c — argument-spec choices read from the engine's descriptor tables (qs_arg.choice),
 * so that parsing, completion and help follow a new row without an edit here. */
#include "qscope/calib.h"
#include "qscope/cmd.h"
#include "qscope/quant.h"
#include "qscope/synth.h"

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

const char *qs_vocab_synth_params(const char *word, int i, const char **help)
{
    const qs_synth_dist *d = word ? qs_synth_find(word) : NULL;
    if (!d || i < 0 || i >= d->np) return NULL;
    if (help) *help = d->p[i].help;
    return d->p[i].name;
}
