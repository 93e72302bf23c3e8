/* one.c — one value through a scheme's integer parameters: its code and dequantized value, by
 * the kernels with the parameters as computed (TensorRT's multiplier 127/amax, ONNX's
 * division, PyTorch's 1/scale). `derive` ends its trace with it and `codes value=` hands it
 * to the faces, so no face rebuilds a quantizer from printed numbers. */
#include "qscope/quant.h"

/* A one-element view of parameter set p. */
static qs_qp one_set(const qs_qparams *qp, int64_t p, qs_layout *l1)
{
    int64_t one = 1;
    qs_layout_make(0, &one, QS_G_TENSOR, 0, 1, l1);
    l1->len = 1;
    qs_qp k = qs_qparams_kernel(qp);
    k.scale += p;
    if (k.inv) k.inv += p;
    k.zp += p;
    return k;
}

void qs_qparams_code1(const qs_qparams *qp, int64_t p, float x, int32_t *code, float *xhat,
                      int *clipped)
{
    qs_layout l1;
    qs_qp k = one_set(qp, p, &l1);
    uint8_t c = 0;
    float y = 0.0f;
    qs_errstats st;
    qs_k()->fakequant(&x, &l1, &k, &y, &c, &st, NULL);
    if (code) *code = qp->qmin < 0 ? (int32_t)(int8_t)c : (int32_t)c;
    if (xhat) *xhat = y;
    if (clipped) *clipped = st.clipped > 0;
}

float qs_qparams_dequant1(const qs_qparams *qp, int64_t p, int32_t code)
{
    qs_layout l1;
    qs_qp k = one_set(qp, p, &l1);
    if (code < qp->qmin) code = qp->qmin;
    if (code > qp->qmax) code = qp->qmax;
    uint8_t c = (uint8_t)(code & 0xff);
    float y = 0.0f;
    qs_k()->dequantize(&c, &l1, &k, &y);
    return y;
}
