/* requant.c — the fixed-point multiplier of integer requantization (as TFLite's
 * QuantizeMultiplier writes it: M = M0·2^-n, M0 a Q31 integer) explaining itself: qs_requant_multiplier's own parts written as
 * the step `derive requant` and `lab int` show. */
#include <math.h>

#include "qscope/derive.h"

#define QS_STEPS_SHORT
#include "steps.h"

void qs_requant_multiplier_trace(double M, int32_t *m0, int *shift, qs_trace *tr)
{
    qs_requant_parts pt;
    qs_requant_multiplier_parts(M, m0, shift, &pt);
    if (!tr) return;
    int n = 31 + *shift;
    qs_step *st = add(tr, "fixed-point multiplier", "M = M0 · 2^-n, M0 in [2^30, 2^31)",
                      ldexp((double)*m0, -n));
    if (pt.renorm)
        SUB(st, "%.17g = %.17g · 2^%d; round(%.17g · 2^31) = 2^31 needs 32 bits: M0 = 2^30 = "
            "%d, n = 31 - (%d + 1)", M, pt.frac, pt.exp, pt.frac, *m0, pt.exp);
    else
        SUB(st, "%.10g = %.10g · 2^%d; M0 = round(%.10g · 2^31) = %d, n = 31 - (%d)", M,
            pt.frac, pt.exp, pt.frac, *m0, pt.exp);
    RES(st, "M0 = %d, n = %d", *m0, n);
    NOTE(st, "M0 is a Q31 integer: the chip needs no floating point");
}
