/* scheme.c — quantization schemes: defaults, the words of the `scheme` command, labels,
 * integer code ranges under each convention, parameter layouts and bits per parameter. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/ggml.h"
#include "qscope/mx.h"
#include "qscope/quant.h"

void qs_scheme_default(qs_scheme *s)
{
    memset(s, 0, sizeof *s);
    s->kind = QS_Q_INT;
    s->bits = 8;
    s->is_signed = 1;
    s->symmetric = 0;
    s->narrow = 0;
    s->gran = QS_G_TENSOR;
    s->axis = 0;
    s->axis_auto = 1;   /* per-channel: the axis chosen per tensor (qs_axis_auto) */
    s->group = 64;
    s->round = QS_R_HALF_EVEN;
    s->seed = 0;
    s->conv = QS_CONV_TORCH;
    s->dq = 0;
    s->ggml_type = 0;
}

const qs_conv_desc qs_conv_table[QS_CONV_COUNT] = {
    [QS_CONV_TORCH] = { QS_CONV_TORCH, "torch", "PyTorch observers + quantize_val (default)", 1 },
    [QS_CONV_ONNX] = { QS_CONV_ONNX, "onnx", "ONNX Runtime compute_scale_zp (x / scale)", 1 },
    [QS_CONV_TRT] = { QS_CONV_TRT, "trt", "NVIDIA pytorch-quantization's fake quant "
                      "(symmetric, x * 127/amax, codes -127..127)", 1 },
    [QS_CONV_GGML] = { QS_CONV_GGML, "ggml", "ggml block rules (int8 -> Q8_0, int4 -> Q4_0)",
                       0 },
};

_Static_assert(sizeof qs_conv_table / sizeof qs_conv_table[0] == QS_CONV_COUNT,
               "one convention row per qs_conv");

const char *qs_conv_name(qs_conv c)
{
    return (unsigned)c < QS_CONV_COUNT ? qs_conv_table[c].name : "torch";
}

int qs_conv_find(const char *name)
{
    for (int i = 0; i < QS_CONV_COUNT; i++)
        if (strcmp(name, qs_conv_table[i].name) == 0) return i;
    return -1;
}

const char *qs_round_name(qs_round r)
{
    switch (r) {
    case QS_R_HALF_AWAY:  return "away";
    case QS_R_HALF_UP:    return "up";
    case QS_R_STOCHASTIC: return "stochastic";
    default:              return "even";
    }
}

const char *qs_gran_name(qs_gran g)
{
    switch (g) {
    case QS_G_CHANNEL: return "per-channel";
    case QS_G_GROUP:   return "per-group";
    default:           return "per-tensor";
    }
}

const qs_qkind_desc qs_qkind_table[QS_Q_COUNT] = {
    [QS_Q_INT] = { QS_Q_INT, "integer", NULL, NULL, 0,
                   "int2..int8, uint2..uint8: an integer grid with a scale and zero point" },
    [QS_Q_FP16] = { QS_Q_FP16, "float", "fp16", NULL, 16, "cast to IEEE half precision" },
    [QS_Q_BF16] = { QS_Q_BF16, "float", "bf16", NULL, 16, "cast to bfloat16" },
    [QS_Q_FP8_E4M3] = { QS_Q_FP8_E4M3, "float", "fp8-e4m3", "e4m3", 8,
                        "cast to FP8 E4M3 (OCP, no infinities)" },
    [QS_Q_FP8_E5M2] = { QS_Q_FP8_E5M2, "float", "fp8-e5m2", "e5m2", 8, "cast to FP8 E5M2" },
    [QS_Q_NF4] = { QS_Q_NF4, "codebook", "nf4", NULL, 4,
                   "bitsandbytes NF4 codebook, blockwise absmax" },
    [QS_Q_FP4] = { QS_Q_FP4, "codebook", "fp4", NULL, 4,
                   "bitsandbytes FP4 (E2M1) codebook, blockwise absmax" },
    [QS_Q_GGML] = { QS_Q_GGML, "ggml", NULL, NULL, 0,
                    "q8_0 q4_0 q4_1 q5_0 q5_1 q4_k q6_k: ggml block formats" },
    [QS_Q_MX] = { QS_Q_MX, "mx", NULL, NULL, 0,
                  "mxfp8_e4m3 mxfp8_e5m2 mxfp6_e3m2 mxfp6_e2m3 mxfp4 mxint8 nvfp4: OCP MX and "
                  "NVIDIA NVFP4 block-scaled formats" },
};

_Static_assert(sizeof qs_qkind_table / sizeof qs_qkind_table[0] == QS_Q_COUNT,
               "one scheme-family row per qs_qkind");

const char *qs_qkind_name(const qs_scheme *s)
{
    static const char *const ints[] = { "int2", "int3", "int4", "int5", "int6", "int7",
                                        "int8" };
    static const char *const uints[] = { "uint2", "uint3", "uint4", "uint5", "uint6",
                                         "uint7", "uint8" };
    if ((unsigned)s->kind < QS_Q_COUNT && qs_qkind_table[s->kind].word)
        return qs_qkind_table[s->kind].word;
    switch (s->kind) {
    case QS_Q_MX: {
        const qs_mx_type *t = qs_mx_type_info(s->mx_type);
        return t ? t->name : "mx?";
    }
    case QS_Q_GGML:
        switch (s->ggml_type) {
        case QS_GGML_Q4_0: return "q4_0";
        case QS_GGML_Q4_1: return "q4_1";
        case QS_GGML_Q5_0: return "q5_0";
        case QS_GGML_Q5_1: return "q5_1";
        case QS_GGML_Q4_K: return "q4_k";
        case QS_GGML_Q6_K: return "q6_k";
        default:           return "q8_0";
        }
    default:
        if (s->bits < 2 || s->bits > 8) return "int?";
        if (s->conv == QS_CONV_GGML) return s->bits == 4 ? "q4_0" : "q8_0";
        return s->is_signed ? ints[s->bits - 2] : uints[s->bits - 2];
    }
}

/* ggml formats: q8_0 / q4_0 are integer schemes under the ggml convention (the engine's own
 * Q8_0/Q4_0 rules); q4_1 q5_0 q5_1 q4_k q6_k are QS_Q_GGML schemes quantized by ggml.c. */
static int is_ggml(const qs_scheme *s)
{
    return s->kind == QS_Q_GGML || (s->kind == QS_Q_INT && s->conv == QS_CONV_GGML);
}

int qs_scheme_ggml_block(const qs_scheme *s)
{
    if (s->kind != QS_Q_GGML) return -1;
    const qs_ggml_type *t = qs_ggml_type_info(s->ggml_type);
    return t && t->can_quantize ? s->ggml_type : -1;
}

int qs_scheme_ggml_id(const qs_scheme *s)
{
    if (s->kind == QS_Q_GGML) return s->ggml_type;
    if (s->kind == QS_Q_INT && s->conv == QS_CONV_GGML)
        return s->bits == 4 ? QS_GGML_Q4_0 : QS_GGML_Q8_0;
    return -1;
}

int qs_scheme_is_symmetric(const qs_scheme *s)
{
    if (qs_scheme_ggml_block(s) >= 0)          /* Q4_1 Q5_1 Q4_K carry a minimum */
        return s->ggml_type == QS_GGML_Q5_0 || s->ggml_type == QS_GGML_Q6_K;
    if (is_ggml(s) || s->conv == QS_CONV_TRT) return 1;
    return s->symmetric;
}

void qs_scheme_range(const qs_scheme *s, int *qmin, int *qmax)
{
    int b = s->bits >= 2 && s->bits <= 8 ? s->bits : 8;
    if (qs_scheme_ggml_block(s) >= 0) {        /* codes as stored: unsigned */
        *qmin = s->ggml_type == QS_GGML_Q8_0 ? -128 : 0;
        *qmax = s->ggml_type == QS_GGML_Q8_0 ? 127 : (1 << b) - 1;
        return;
    }
    if (is_ggml(s)) {
        int q4 = s->kind == QS_Q_GGML ? s->ggml_type == 2 : s->bits == 4;
        if (q4) { *qmin = 0; *qmax = 15; }             /* Q4_0: code = q + 8 */
        else    { *qmin = -128; *qmax = 127; }         /* Q8_0: int8, |q| <= 127 by rule */
        return;
    }
    if (s->is_signed) {
        *qmin = -(1 << (b - 1));
        *qmax = (1 << (b - 1)) - 1;
        /* ONNX Runtime's symmetric range table (quant_utils.py ONNX_INT_TYPE_SYMMETRIC_RANGE)
         * holds INT8 -127..127 and INT16 only: its symmetric int4 keeps -8..7 */
        int narrow = s->narrow || s->conv == QS_CONV_TRT ||
                     (s->conv == QS_CONV_ONNX && s->symmetric && (b == 8 || b == 16));
        if (narrow) *qmin += 1;
    } else {
        *qmin = 0;
        *qmax = (1 << b) - 1;
        if (s->narrow && s->conv != QS_CONV_TRT) *qmin = 1;   /* symmetric around 2^(b-1) */
    }
}

int qs_scheme_layout(const qs_scheme *s, int ndim, const int64_t *shape, qs_layout *l,
                     qs_err *err)
{
    if (is_ggml(s)) {
        int blk = qs_scheme_ggml_block(s) >= 0 ? s->group : 32;
        if (qs_layout_make(ndim, shape, ndim > 0 ? QS_G_GROUP : QS_G_TENSOR, -1, blk, l) < 0)
            return qs_err_set(err, "scheme: cannot lay out ggml blocks on this shape");
        return QS_OK;
    }
    if (s->kind == QS_Q_MX && ndim > 0) {  /* the blocks as a per-group layout (last axis) */
        if (qs_layout_make(ndim, shape, QS_G_GROUP, -1, s->group, l) < 0)
            return qs_err_set(err, "scheme: cannot lay out MX blocks on this shape");
        return QS_OK;
    }
    if (s->kind != QS_Q_INT) return qs_layout_make(0, shape, QS_G_TENSOR, 0, 1, l), QS_OK;
    if (s->gran != QS_G_TENSOR && ndim > 0) {
        int ax = s->axis < 0 ? s->axis + ndim : s->axis;
        if (ax < 0 || ax >= ndim) {
            char shp[96];
            qs_shape_str(ndim, shape, shp, sizeof shp);
            return qs_err_set(err, "axis %d out of range for shape %s (axes 0..%d, or -%d..-1 "
                              "from the end)", s->axis, shp, ndim - 1, ndim);
        }
    }
    if (qs_layout_make(ndim, shape, s->gran, s->axis, s->group, l) < 0)
        return qs_err_set(err, "scheme: bad axis %d or group size %d", s->axis, s->group);
    return QS_OK;
}

/* ---- words ------------------------------------------------------------------------------ */

static int parse_int(const char *v, long lo, long hi, long *out)
{
    char *end;
    long x = strtol(v, &end, 10);
    if (!*v || *end || x < lo || x > hi) return -1;
    *out = x;
    return 0;
}

/* Sets the type of s from a type word; returns 1 when the word is a type, 0 when not. */
static int type_word(qs_scheme *s, const char *w)
{
    long b;
    if (strncmp(w, "uint", 4) == 0 && parse_int(w + 4, 2, 8, &b) == 0) {
        qs_scheme_default(s);
        s->bits = (int)b;
        s->is_signed = 0;
        return 1;
    }
    if (strncmp(w, "int", 3) == 0 && parse_int(w + 3, 2, 8, &b) == 0) {
        qs_scheme_default(s);
        s->bits = (int)b;
        return 1;
    }
    for (int i = 0; i < QS_Q_COUNT; i++) {
        const qs_qkind_desc *d = &qs_qkind_table[i];
        if (d->word && (strcmp(w, d->word) == 0 || (d->alias && strcmp(w, d->alias) == 0))) {
            qs_scheme_default(s);
            s->kind = d->kind;
            s->bits = d->bits;
            s->symmetric = 1;
            s->group = 64;          /* codebook block */
            return 1;
        }
    }
    if (strcmp(w, "q8_0") == 0 || strcmp(w, "q4_0") == 0) {
        qs_scheme_default(s);
        s->bits = w[1] == '8' ? 8 : 4;
        s->symmetric = 1;
        s->conv = QS_CONV_GGML;
        s->ggml_type = w[1] == '8' ? 8 : 2;
        s->round = w[1] == '8' ? QS_R_HALF_AWAY : QS_R_HALF_UP;
        s->gran = QS_G_GROUP;
        s->group = 32;
        s->axis = -1;
        return 1;
    }
    /* OCP MX and NVFP4 block formats (mx.c, issue 17): fixed blocks along the last axis */
    int mx = qs_mx_find(w);
    if (mx >= 0) {
        qs_scheme_default(s);
        s->kind = QS_Q_MX;
        s->mx_type = mx;
        s->bits = qs_mx_type_info(mx)->elem_bits;
        s->symmetric = 1;
        s->gran = QS_G_GROUP;
        s->group = qs_mx_type_info(mx)->block;
        s->axis = -1;
        return 1;
    }
    /* the other ggml block formats: ggml.c's reference quantizers (issue 9) */
    static const struct { const char *w; int id, bits, sym; } blocks[] = {
        {"q4_1", QS_GGML_Q4_1, 4, 0}, {"q5_0", QS_GGML_Q5_0, 5, 1},
        {"q5_1", QS_GGML_Q5_1, 5, 0}, {"q4_k", QS_GGML_Q4_K, 4, 0},
        {"q6_k", QS_GGML_Q6_K, 6, 1},
    };
    for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++)
        if (strcmp(w, blocks[i].w) == 0) {
            const qs_ggml_type *t = qs_ggml_type_info(blocks[i].id);
            qs_scheme_default(s);
            s->kind = QS_Q_GGML;
            s->ggml_type = blocks[i].id;
            s->bits = blocks[i].bits;
            s->is_signed = 0;
            s->symmetric = blocks[i].sym;
            s->conv = QS_CONV_GGML;
            s->round = QS_R_HALF_EVEN;
            s->gran = QS_G_GROUP;
            s->group = t ? t->block : 32;
            s->axis = -1;
            return 1;
        }
    return 0;
}

int qs_scheme_parse(qs_scheme *out, int argc, char **argv, qs_err *err)
{
    qs_scheme s = *out;
    int explicit_gran = 0, explicit_axis = 0, explicit_round = 0;
    for (int i = 0; i < argc; i++) {
        const char *w = argv[i];
        const char *eq = strchr(w, '=');
        long v;
        if (!eq) {
            if (type_word(&s, w)) continue;
            if (!strcmp(w, "sym") || !strcmp(w, "symmetric")) s.symmetric = 1;
            else if (!strcmp(w, "asym") || !strcmp(w, "affine") || !strcmp(w, "asymmetric"))
                s.symmetric = 0;
            else if (!strcmp(w, "narrow")) s.narrow = 1;
            else if (!strcmp(w, "full")) s.narrow = 0;
            else if (!strcmp(w, "per-tensor")) { s.gran = QS_G_TENSOR; explicit_gran = 1; }
            else if (!strcmp(w, "per-channel")) { s.gran = QS_G_CHANNEL; explicit_gran = 1; }
            else if (!strcmp(w, "per-group")) { s.gran = QS_G_GROUP; explicit_gran = 1; }
            else if (!strcmp(w, "dq")) s.dq = 1;
            else if (!strcmp(w, "no-dq")) s.dq = 0;
            else return qs_err_set(err, "scheme: unknown word '%s' (try 'help scheme')", w);
            continue;
        }
        size_t kl = (size_t)(eq - w);
        const char *val = eq + 1;
#define KEY(k) (kl == strlen(k) && strncmp(w, k, kl) == 0)
        if (KEY("axis")) {
            if (!strcmp(val, "auto")) {
                s.axis_auto = 1;
                s.axis = 0;
                continue;
            }
            if (parse_int(val, -8, 7, &v)) return qs_err_set(err, "axis=%s: expected auto or "
                                                              "an integer -8..7", val);
            s.axis = (int)v;
            s.axis_auto = 0;
            explicit_axis = 1;
        } else if (KEY("size") || KEY("group") || KEY("block")) {
            if (parse_int(val, 1, 1 << 20, &v))
                return qs_err_set(err, "%.*s=%s: expected an integer 1..1048576", (int)kl, w,
                                  val);
            s.group = (int)v;
            if ((KEY("size") || KEY("group")) && s.kind == QS_Q_INT && !explicit_gran)
                s.gran = QS_G_GROUP;
        } else if (KEY("convention") || KEY("conv")) {
            int c = qs_conv_find(val);
            if (c < 0) {
                char list[256];
                size_t o = 0;
                for (int k = 0; k < QS_CONV_COUNT && o < sizeof list; k++)
                    o += (size_t)snprintf(list + o, sizeof list - o, "%s%s",
                                          k == 0 ? "" : k + 1 < QS_CONV_COUNT ? ", " : " or ",
                                          qs_conv_table[k].name);
                return qs_err_set(err, "convention=%s: expected %s", val, list);
            }
            s.conv = (qs_conv)c;
        } else if (KEY("round")) {
            explicit_round = 1;
            if (!strcmp(val, "even")) s.round = QS_R_HALF_EVEN;
            else if (!strcmp(val, "away")) s.round = QS_R_HALF_AWAY;
            else if (!strcmp(val, "up")) s.round = QS_R_HALF_UP;
            else if (!strcmp(val, "stochastic")) s.round = QS_R_STOCHASTIC;
            else return qs_err_set(err, "round=%s: expected even, away, up or stochastic",
                                   val);
        } else if (KEY("seed")) {
            char *end;
            unsigned long long sd = strtoull(val, &end, 0);
            if (!*val || *end || *val == '-')
                return qs_err_set(err, "seed=%s: expected a non-negative integer", val);
            s.seed = sd;
        } else if (KEY("bits")) {
            if (parse_int(val, 2, 8, &v)) return qs_err_set(err, "bits=%s: expected 2..8", val);
            if (s.kind != QS_Q_INT) return qs_err_set(err, "bits=%s: only integer schemes "
                                                       "have a bit width", val);
            s.bits = (int)v;
        } else {
            return qs_err_set(err, "scheme: unknown option '%.*s' (try 'help scheme')",
                              (int)kl, w);
        }
#undef KEY
    }
    /* groups run along the last axis (the input dimension of a [out, in] weight, as GPTQ and
     * AWQ group) unless axis= says otherwise */
    if (s.kind == QS_Q_INT && s.gran == QS_G_GROUP && !explicit_axis &&
        (explicit_gran || out->gran != QS_G_GROUP))
        s.axis = -1;
    /* channels default to axis=auto (the output channel the tensor's source and name say;
     * qs_axis_auto), written into axis when a tensor is known */
    if (s.kind == QS_Q_INT && s.gran == QS_G_CHANNEL && explicit_gran && !explicit_axis) {
        s.axis_auto = 1;
        s.axis = 0;
    }
    /* conventions that fix parts of the scheme */
    if (s.kind == QS_Q_INT && s.conv == QS_CONV_GGML) {
        if (s.bits != 8 && s.bits != 4)
            return qs_err_set(err, "convention=ggml: only 8 bits (Q8_0) and 4 bits (Q4_0)");
        s.symmetric = 1;
        s.is_signed = 1;
        s.ggml_type = s.bits == 8 ? 8 : 2;
        s.gran = QS_G_GROUP;
        s.group = 32;
        s.axis = -1;
        /* ggml's rounding, as quantize_row_q8_0_ref / q4_0_ref: roundf(x·id) (ties away
         * from zero) and (int8_t)(x·id + 8.5) truncated, i.e. floor(x·id + 0.5) + 8 */
        qs_round gr = s.bits == 8 ? QS_R_HALF_AWAY : QS_R_HALF_UP;
        if (explicit_round && s.round != gr)
            return qs_err_set(err, "convention=ggml: %s rounds as ggml does (round=%s); "
                              "no other round=", s.bits == 8 ? "Q8_0" : "Q4_0",
                              qs_round_name(gr));
        s.round = gr;
    }
    if (s.kind == QS_Q_INT && s.conv == QS_CONV_TRT) s.symmetric = 1;
    if (s.kind == QS_Q_GGML) {     /* a block format fixes its own layout and rules */
        const qs_ggml_type *t = qs_ggml_type_info(s.ggml_type);
        char name[8];
        snprintf(name, sizeof name, "%s", qs_qkind_name(&s));
        if (s.group != (t ? t->block : 32) || s.conv != QS_CONV_GGML ||
            s.gran != QS_G_GROUP || s.axis != -1)
            return qs_err_set(err, "scheme %s: a ggml block format has fixed blocks of %d "
                              "along the last axis and ggml's own rounding (no block=, "
                              "axis=, convention= or granularity words)", name,
                              t ? t->block : 32);
    }
    if (s.kind == QS_Q_MX) {       /* the spec fixes the block and the rounding */
        const qs_mx_type *t = qs_mx_type_info(s.mx_type);
        if (s.group != t->block || s.gran != QS_G_GROUP || s.axis != -1 ||
            s.conv != QS_CONV_TORCH || s.round != QS_R_HALF_EVEN)
            return qs_err_set(err, "scheme %s: blocks of %d along the last axis with round to "
                              "nearest even are part of the format (no block=, axis=, "
                              "convention=, round= or granularity words)", t->name, t->block);
    }
    if ((s.kind == QS_Q_NF4 || s.kind == QS_Q_FP4) && s.group < 2)
        return qs_err_set(err, "block=%d: a codebook block needs at least 2 elements",
                          s.group);
    *out = s;
    return QS_OK;
}

void qs_scheme_label(const qs_scheme *s, char *buf, size_t len)
{
    if (!buf || len == 0) return;
    const char *k = qs_qkind_name(s);
    if (s->kind == QS_Q_NF4 || s->kind == QS_Q_FP4) {
        snprintf(buf, len, "%s/%d%s", k, s->group, s->dq ? "+dq" : "");
        return;
    }
    if (s->kind == QS_Q_MX) {
        snprintf(buf, len, "%s/%d", k, s->group);
        return;
    }
    if (s->kind != QS_Q_INT || s->conv == QS_CONV_GGML) {
        snprintf(buf, len, "%s", k);
        return;
    }
    char g[32] = "";
    if (s->gran == QS_G_CHANNEL) snprintf(g, sizeof g, "/channel");
    else if (s->gran == QS_G_GROUP) snprintf(g, sizeof g, "/group%d", s->group);
    snprintf(buf, len, "%s %s%s%s%s%s%s", k, qs_scheme_is_symmetric(s) ? "sym" : "asym",
             s->narrow ? " narrow" : "", g,
             s->conv != QS_CONV_TORCH ? " " : "", s->conv != QS_CONV_TORCH ?
             qs_conv_name(s->conv) : "",
             s->round == QS_R_HALF_EVEN ? "" : s->round == QS_R_STOCHASTIC ? " sr" :
             s->round == QS_R_HALF_AWAY ? " away" : " up");
}

double qs_scheme_bits_per_param(const qs_scheme *s, int64_t n, int64_t nparams)
{
    switch (s->kind) {
    case QS_Q_FP16: case QS_Q_BF16: return 16.0;
    case QS_Q_FP8_E4M3: case QS_Q_FP8_E5M2: return 8.0;
    case QS_Q_NF4: case QS_Q_FP4:
        if (s->dq) return 4.0 + 8.0 / s->group + 32.0 / ((double)s->group * 256.0);
        return 4.0 + 32.0 / s->group;
    case QS_Q_MX: return qs_mx_bits_per_weight(s->mx_type, n, nparams);
    default: break;
    }
    if (qs_scheme_ggml_block(s) >= 0 && n > 0 && nparams > 0) {
        /* what the tensor really costs: rows that are not whole blocks are padded (a 64-wide
         * row in Q4_K pays for a 256-element super-block) */
        const qs_ggml_type *t = qs_ggml_type_info(s->ggml_type);
        return 8.0 * (double)t->bytes * (double)nparams / (double)n;
    }
    if (s->conv == QS_CONV_GGML || s->kind == QS_Q_GGML)
        return qs_ggml_bits_per_weight(qs_scheme_ggml_id(s)); /* block bytes · 8 / block */
    if (n <= 0) return s->bits;
    /* a float32 scale per set, plus an integer zero point per set for affine schemes */
    double extra = 32.0 + (qs_scheme_is_symmetric(s) ? 0.0 : s->bits);
    return s->bits + extra * (double)nparams / (double)n;
}
