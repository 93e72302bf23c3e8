/* gpt_ptq.c — issue 17's PTQ methods on the GPT lab's model (gpt_ptq.h): each block linear
 * layer (qkv, proj, fc1, fc2) is quantized by llmq.h's engine functions from calibration
 * inputs captured with qs_gpt_capture; GPTQ runs layer after layer, capturing each layer's
 * inputs from the model whose earlier layers are already quantized (GPTQ's "true sequential"
 * order); AWQ searches every layer on the fp32 model's inputs (llm-awq's run_awq quantizes
 * only after its search), scoring the scales of attn.c_attn and mlp.c_fc on their block's
 * attention / MLP output (its module2inspect), then runs llm-awq's clipping search. The
 * output layer (the tied embedding) stays fp32 throughout. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/gpt_ptq.h"
#include "qscope/kernels.h"
#include "qscope/llmq.h"
#include "qscope/tensor.h"

#include "gpt_priv.h"

static const char *const method_names[QS_PTQ_COUNT] = {
    "rtn", "gptq", "awq", "smoothquant", "llmint8", "w8a8", "rotate",
};

const char *qs_ptq_method_name(int m)
{
    return m >= 0 && m < QS_PTQ_COUNT ? method_names[m] : "?";
}

int qs_ptq_method_find(const char *name)
{
    for (int i = 0; name && i < QS_PTQ_COUNT; i++)
        if (!strcmp(name, method_names[i])) return i;
    return -1;
}

void qs_gpt_ptq_defaults(qs_gpt_ptq_opts *o)
{
    memset(o, 0, sizeof *o);
    o->method = QS_PTQ_RTN;
    o->bits = 4;
    o->group = 32;
    o->alpha = 0.5;
    o->threshold = 6.0;
    o->damp = 0.01;
    o->seed = 1;
    o->grid = 20;
}

/* ---- the forward override of the W8A8 / rotation methods ------------------------------- */

typedef struct layer_ctx {
    float *s;           /* SmoothQuant: per input channel scale (NULL: none) */
    float *Ws;          /* W·s (SmoothQuant) or the rotated (quantized) weight W·Q */
    float *d;           /* rotation signs (NULL: no rotation) */
} layer_ctx;

typedef struct ptq_ctx {
    int method;
    int nl;             /* linear layers (block layers then lm_head) */
    double threshold;
    layer_ctx L[4 * QS_GPT_MAX_LAYERS + 1];
} ptq_ctx;

static void ctx_free(ptq_ctx *c)
{
    if (!c) return;
    for (int i = 0; i < c->nl; i++) {
        free(c->L[i].s);
        free(c->L[i].Ws);
        free(c->L[i].d);
    }
    free(c);
}

static void add_bias(float *Y, int rows, int out, const float *b)
{
    if (!b) return;
    for (int r = 0; r < rows; r++)
        for (int o = 0; o < out; o++) Y[(size_t)r * out + o] += b[o];
}

static int linear_fn(void *vctx, int layer, const float *X, int rows, int in, const float *W,
                     const float *b, int out, float *Y)
{
    ptq_ctx *c = vctx;
    qs_err err = {""};
    int rc = QS_OK;
    if (layer >= c->nl - 1) {              /* lm_head: plain fp32 */
        qs_k()->sgemm(0, 1, rows, out, in, 1.0f, X, in, W, in, 0.0f, Y, out);
        add_bias(Y, rows, out, b);
        return 0;
    }
    layer_ctx *L = &c->L[layer];
    switch (c->method) {
    case QS_PTQ_W8A8:
        rc = qs_w8a8(X, rows, W, out, in, 0, Y, &err);
        break;
    case QS_PTQ_SMOOTHQUANT: {
        float *Xs = malloc((size_t)rows * in * sizeof *Xs);
        if (!Xs) return 1;
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < in; j++) Xs[(size_t)r * in + j] = X[(size_t)r * in + j] / L->s[j];
        rc = qs_w8a8(Xs, rows, L->Ws, out, in, 0, Y, &err);
        free(Xs);
        break;
    }
    case QS_PTQ_LLMINT8:
        rc = qs_llmint8(X, rows, W, out, in, c->threshold, Y, NULL, NULL, &err);
        break;
    case QS_PTQ_ROTATE: {
        float *Xr = malloc((size_t)rows * in * sizeof *Xr);
        if (!Xr) return 1;
        memcpy(Xr, X, (size_t)rows * in * sizeof *Xr);
        rc = qs_rot_apply(Xr, rows, in, L->d, &err);
        if (rc == QS_OK)
            qs_k()->sgemm(0, 1, rows, out, in, 1.0f, Xr, in, L->Ws, in, 0.0f, Y, out);
        free(Xr);
        break;
    }
    default:
        qs_k()->sgemm(0, 1, rows, out, in, 1.0f, X, in, W, in, 0.0f, Y, out);
        break;
    }
    if (rc != QS_OK) return 1;
    add_bias(Y, rows, out, b);
    return 0;
}

/* ---- running a method -------------------------------------------------------------------- */

static void free_capture(float **X, int nl)
{
    if (!X) return;
    for (int i = 0; i < nl; i++) qs_free_aligned(X[i]);
    free(X);
}

void qs_gpt_ptq_fini(qs_gpt_ptq *p)
{
    if (!p) return;
    qs_gpt_free(p->m);
    ctx_free(p->ctx);
    memset(p, 0, sizeof *p);
}

/* auto_clip_block's filter: layers whose name holds "q_", "k_", "query", "key" or "Wqkv"
 * feed the q·k product and are not clipped. The GPT lab's names are GPTBigCode's
 * (attn.c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj), none of which matches, so llm-awq clips
 * all four, as it does for that model. */
static int awq_clips(const char *name)
{
    static const char *const skip[] = {"q_", "k_", "query", "key", "Wqkv"};
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
        if (strstr(name, skip[i])) return 0;
    return 1;
}

/* llm-awq's module2inspect for the layers that feed more than themselves: the scales of
 * attn.c_attn are scored on the attention's output and those of mlp.c_fc on the MLP's, with
 * every other weight fp32. Both outputs are the block's next linear (attn.c_proj, mlp.c_proj;
 * fp32) applied to the sub-block's result A (gpt_module_fwd), so a candidate scores
 * mean over rows × outputs of ((A_cand - A) · W_nextᵀ)². */
typedef struct awq_mod {
    const qs_gpt *m;        /* the fp32 model */
    int li;                 /* the layer searched */
    const float *X;         /* its inputs [rows × in] */
    gpt_buf *b;             /* rows / ctx windows */
    float *ref, *D, *Y;     /* A of the fp32 weights; scratch */
} awq_mod;

static int awq_module_loss(void *vctx, const float *Wq, double *loss, qs_err *err)
{
    (void)err;
    awq_mod *a = vctx;
    qs_gpt_linear N;
    qs_gpt_linear_get(a->m, a->li + 1, &N);
    const float *A = gpt_module_fwd(a->m, a->li, Wq, a->X, a->b);
    int64_t rows = a->b->N;
    for (size_t k = 0; k < (size_t)rows * N.in; k++) a->D[k] = A[k] - a->ref[k];
    qs_k()->sgemm(0, 1, rows, N.out, N.in, 1.0f, a->D, N.in, N.W, N.in, 0.0f, a->Y, N.out);
    double se = 0.0;
    for (size_t k = 0; k < (size_t)rows * N.out; k++) se += (double)a->Y[k] * a->Y[k];
    *loss = se / ((double)rows * N.out);
    return QS_OK;
}

static int is_pow2(int n)
{
    return n > 0 && (n & (n - 1)) == 0;
}

int qs_gpt_ptq_run(const qs_gpt *m, const uint8_t *calib, int64_t ncalib, int64_t max_rows,
                   const qs_gpt_ptq_opts *o, qs_gpt_ptq *out, qs_err *err)
{
    memset(out, 0, sizeof *out);
    if (o->method < 0 || o->method >= QS_PTQ_COUNT) return qs_err_set(err, "ptq: unknown method");
    int weight_only = o->method == QS_PTQ_RTN || o->method == QS_PTQ_GPTQ ||
                      o->method == QS_PTQ_AWQ || o->method == QS_PTQ_ROTATE;
    int quant_w = weight_only && !(o->method == QS_PTQ_ROTATE && o->bits == 0);
    if (quant_w && (o->bits < 2 || o->bits > 8))
        return qs_err_set(err, "ptq: bits=%d (2..8)", o->bits);
    qs_gpt *q = qs_gpt_clone(m, err);
    if (!q) return QS_ERR;
    gpt_buf mb;             /* AWQ's module outputs: the calibration windows at once */
    float *mref = NULL, *mD = NULL, *mY = NULL;
    int have_mb = 0;
    int nl = qs_gpt_nlinear(q), nb = nl - 1, rc = QS_OK;
    ptq_ctx *c = NULL;
    float **X = NULL;
    int64_t rows = 0;
    qs_wq g = { o->bits, o->sym, o->group, o->method == QS_PTQ_AWQ ? 1 : 0 };
    double ratio_sum = 0.0, clipped = 0.0, ranges = 0.0;
    if (!weight_only || o->method == QS_PTQ_ROTATE) {
        c = calloc(1, sizeof *c);
        if (!c) { rc = qs_err_set(err, "ptq: out of memory"); goto done; }
        c->method = o->method;
        c->nl = nl;
        c->threshold = o->threshold;
    }
    if (o->method == QS_PTQ_SMOOTHQUANT || o->method == QS_PTQ_LLMINT8 ||
        o->method == QS_PTQ_AWQ) {
        /* one capture of the fp32 model: SmoothQuant's activation maxima, LLM.int8()'s
         * column count on the calibration text, AWQ's inputs (llm-awq's run_awq feeds each
         * block the fp outputs of the one before: it quantizes only after the search) */
        if ((rc = qs_gpt_capture(q, calib, ncalib, max_rows, &X, &rows, err)) != QS_OK) goto done;
    }
    if (o->method == QS_PTQ_AWQ) {
        size_t wide = (size_t)rows * (q->c.ff > q->c.d ? q->c.ff : q->c.d);
        mref = malloc(wide * sizeof *mref);
        mD = malloc(wide * sizeof *mD);
        mY = malloc((size_t)rows * q->c.d * sizeof *mY);
        if (!mref || !mD || !mY) { rc = qs_err_set(err, "ptq: out of memory"); goto done; }
        if ((rc = gpt_buf_init(&mb, &q->c, (int)(rows / q->c.ctx), q->c.ctx, 0, err)) != QS_OK)
            goto done;
        have_mb = 1;
    }
    for (int li = 0; li < nb && rc == QS_OK; li++) {
        qs_gpt_linear L;
        qs_gpt_linear_get(q, li, &L);
        size_t nw = (size_t)L.out * L.in;
        if (o->method == QS_PTQ_GPTQ) {
            /* this layer's inputs from the model quantized so far */
            free_capture(X, nl);
            X = NULL;
            if ((rc = qs_gpt_capture(q, calib, ncalib, max_rows, &X, &rows, err)) != QS_OK) break;
        }
        float *Wq = NULL;
        switch (o->method) {
        case QS_PTQ_RTN:
            rc = qs_wq_rtn(&g, L.W, L.out, L.in, L.W, err);
            break;
        case QS_PTQ_GPTQ: {
            qs_gptq_opts go;
            qs_gptq_defaults(&go);
            go.q = g;
            go.percdamp = o->damp;
            go.actorder = o->actorder;
            Wq = malloc(nw * sizeof *Wq);
            if (!Wq) { rc = qs_err_set(err, "ptq: out of memory"); break; }
            rc = qs_gptq(X[li], (int)rows, L.W, L.out, L.in, &go, Wq, NULL, err);
            if (rc == QS_OK) memcpy(L.W, Wq, nw * sizeof *Wq);
            break;
        }
        case QS_PTQ_AWQ: {
            double r = 0.0;
            Wq = malloc(nw * sizeof *Wq);
            if (!Wq) { rc = qs_err_set(err, "ptq: out of memory"); break; }
            float *s = malloc((size_t)L.in * sizeof *s);
            if (!s) { rc = qs_err_set(err, "ptq: out of memory"); break; }
            /* attn.c_attn and mlp.c_fc: scored on their block's output */
            int mod = li % 4 == 0 || li % 4 == 2;
            awq_mod am = { m, li, X[li], &mb, mref, mD, mY };
            if (mod) {
                qs_gpt_linear F;
                qs_gpt_linear_get(m, li, &F);
                const float *A = gpt_module_fwd(m, li, F.W, X[li], &mb);
                qs_gpt_linear_get(m, li + 1, &F);
                memcpy(mref, A, (size_t)rows * F.in * sizeof *mref);
            }
            rc = qs_awq_ex(X[li], (int)rows, L.W, L.out, L.in, &g, o->grid > 0 ? o->grid : 20,
                           mod ? awq_module_loss : NULL, &am, Wq, s, NULL, &r, err);
            if (rc == QS_OK && !o->noclip && awq_clips(L.name)) {
                int nc = 0, gs = g.group > 0 && g.group < L.in ? g.group : L.in;
                rc = qs_awq_clip(X[li], (int)rows, L.W, L.out, L.in, &g, s, 20, 0.5, 512, Wq,
                                 NULL, &nc, err);
                clipped += nc;
                ranges += (double)L.out * ((L.in + gs - 1) / gs);
            }
            if (rc == QS_OK) memcpy(L.W, Wq, nw * sizeof *Wq);
            ratio_sum += r;
            free(s);
            break;
        }
        case QS_PTQ_SMOOTHQUANT: {
            layer_ctx *lc = &c->L[li];
            lc->s = malloc((size_t)L.in * sizeof *lc->s);
            lc->Ws = malloc(nw * sizeof *lc->Ws);
            if (!lc->s || !lc->Ws) { rc = qs_err_set(err, "ptq: out of memory"); break; }
            rc = qs_smooth_scales(X[li], (int)rows, L.W, L.out, L.in, o->alpha, lc->s, NULL,
                                  NULL, err);
            for (size_t k = 0; rc == QS_OK && k < nw; k++)
                lc->Ws[k] = L.W[k] * lc->s[k % (size_t)L.in];
            break;
        }
        case QS_PTQ_LLMINT8:
            for (int j = 0; j < L.in; j++) {
                int keep = 0;
                for (int64_t t = 0; t < rows && !keep; t++)
                    keep = fabsf(X[li][t * L.in + j]) >= o->threshold;
                out->kept_columns += keep;
            }
            out->total_columns += L.in;
            break;
        case QS_PTQ_ROTATE: {
            if (!is_pow2(L.in)) {
                rc = qs_err_set(err, "ptq rotate: layer %s has inputs of %d, not a power of two",
                                L.name, L.in);
                break;
            }
            layer_ctx *lc = &c->L[li];
            lc->d = malloc((size_t)L.in * sizeof *lc->d);
            lc->Ws = malloc(nw * sizeof *lc->Ws);
            if (!lc->d || !lc->Ws) { rc = qs_err_set(err, "ptq: out of memory"); break; }
            qs_rot_signs(o->seed, L.in, lc->d);
            memcpy(lc->Ws, L.W, nw * sizeof *lc->Ws);
            rc = qs_rot_apply(lc->Ws, L.out, L.in, lc->d, err);
            if (rc == QS_OK && quant_w) rc = qs_wq_rtn(&g, lc->Ws, L.out, L.in, lc->Ws, err);
            break;
        }
        default:
            break;
        }
        free(Wq);
    }
    if (rc != QS_OK) goto done;
    out->calib_rows = rows;
    if (weight_only && quant_w) {
        int gs = o->group;
        /* the asymmetric grid is `lab gpt eval`'s "affine" one and says so (one name for
         * one grid); sym is GPTQ's grid, codes -2^(b-1)..2^(b-1)-1 with scale
         * 2·amax/(2^b - 1): the label says so, since `lab gpt eval format=int4-g32-sym` is
         * the narrow ±7 grid */
        char sym[32];
        snprintf(sym, sizeof sym, "sym[%d,%d]", -(1 << (o->bits - 1)), (1 << (o->bits - 1)) - 1);
        if (gs > 0) snprintf(out->format, sizeof out->format, "int%d-g%d-%.16s", o->bits, gs,
                             o->sym ? sym : "affine");
        else snprintf(out->format, sizeof out->format, "int%d-row-%.16s", o->bits,
                      o->sym ? sym : "affine");
        /* a float32 scale per group (+ an integer zero point when asymmetric), as qscope's
         * scheme costs count them; a group wider than a row is one per row */
        double sum = 0.0, cnt = 0.0;
        for (int li = 0; li < nb; li++) {
            qs_gpt_linear L;
            qs_gpt_linear_get(q, li, &L);
            int per = gs > 0 && gs < L.in ? gs : L.in;
            double sets = (double)L.out * ((L.in + per - 1) / per);
            sum += (double)L.out * L.in * o->bits + sets * (32.0 + (o->sym ? 0 : o->bits));
            cnt += (double)L.out * L.in;
        }
        out->bits = sum / cnt;
    } else if (o->method == QS_PTQ_ROTATE) {
        snprintf(out->format, sizeof out->format, "fp32");
        out->bits = 32.0;
    } else {
        snprintf(out->format, sizeof out->format, "w8a8-token");
        /* int8 weights + an fp32 scale per output row; LLM.int8() keeps the outlier columns
         * in 16 bits on top (counted on the calibration text) */
        double sum = 0.0, cnt = 0.0;
        for (int li = 0; li < nb; li++) {
            qs_gpt_linear L;
            qs_gpt_linear_get(q, li, &L);
            sum += (double)L.out * L.in * 8.0 + (double)L.out * 32.0;
            cnt += (double)L.out * L.in;
        }
        out->bits = sum / cnt;
        if (o->method == QS_PTQ_LLMINT8 && out->total_columns > 0)
            out->bits += 8.0 * (double)out->kept_columns / out->total_columns;
    }
    if (o->method == QS_PTQ_AWQ) {
        out->awq_ratio_mean = ratio_sum / nb;
        out->awq_clip_frac = ranges > 0 ? clipped / ranges : 0.0;
    }
    if (c) {
        out->run.linear = linear_fn;
        out->run.ctx = c;
        out->ctx = c;
        c = NULL;
    }
    out->m = q;
    q = NULL;
done:
    free_capture(X, nl);
    ctx_free(c);
    qs_gpt_free(q);
    if (have_mb) gpt_buf_fini(&mb);
    free(mref); free(mD); free(mY);
    return rc;
}
