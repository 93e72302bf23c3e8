/* test_calib_table.c — the calibrator table (one row per qs_calib_kind, names unique and found
 * again, every row documented). */
#include <criterion/criterion.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/calib.h"
#include "qscope/cmd.h"
#include "qscope/quant.h"

Test(calib_table, one_row_per_kind)
{
    for (int i = 0; i < QS_CAL_COUNT; i++) {
        const qs_calib_desc *d = &qs_calib_table[i];
        cr_assert_eq((int)d->kind, i, "row %d has kind %d", i, (int)d->kind);
        cr_assert(d->name && d->name[0] && d->help && d->help[0] && d->options && d->run,
                  "row %d (%s) is incomplete", i, d->name ? d->name : "?");
        cr_assert_eq(qs_calib_find(d->name), i, "%s is not found again", d->name);
        cr_assert_str_eq(qs_calib_name((qs_calib_kind)i), d->name);
        for (int j = 0; j < i; j++)
            cr_assert_str_neq(qs_calib_table[j].name, d->name, "%s twice", d->name);
    }
    cr_assert_eq(qs_calib_find("kl"), QS_CAL_ENTROPY);
    cr_assert_eq(qs_calib_find("nope"), -1);
    cr_assert_str_eq(qs_calib_name(QS_CAL_COUNT), "?");
}
