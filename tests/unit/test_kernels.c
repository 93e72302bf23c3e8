/* test_kernels.c — Criterion tests of src/kernels: every kernel of every dispatch table
 * (ref and, when the CPU has it, AVX2) against the reference rules and against each other. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/kernels.h"

Test(kernels, layout)
{
    int64_t shape[3] = { 4, 5, 6 };
    qs_layout l;
    cr_assert_eq(qs_layout_make(3, shape, QS_G_CHANNEL, 1, 0, &l), 0);
    cr_assert_eq(l.outer, 4); cr_assert_eq(l.len, 5); cr_assert_eq(l.inner, 6);
    cr_assert_eq(qs_layout_nparams(&l), 5);
    cr_assert_eq(qs_layout_index(&l, 6 * 3 + 2), 3);
    cr_assert_eq(qs_layout_make(3, shape, QS_G_GROUP, -1, 4, &l), 0);
    cr_assert_eq(qs_layout_nparams(&l), 4 * 5 * 2);
    cr_assert_eq(qs_layout_index(&l, 5), 1);
    cr_assert_eq(qs_layout_make(3, shape, QS_G_CHANNEL, 3, 0, &l), -1);
    cr_assert_eq(qs_layout_make(3, shape, QS_G_GROUP, 0, 0, &l), -1);
    cr_assert_eq(qs_layout_make(0, shape, QS_G_CHANNEL, 0, 0, &l), 0);
    cr_assert_eq(qs_layout_numel(&l), 1);
}

Test(kernels, quantize_known_values)
{
    /* FBGEMM: multiplying by 1/scale gives 127.5 -> 128 -> clipped to 127; dividing gives
     * 127.499992 -> 127 (not clipped) */
    float x = 0.273939937f, scale = 0.00214854861f, inv = 1.0f / scale;
    int32_t zp = 0;
    qs_layout l = { QS_G_TENSOR, 1, 1, 1, 1 };
    qs_qp qp = { &scale, &inv, &zp, -128, 127, 0, QS_R_HALF_EVEN, 0 };
    uint8_t c;
    qs_errstats st;
    qs_k()->quantize(&x, &l, &qp, &c);
    cr_assert_eq((int8_t)c, 127);
    qs_k()->fakequant(&x, &l, &qp, NULL, NULL, &st, NULL);
    cr_assert_eq(st.clipped, 1);
    qp.divide = 1;
    qs_k()->fakequant(&x, &l, &qp, NULL, &c, &st, NULL);
    cr_assert_eq((int8_t)c, 127);
    cr_assert_eq(st.clipped, 0);
    /* [-20, 1000] -> uint8: scale 4, zp 5 */
    float xs[3] = { -20.0f, 1000.0f, 250.0f }, s4 = 4.0f, i4 = 0.25f;
    int32_t z5 = 5;
    qs_qp qu = { &s4, &i4, &z5, 0, 255, 0, QS_R_HALF_EVEN, 0 };
    uint8_t cs[3];
    l.len = 3;
    qs_k()->quantize(xs, &l, &qu, cs);
    cr_assert_eq(cs[0], 0); cr_assert_eq(cs[1], 255); cr_assert_eq(cs[2], 67);   /* 62.5 -> 62 (ties to even) */
}

Test(kernels, fp16_known)
{
    float x = 7.32f, y;
    uint16_t h;
    qs_k()->f32_to_f16(&x, 1, &h);
    cr_assert_eq(h, 0x4752);
    qs_k()->f16_to_f32(&h, 1, &y);
    cr_assert_eq(y, 7.3203125f);
}
