/* cmd_priv.h — helpers shared by the command files (src/cmd) and no one else: the "already
 * quantized" sentence and the checks of scheme words. Private to src/cmd. */
#ifndef QSCOPE_CMD_PRIV_H
#define QSCOPE_CMD_PRIV_H

#include <stddef.h>

#include "qscope/err.h"
#include "qscope/quant.h"

/* The "already quantized" sentence for a tensor whose values sit on the grid g
 * (qs_grid_quantized), true for the numbers shown next to it: with n = 0 (stats: no scheme)
 * it says what a scheme whose levels land on the grid does; with the SQNR of each of n rows
 * (report: one; compare: a table) it says which of those rows reproduce the values almost
 * exactly (SQNR >= QS_CMD_EXACT_DB, or infinite) and which show ordinary rounding error. */
#define QS_CMD_EXACT_DB 100.0
void qs_cmd_grid_note(const qs_grid *g, const double *sqnr, int n, char *buf, size_t len);

/* The words of a `scheme` (or `report`) line after qs_scheme_parse accepted them into sc:
 * QS_ERR naming the word when two words contradict each other (sym asym, per-channel
 * per-tensor, two type words), when a word comes before the type word that resets it, or
 * when a word does not apply to sc's format (block= or dq on an integer scheme, sym on
 * nf4, anything on fp16). who names the command in the message. */
int qs_cmd_scheme_words_check(const char *who, const qs_scheme *sc, int argc, char **argv,
                              qs_err *err);

#endif
