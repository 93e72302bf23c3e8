/* axis.c — axis=auto: which axis of a weight tensor holds its output channels, decided from
 * what the file says (safetensors __metadata__ "format", GGUF's row order, PyTorch
 * checkpoints) and from the tensor's name and shape (TensorFlow / Keras `kernel`, `*_filter`,
 * HWIO shapes), with the reason in words ("axis 3: TensorFlow HWIO kernel"). Pure: the caller
 * hands in what it knows of the source. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "qscope/quant.h"

/* The last component of a tensor name ("model/conv1/kernel:0" -> "kernel"), lower-cased,
 * without a ":N" suffix. */
static void leaf(const char *name, char *out, size_t len)
{
    const char *p = name ? name : "";
    for (const char *q = p; *q; q++)
        if (*q == '/' || *q == '.') p = q + 1;
    size_t k = 0;
    for (; p[k] && p[k] != ':' && k + 1 < len; k++) out[k] = (char)tolower((unsigned char)p[k]);
    out[k] = '\0';
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* TensorFlow's layout for a weight of ndim dims: the axis and its name. */
static int tf_axis(int ndim, const char *lf, const char **what)
{
    if (strstr(lf, "depthwise")) {          /* [H, W, in, multiplier]: in is the channel */
        *what = "TensorFlow depthwise kernel [H, W, in, multiplier]: each input channel has "
                "its own filter";
        return ndim >= 3 ? ndim - 2 : ndim - 1;
    }
    switch (ndim) {
    case 2: *what = "Keras Dense kernel [in, out]"; break;
    case 3: *what = "TensorFlow Conv1D kernel [W, in, out]"; break;
    case 4: *what = "TensorFlow HWIO kernel"; break;
    default: *what = "TensorFlow kernel, output channels last"; break;
    }
    return ndim - 1;
}

int qs_axis_auto(const char *name, int ndim, const int64_t *shape, const qs_axis_src *src,
                 char *why, size_t len)
{
    char lf[96], shp[96];
    const char *what = NULL;
    int axis = 0;
    const char *ff = src && src->file_format ? src->file_format : "";
    const char *mf = src && src->meta_format ? src->meta_format : "";
    leaf(name, lf, sizeof lf);
    qs_shape_str(ndim, shape, shp, sizeof shp);
    if (ndim < 2) {
        axis = 0;
        what = "a 1-d tensor has one axis";
    } else if (!strcmp(ff, "gguf")) {
        axis = 0;
        what = "GGUF stores a weight as rows of output features (ggml ne[1]), shown first";
    } else if (!strcmp(mf, "tf") || !strcmp(mf, "keras") || !strcmp(mf, "flax") ||
               !strcmp(mf, "jax")) {
        axis = tf_axis(ndim, lf, &what);
        if (strcmp(lf, "kernel") && !strstr(lf, "depthwise") && !ends_with(lf, "filter"))
            what = ndim == 2 ? "TensorFlow layout [in, out]" : "TensorFlow layout, output "
                                                               "channels last";
    } else if (!strcmp(mf, "pt") || !strcmp(mf, "torch") || !strcmp(mf, "pytorch")) {
        axis = 0;
        what = "PyTorch layout [out, in, ...] (the file says format pt)";
    } else if (!strcmp(lf, "kernel") || strstr(lf, "depthwise_kernel") ||
               ends_with(lf, "_filter") || !strcmp(lf, "filter") || !strcmp(lf, "filters")) {
        axis = tf_axis(ndim, lf, &what);
    } else if (!strcmp(ff, "torch")) {
        axis = 0;
        what = "PyTorch checkpoint: weight [out, in, ...]";
    } else if (!strcmp(lf, "weight") || ends_with(lf, "_weight")) {
        axis = 0;
        what = "PyTorch name .weight: [out, in, ...]";
    } else {
        axis = 0;
        what = "output channels first, as PyTorch, ONNX and GGUF store them (axis=N chooses)";
    }
    if (why && len) {
        if (ndim >= 2 && !strcmp(what, "TensorFlow HWIO kernel"))
            snprintf(why, len, "axis %d: TensorFlow HWIO kernel %s", axis, shp);
        else snprintf(why, len, "axis %d: %s", axis, what);
    }
    return axis;
}
