/* calib_table.c — the calibrator table: one const row per line of qscope/calibrators.def. */
#include "calib_priv.h"

#define QS_CALIBRATOR(id, name, fn, flags, options, cycle, help) \
    int fn(qs_calib_set *cs, qs_err *err);
#include "qscope/calibrators.def"
#undef QS_CALIBRATOR

const qs_calib_desc qs_calib_table[QS_CAL_COUNT] = {
#define QS_CALIBRATOR(id, name, fn, flags, options, cycle, help) \
    [QS_CAL_##id] = { QS_CAL_##id, name, help, options, cycle, flags, fn },
#include "qscope/calibrators.def"
#undef QS_CALIBRATOR
};

_Static_assert(sizeof qs_calib_table / sizeof qs_calib_table[0] == QS_CAL_COUNT,
               "one calibrator row per qs_calib_kind");
