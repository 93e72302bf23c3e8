/* scheme.h — qs_scheme: what a quantization scheme is (types shared by the engine, the
 * kernels, the session and the faces). The functions that use it live in quant.h. */
#ifndef QSCOPE_SCHEME_H
#define QSCOPE_SCHEME_H

#include <stdint.h>

/* What the values are mapped to. */
typedef enum qs_qkind {
    QS_Q_INT = 0,       /* integer grid: bits 2..8, signed or unsigned */
    QS_Q_FP16, QS_Q_BF16, QS_Q_FP8_E4M3, QS_Q_FP8_E5M2,   /* cast to a float format */
    QS_Q_NF4, QS_Q_FP4,  /* 4-bit codebooks with blockwise absmax */
    QS_Q_GGML,          /* a ggml block format (Q8_0, Q4_0, ... — issue 9) */
    QS_Q_MX,            /* an MX / NVFP4 block-scaled format (mx.h, issue 17): mx_type */
    QS_Q_COUNT          /* the number of scheme families (rows of qs_qkind_table, quant.h) */
} qs_qkind;

typedef enum qs_gran {
    QS_G_TENSOR = 0,    /* one scale / zero point for the tensor */
    QS_G_CHANNEL,       /* one per index along `axis` */
    QS_G_GROUP          /* one per `group` consecutive elements along `axis` */
} qs_gran;

typedef enum qs_round {
    QS_R_HALF_EVEN = 0, /* nearbyint under the default mode: ties to even (PyTorch) */
    QS_R_HALF_AWAY,     /* roundf: ties away from zero (ggml Q8_0) */
    QS_R_HALF_UP,       /* floor(x + 0.5) */
    QS_R_STOCHASTIC     /* floor(x + u), u uniform in [0,1) from a seeded generator */
} qs_round;

typedef enum qs_conv {
    QS_CONV_TORCH = 0,  /* PyTorch observers + quantize_val (default) */
    QS_CONV_ONNX,       /* ONNX Runtime compute_scale_zp */
    QS_CONV_TRT,        /* TensorRT pytorch-quantization */
    QS_CONV_GGML,       /* ggml Q8_0 / Q4_0 block rules */
    QS_CONV_COUNT       /* the number of conventions (rows of qs_conv_table, quant.h) */
} qs_conv;

/* Calibrators: QS_CAL_MINMAX, QS_CAL_MOVAVG, ... QS_CAL_MANUAL (the range in qs_calib.lo /
 * .hi, set by hand), one per row of qscope/calibrators.def, in its order. */
typedef enum qs_calib_kind {
#define QS_CALIBRATOR(id, ...) QS_CAL_##id,
#include "qscope/calibrators.def"
#undef QS_CALIBRATOR
    QS_CAL_COUNT        /* the number of calibrators */
} qs_calib_kind;

/* A quantization scheme. */
typedef struct qs_scheme {
    qs_qkind kind;      /* integer grid, float cast or codebook */
    int bits;           /* 2..8 for QS_Q_INT; 4 for NF4/FP4 */
    int is_signed;      /* int (1) or uint (0) */
    int symmetric;      /* 1 = symmetric (zero point fixed), 0 = affine */
    int narrow;         /* 1 = narrow range, e.g. int8 -127..127 */
    qs_gran gran;       /* per-tensor, per-channel or per-group */
    int axis;           /* channel / group axis (negative counts from the end) */
    int axis_auto;      /* 1: axis=auto, per-channel's axis chosen per tensor (qs_axis_auto;
                         * the session writes the choice into axis); 0: axis= given */
    int group;          /* group size for QS_G_GROUP; block size for NF4/FP4/ggml */
    qs_round round;     /* rounding mode */
    uint64_t seed;      /* seed for stochastic rounding */
    qs_conv conv;       /* convention */
    int dq;             /* NF4/FP4: double-quantize the absmax constants */
    int ggml_type;      /* QS_Q_GGML: the ggml type id (8 = Q8_0, 2 = Q4_0, ...) */
    int mx_type;        /* QS_Q_MX: the qs_mx_id (mxfp4, nvfp4, ...) */
} qs_scheme;

/* Calibration settings (range selection). */
typedef struct qs_calib {
    qs_calib_kind kind; /* which calibrator */
    double p;           /* percentile in percent (e.g. 99.99) */
    int two_sided;      /* percentile: 1 = clip min and max separately, 0 = on |x| */
    double momentum;    /* moving average: 0.01 as PyTorch */
    int batch;          /* moving average: batch size in elements (0 = 8 batches) */
    int bins;           /* histogram bins for mse/entropy (2048) */
    double lo, hi;      /* manual: the clip range given by hand (lo < hi) */
} qs_calib;

#endif
