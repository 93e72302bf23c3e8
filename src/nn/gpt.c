/* gpt.c — the GPT lab's model: parameters, save / load, the forward and backward passes on
 * the qs_k() fp32 GEMM (attention threaded over windows × heads), the linear-layer hook. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "gpt_priv.h"
#include "nn_priv.h"
#include "qscope/io.h"
#include "qscope/kernels.h"
#include "qscope/tensor.h"

#define LN_EPS 1e-5f

static const char vocab_chars[] = QS_GPT_VOCAB_CHARS;

int qs_gpt_tok(unsigned char c)
{
    if (c == '\n') return QS_GPT_V - 1;
    if (c >= 32 && c < 127) return c - 32;
    return -1;
}

char qs_gpt_chr(int tok)
{
    return tok >= 0 && tok < QS_GPT_V ? vocab_chars[tok] : '?';
}

/* ======================================================================================
 * Parameters
 * ====================================================================================== */

int qs_gpt_cfg_check(const qs_gpt_cfg *c, qs_err *err)
{
    if (c->ctx < 2 || c->ctx > QS_GPT_MAX_CTX)
        return qs_err_set(err, "gpt: ctx=%d is outside 2..%d", c->ctx, QS_GPT_MAX_CTX);
    if (c->d < 4 || c->d > QS_GPT_MAX_D)
        return qs_err_set(err, "gpt: d=%d is outside 4..%d", c->d, QS_GPT_MAX_D);
    if (c->layers < 1 || c->layers > QS_GPT_MAX_LAYERS)
        return qs_err_set(err, "gpt: layers=%d is outside 1..%d", c->layers, QS_GPT_MAX_LAYERS);
    if (c->heads < 1 || c->d % c->heads != 0)
        return qs_err_set(err, "gpt: heads=%d does not divide d=%d", c->heads, c->d);
    if (c->ff < 1 || c->ff > 4 * QS_GPT_MAX_D)
        return qs_err_set(err, "gpt: ff=%d is outside 1..%d", c->ff, 4 * QS_GPT_MAX_D);
    return QS_OK;
}

int64_t qs_gpt_cfg_params(const qs_gpt_cfg *c)
{
    int64_t d = c->d, ff = c->ff;
    int64_t blk = 2 * d + 3 * d * d + 3 * d + d * d + d + 2 * d + ff * d + ff + d * ff + d;
    return (int64_t)QS_GPT_V * d + (int64_t)c->ctx * d + c->layers * blk + 2 * d;
}

void qs_gpt_map(const qs_gpt_cfg *c, float *base, qs_gpt_ptrs *w)
{
    int64_t d = c->d, ff = c->ff;
    float *p = base;
#define TAKE(dst, n) do { (dst) = p; p += (n); } while (0)
    memset(w, 0, sizeof *w);
    TAKE(w->wte, QS_GPT_V * d);
    TAKE(w->wpe, c->ctx * d);
    for (int l = 0; l < c->layers; l++) {
        qs_gpt_blk *b = &w->b[l];
        TAKE(b->ln1_g, d);
        TAKE(b->ln1_b, d);
        TAKE(b->qkv_w, 3 * d * d);
        TAKE(b->qkv_b, 3 * d);
        TAKE(b->proj_w, d * d);
        TAKE(b->proj_b, d);
        TAKE(b->ln2_g, d);
        TAKE(b->ln2_b, d);
        TAKE(b->fc1_w, ff * d);
        TAKE(b->fc1_b, ff);
        TAKE(b->fc2_w, d * ff);
        TAKE(b->fc2_b, d);
    }
    TAKE(w->lnf_g, d);
    TAKE(w->lnf_b, d);
#undef TAKE
}

static qs_gpt *gpt_alloc(const qs_gpt_cfg *c, qs_err *err)
{
    if (qs_gpt_cfg_check(c, err) != QS_OK) return NULL;
    qs_gpt *m = calloc(1, sizeof *m);
    if (!m) {
        qs_err_set(err, "gpt: out of memory");
        return NULL;
    }
    m->c = *c;
    m->n = qs_gpt_cfg_params(c);
    m->p = qs_alloc_aligned((size_t)m->n * sizeof(float));
    if (!m->p) {
        qs_err_set(err, "gpt: out of memory for %lld parameters", (long long)m->n);
        free(m);
        return NULL;
    }
    memset(m->p, 0, (size_t)m->n * sizeof(float));
    qs_gpt_map(c, m->p, &m->w);
    return m;
}

qs_gpt *qs_gpt_new(const qs_gpt_cfg *c, uint64_t seed, qs_err *err)
{
    qs_gpt *m = gpt_alloc(c, err);
    if (!m) return NULL;
    nn_rng r = { seed ^ 0x6a7e5eedull };
    int64_t d = c->d, ff = c->ff;
    double sd = 0.02, sdr = 0.02 / sqrt(2.0 * c->layers);
#define NORMAL(ptr, n, s) for (int64_t i_ = 0; i_ < (n); i_++) (ptr)[i_] = (float)(nn_rng_normal(&r) * (s))
#define FILL(ptr, n, v) for (int64_t i_ = 0; i_ < (n); i_++) (ptr)[i_] = (v)
    NORMAL(m->w.wte, QS_GPT_V * d, sd);
    NORMAL(m->w.wpe, c->ctx * d, sd);
    for (int l = 0; l < c->layers; l++) {
        qs_gpt_blk *b = &m->w.b[l];
        FILL(b->ln1_g, d, 1.0f);
        FILL(b->ln2_g, d, 1.0f);
        NORMAL(b->qkv_w, 3 * d * d, sd);
        NORMAL(b->proj_w, d * d, sdr);
        NORMAL(b->fc1_w, ff * d, sd);
        NORMAL(b->fc2_w, d * ff, sdr);
    }
    FILL(m->w.lnf_g, d, 1.0f);
#undef NORMAL
#undef FILL
    return m;
}

qs_gpt *qs_gpt_clone(const qs_gpt *m, qs_err *err)
{
    qs_gpt *c = gpt_alloc(&m->c, err);
    if (c) memcpy(c->p, m->p, (size_t)m->n * sizeof(float));
    return c;
}

void qs_gpt_free(qs_gpt *m)
{
    if (!m) return;
    qs_free_aligned(m->p);
    free(m);
}

int gpt_weight_ranges(const qs_gpt *m, int64_t *off, int64_t *len, int max)
{
    int k = 0;
    int64_t d = m->c.d, ff = m->c.ff;
#define R(ptr, n) do { if (k < max) { off[k] = (ptr) - m->p; len[k] = (n); k++; } } while (0)
    R(m->w.wte, QS_GPT_V * d);
    R(m->w.wpe, m->c.ctx * d);
    for (int l = 0; l < m->c.layers; l++) {
        const qs_gpt_blk *b = &m->w.b[l];
        R(b->qkv_w, 3 * d * d);
        R(b->proj_w, d * d);
        R(b->fc1_w, ff * d);
        R(b->fc2_w, d * ff);
    }
#undef R
    return k;
}

/* ======================================================================================
 * The linear layers
 * ====================================================================================== */

int qs_gpt_nlinear(const qs_gpt *m)
{
    return 4 * m->c.layers + 1;
}

void qs_gpt_linear_get(const qs_gpt *m, int i, qs_gpt_linear *L)
{
    int d = m->c.d, ff = m->c.ff;
    memset(L, 0, sizeof *L);
    if (i >= 4 * m->c.layers) {
        snprintf(L->name, sizeof L->name, "lm_head");
        L->W = m->w.wte;
        L->out = QS_GPT_V;
        L->in = d;
        return;
    }
    const qs_gpt_blk *b = &m->w.b[i / 4];
    static const char *const nm[4] = { "attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj" };
    snprintf(L->name, sizeof L->name, "h.%d.%s", i / 4, nm[i % 4]);
    switch (i % 4) {
    case 0: L->W = b->qkv_w; L->b = b->qkv_b; L->out = 3 * d; L->in = d; break;
    case 1: L->W = b->proj_w; L->b = b->proj_b; L->out = d; L->in = d; break;
    case 2: L->W = b->fc1_w; L->b = b->fc1_b; L->out = ff; L->in = d; break;
    default: L->W = b->fc2_w; L->b = b->fc2_b; L->out = d; L->in = ff; break;
    }
}

/* ======================================================================================
 * Save / load
 * ====================================================================================== */

typedef struct tdesc {
    char name[48];
    float *v;
    int ndim;
    int64_t shape[2];
} tdesc;

/* The tensors of m in file order; returns their count. */
static int tensor_list(const qs_gpt *m, tdesc *t, int max)
{
    int k = 0, d = m->c.d, ff = m->c.ff;
#define T1(nm, ptr, a) do { if (k < max) { snprintf(t[k].name, sizeof t[k].name, "%s", nm); \
    t[k].v = (ptr); t[k].ndim = 1; t[k].shape[0] = (a); t[k].shape[1] = 0; k++; } } while (0)
#define T2(nm, ptr, a, b_) do { if (k < max) { snprintf(t[k].name, sizeof t[k].name, "%s", nm); \
    t[k].v = (ptr); t[k].ndim = 2; t[k].shape[0] = (a); t[k].shape[1] = (b_); k++; } } while (0)
    T2("wte.weight", m->w.wte, QS_GPT_V, d);
    T2("wpe.weight", m->w.wpe, m->c.ctx, d);
    for (int l = 0; l < m->c.layers; l++) {
        const qs_gpt_blk *b = &m->w.b[l];
        char nm[48];
#define NM(s) (snprintf(nm, sizeof nm, "h.%d.%s", l, s), nm)
        T1(NM("ln_1.weight"), b->ln1_g, d);
        T1(NM("ln_1.bias"), b->ln1_b, d);
        T2(NM("attn.c_attn.weight"), b->qkv_w, 3 * d, d);
        T1(NM("attn.c_attn.bias"), b->qkv_b, 3 * d);
        T2(NM("attn.c_proj.weight"), b->proj_w, d, d);
        T1(NM("attn.c_proj.bias"), b->proj_b, d);
        T1(NM("ln_2.weight"), b->ln2_g, d);
        T1(NM("ln_2.bias"), b->ln2_b, d);
        T2(NM("mlp.c_fc.weight"), b->fc1_w, ff, d);
        T1(NM("mlp.c_fc.bias"), b->fc1_b, ff);
        T2(NM("mlp.c_proj.weight"), b->fc2_w, d, ff);
        T1(NM("mlp.c_proj.bias"), b->fc2_b, d);
#undef NM
    }
    T1("ln_f.weight", m->w.lnf_g, d);
    T1("ln_f.bias", m->w.lnf_b, d);
#undef T1
#undef T2
    return k;
}

#define GPT_MAX_TENSORS (4 + 12 * QS_GPT_MAX_LAYERS)

static int write_all(FILE *f, const void *p, size_t n)
{
    return fwrite(p, 1, n, f) == n ? 0 : -1;
}

int qs_gpt_save(const qs_gpt *m, const char *path, const char *note, int force, qs_err *err)
{
    if (!force && access(path, F_OK) == 0)
        return qs_err_set(err, "%s: exists (add --force to replace it)", path);
    tdesc t[GPT_MAX_TENSORS];
    int nt = tensor_list(m, t, GPT_MAX_TENSORS);
    json_t *h = json_object(), *meta = json_object();
    char buf[64];
    json_object_set_new(meta, "format", json_string("qscope-gpt"));
    snprintf(buf, sizeof buf, "%d,%d,%d,%d,%d", m->c.ctx, m->c.d, m->c.layers, m->c.heads,
             m->c.ff);
    json_object_set_new(meta, "config", json_string(buf));
    json_object_set_new(meta, "config_keys", json_string("ctx,d,layers,heads,ff"));
    json_object_set_new(meta, "vocab", json_string(vocab_chars));
    json_object_set_new(meta, "note", json_string(note ? note : ""));
    json_object_set_new(h, "__metadata__", meta);
    uint64_t off = 0;
    for (int i = 0; i < nt; i++) {
        int64_t n = t[i].shape[0] * (t[i].ndim == 2 ? t[i].shape[1] : 1);
        json_t *shape = json_array();
        for (int k = 0; k < t[i].ndim; k++) json_array_append_new(shape, json_integer(t[i].shape[k]));
        json_object_set_new(h, t[i].name,
                            json_pack("{s:s, s:o, s:[I,I]}", "dtype", "F32", "shape", shape,
                                      "data_offsets", (json_int_t)off,
                                      (json_int_t)(off + (uint64_t)n * 4)));
        off += (uint64_t)n * 4;
    }
    char *js = qs_json_escape_controls(json_dumps(h, JSON_COMPACT | JSON_PRESERVE_ORDER));
    json_decref(h);
    if (!js) return qs_err_set(err, "gpt save: out of memory");
    size_t jl = strlen(js), padded = (jl + 7) / 8 * 8;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        free(js);
        return qs_err_set(err, "%s: %s", path, strerror(errno));
    }
    uint8_t len8[8];
    for (int b = 0; b < 8; b++) len8[b] = (uint8_t)((uint64_t)padded >> (8 * b));
    int bad = write_all(f, len8, 8) || write_all(f, js, jl);
    for (size_t i = jl; i < padded && !bad; i++) bad = fputc(' ', f) == EOF;
    free(js);
    for (int i = 0; i < nt && !bad; i++) {
        int64_t n = t[i].shape[0] * (t[i].ndim == 2 ? t[i].shape[1] : 1);
        uint8_t le[4096];
        for (int64_t j = 0; j < n && !bad;) {
            int k = 0;
            for (; k < 1024 && j < n; k++, j++) {
                uint32_t u;
                memcpy(&u, &t[i].v[j], 4);
                for (int b = 0; b < 4; b++) le[4 * k + b] = (uint8_t)(u >> (8 * b));
            }
            bad = write_all(f, le, (size_t)k * 4);
        }
    }
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) bad = 1;
    if (fclose(f) != 0) bad = 1;
    if (bad || rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        return qs_err_set(err, "%s: write failed: %s", path, strerror(e));
    }
    return QS_OK;
}

static const char *meta_get(const qs_file *f, const char *key)
{
    for (int i = 0; i < f->nmeta; i++)
        if (strcmp(f->meta[i].key, key) == 0) return f->meta[i].value;
    return NULL;
}

int qs_gpt_load(const char *path, qs_gpt **out, qs_err *err)
{
    qs_file *f = NULL;
    qs_gpt *m = NULL;
    int rc = QS_ERR;
    if (qs_file_open(path, &f, err) != QS_OK) return QS_ERR;
    const char *fmt = meta_get(f, "format"), *cfg = meta_get(f, "config"),
               *voc = meta_get(f, "vocab");
    if (!fmt || strcmp(fmt, "qscope-gpt") != 0 || !cfg) {
        qs_err_set(err, "%s: not a qscope GPT model (no __metadata__ format qscope-gpt)", path);
        goto done;
    }
    if (!voc || strcmp(voc, vocab_chars) != 0) {
        qs_err_set(err, "%s: its vocabulary is not the GPT lab's %d characters", path,
                   QS_GPT_V);
        goto done;
    }
    qs_gpt_cfg c;
    char extra;
    if (sscanf(cfg, "%d,%d,%d,%d,%d%c", &c.ctx, &c.d, &c.layers, &c.heads, &c.ff, &extra) != 5) {
        qs_err_set(err, "%s: bad config '%.40s' (expected ctx,d,layers,heads,ff)", path, cfg);
        goto done;
    }
    qs_err e2;
    if (qs_gpt_cfg_check(&c, &e2) != QS_OK) {
        qs_err_set(err, "%s: %s", path, e2.msg);
        goto done;
    }
    m = gpt_alloc(&c, err);
    if (!m) goto done;
    tdesc t[GPT_MAX_TENSORS];
    int nt = tensor_list(m, t, GPT_MAX_TENSORS);
    for (int i = 0; i < nt; i++) {
        int idx = qs_file_find(f, t[i].name);
        if (idx < 0) {
            qs_err_set(err, "%s: tensor %s is missing", path, t[i].name);
            goto done;
        }
        qs_tensor *x = NULL;
        if (qs_file_read(f, idx, &x, err) != QS_OK) goto done;
        int ok = x->ndim == t[i].ndim && x->shape[0] == t[i].shape[0] &&
                 (t[i].ndim == 1 || x->shape[1] == t[i].shape[1]);
        if (!ok) {
            char got[64] = "", want[64];
            size_t o = 0;
            for (int k = 0; k < x->ndim && o < sizeof got; k++)
                o += (size_t)snprintf(got + o, sizeof got - o, "%s%lld", k ? ", " : "",
                                      (long long)x->shape[k]);
            if (t[i].ndim == 2)
                snprintf(want, sizeof want, "%lld, %lld", (long long)t[i].shape[0],
                         (long long)t[i].shape[1]);
            else
                snprintf(want, sizeof want, "%lld", (long long)t[i].shape[0]);
            qs_err_set(err, "%s: tensor %s has shape [%s] where config %s (ctx,d,layers,heads,"
                       "ff) needs [%s]", path, t[i].name, got, cfg, want);
            qs_tensor_free(x);
            goto done;
        }
        for (int64_t j = 0; j < x->n; j++)
            if (!isfinite(x->data[j])) {
                qs_err_set(err, "%s: tensor %s holds a non-finite value (corrupt checkpoint)",
                           path, t[i].name);
                qs_tensor_free(x);
                goto done;
            }
        memcpy(t[i].v, x->data, (size_t)x->n * sizeof(float));
        qs_tensor_free(x);
    }
    *out = m;
    m = NULL;
    rc = QS_OK;
done:
    qs_gpt_free(m);
    qs_file_close(f);
    return rc;
}

/* ======================================================================================
 * Buffers
 * ====================================================================================== */

static float *fz(gpt_buf *b, int64_t n, int *ok)
{
    float *p = qs_alloc_aligned((size_t)(n > 0 ? n : 1) * sizeof(float));
    if (!p) *ok = 0;
    else memset(p, 0, (size_t)(n > 0 ? n : 1) * sizeof(float));
    b->bytes += n * 4;
    return p;
}

int gpt_buf_init(gpt_buf *b, const qs_gpt_cfg *c, int B, int T, int train, qs_err *err)
{
    memset(b, 0, sizeof *b);
    b->B = B;
    b->T = T;
    b->L = c->layers;
    b->d = c->d;
    b->ff = c->ff;
    b->H = c->heads;
    b->N = (int64_t)B * T;
    b->nth = omp_get_max_threads();
    if (b->nth > qs_k_threads()) b->nth = qs_k_threads();
    if (b->nth < 1) b->nth = 1;
    int64_t N = b->N, d = c->d, ff = c->ff, TT = (int64_t)T * T;
    int ok = 1;
    for (int l = 0; l <= c->layers; l++) b->x[l] = fz(b, N * d, &ok);
    for (int l = 0; l < c->layers && ok; l++) {
        /* evaluation reuses layer 0's buffers for every block */
        if (!train && l > 0) {
            b->ln1[l] = b->ln1[0]; b->mu1[l] = b->mu1[0]; b->rs1[l] = b->rs1[0];
            b->qkv[l] = b->qkv[0]; b->P[l] = b->P[0]; b->ao[l] = b->ao[0];
            b->xm[l] = b->xm[0]; b->ln2[l] = b->ln2[0]; b->mu2[l] = b->mu2[0];
            b->rs2[l] = b->rs2[0]; b->h[l] = b->h[0]; b->g[l] = b->g[0];
            continue;
        }
        b->ln1[l] = fz(b, N * d, &ok);
        b->mu1[l] = fz(b, N, &ok);
        b->rs1[l] = fz(b, N, &ok);
        b->qkv[l] = fz(b, N * 3 * d, &ok);
        b->P[l] = fz(b, (int64_t)B * c->heads * TT, &ok);
        b->ao[l] = fz(b, N * d, &ok);
        b->xm[l] = fz(b, N * d, &ok);
        b->ln2[l] = fz(b, N * d, &ok);
        b->mu2[l] = fz(b, N, &ok);
        b->rs2[l] = fz(b, N, &ok);
        b->h[l] = fz(b, N * ff, &ok);
        b->g[l] = fz(b, N * ff, &ok);
    }
    b->lnf = fz(b, N * d, &ok);
    b->muf = fz(b, N, &ok);
    b->rsf = fz(b, N, &ok);
    b->logits = fz(b, N * QS_GPT_V, &ok);
    int64_t wide = ff > 3 * d ? ff : 3 * d;
    b->xs = fz(b, N * wide, &ok);
    if (train) {
        b->dx = fz(b, N * d, &ok);
        b->dln = fz(b, N * d, &ok);
        b->dqkv = fz(b, N * 3 * d, &ok);
        b->dao = fz(b, N * d, &ok);
        b->dh = fz(b, N * ff, &ok);
        b->dP = fz(b, TT * b->nth, &ok);
    }
    if (!ok) {
        gpt_buf_fini(b);
        return qs_err_set(err, "gpt: out of memory for the activations of %d × %d tokens", B, T);
    }
    return QS_OK;
}

void gpt_buf_fini(gpt_buf *b)
{
    for (int l = 0; l <= b->L; l++) qs_free_aligned(b->x[l]);
    for (int l = 0; l < b->L; l++) {
        if (l > 0 && b->ln1[l] == b->ln1[0]) continue;
        qs_free_aligned(b->ln1[l]); qs_free_aligned(b->mu1[l]); qs_free_aligned(b->rs1[l]);
        qs_free_aligned(b->qkv[l]); qs_free_aligned(b->P[l]); qs_free_aligned(b->ao[l]);
        qs_free_aligned(b->xm[l]); qs_free_aligned(b->ln2[l]); qs_free_aligned(b->mu2[l]);
        qs_free_aligned(b->rs2[l]); qs_free_aligned(b->h[l]); qs_free_aligned(b->g[l]);
    }
    qs_free_aligned(b->lnf); qs_free_aligned(b->muf); qs_free_aligned(b->rsf);
    qs_free_aligned(b->logits); qs_free_aligned(b->xs);
    qs_free_aligned(b->dx); qs_free_aligned(b->dln); qs_free_aligned(b->dqkv);
    qs_free_aligned(b->dao); qs_free_aligned(b->dh); qs_free_aligned(b->dP);
    memset(b, 0, sizeof *b);
}

/* ======================================================================================
 * Forward
 * ====================================================================================== */

static void layernorm(const float *x, int64_t N, int d, const float *g, const float *bb,
                      float *y, float *mu, float *rs)
{
    for (int64_t r = 0; r < N; r++) {
        const float *xr = x + r * d;
        float *yr = y + r * d;
        double s = 0, s2 = 0;
        for (int j = 0; j < d; j++) s += xr[j];
        float m = (float)(s / d);
        for (int j = 0; j < d; j++) {
            float t = xr[j] - m;
            s2 += (double)t * t;
        }
        float rstd = (float)(1.0 / sqrt(s2 / d + LN_EPS));
        mu[r] = m;
        rs[r] = rstd;
        for (int j = 0; j < d; j++) yr[j] = (xr[j] - m) * rstd * g[j] + bb[j];
    }
}

/* Symmetric fake quantization of n values in place, scale per segment of `seg` values
 * (absmax / qmax), through the fused kernel. */
static void fq_sym(float *x, int64_t nseg, int64_t seg, int bits)
{
    int qmax = (1 << (bits - 1)) - 1;
    int64_t shape[2] = { nseg, seg };
    qs_layout lay;
    qs_layout_make(2, shape, QS_G_CHANNEL, 0, 0, &lay);
    float *mn = malloc((size_t)nseg * 4 * 2 + 16), *mx = mn ? mn + nseg : NULL;
    float *sc = malloc((size_t)nseg * 4 * 2 + 16), *inv = sc ? sc + nseg : NULL;
    int32_t *zp = calloc((size_t)nseg + 1, sizeof *zp);
    if (!mn || !sc || !zp) {        /* out of memory: leave fp32 (never reached in tests) */
        free(mn); free(sc); free(zp);
        return;
    }
    qs_k()->minmax_layout(x, &lay, mn, mx);
    for (int64_t i = 0; i < nseg; i++) {
        float a = fmaxf(fabsf(mn[i]), fabsf(mx[i]));
        sc[i] = a > 0 ? a / (float)qmax : 1.0f;
        inv[i] = 1.0f / sc[i];
    }
    qs_qp qp = { sc, inv, zp, -qmax, qmax, 0, QS_R_HALF_EVEN, 0 };
    qs_errstats st;
    qs_k()->fakequant(x, &lay, &qp, x, NULL, &st, NULL);
    free(mn); free(sc); free(zp);
}

typedef struct fwd_ctx {
    const qs_gpt_run_opts *o;
    gpt_buf *b;
    gpt_capture_fn capture;
    void *cctx;
} fwd_ctx;

static int linear(fwd_ctx *f, int layer, const float *X, int64_t rows, int in, const float *W,
                  const float *bias, int out, float *Y, int is_head)
{
    if (f->capture) f->capture(f->cctx, layer, X, rows, in);
    const qs_gpt_run_opts *o = f->o;
    if (o && o->linear)
        return o->linear(o->ctx, layer, X, (int)rows, in, W, bias, out, Y) ? QS_ERR : QS_OK;
    if (o && o->act_bits && (!is_head || o->act_head)) {
        float *xs = f->b->xs;
        memcpy(xs, X, (size_t)(rows * in) * sizeof(float));
        if (o->act_per_token) fq_sym(xs, rows, in, o->act_bits);
        else fq_sym(xs, 1, rows * in, o->act_bits);
        X = xs;
    }
    qs_k()->sgemm(0, 1, rows, out, in, 1.0f, X, in, W, in, 0.0f, Y, out);
    if (bias)
        for (int64_t r = 0; r < rows; r++)
            for (int j = 0; j < out; j++) Y[r * out + j] += bias[j];
    return QS_OK;
}

/* tanh(u) = 1 - 2 / (exp(2u) + 1): expf is several times faster than tanhf, and exact
 * enough (a few ulp) for float32 training; saturates correctly for large |u| */
static inline float ftanh(float u)
{
    return 1.0f - 2.0f / (expf(2.0f * u) + 1.0f);
}

static inline float gelu(float x)
{
    const float c = 0.7978845608028654f;
    return 0.5f * x * (1.0f + ftanh(c * (x + 0.044715f * x * x * x)));
}

/* Threads for the attention of one layer: one below 2^25 multiply-adds (the GEMM kernel's
 * rule: on a shared 2-core machine a second thread waits for a scheduler slice and spins,
 * measured at more than half of an evaluation's time); the result does not depend on it. */
static int att_threads(const gpt_buf *b)
{
    int64_t mac = (int64_t)b->B * b->H * b->T * b->T * (b->d / b->H) * 2;
    return mac < ((int64_t)1 << 25) ? 1 : b->nth;
}

static void attention_fwd(gpt_buf *b, int l, float scale)
{
    int B = b->B, T = b->T, H = b->H, d = b->d, hd = d / H;
    int64_t TT = (int64_t)T * T;
    #pragma omp parallel for schedule(dynamic, 1) num_threads(att_threads(b))
    for (int bh = 0; bh < B * H; bh++) {
        int bi = bh / H, h = bh % H;
        const float *base = b->qkv[l] + (int64_t)bi * T * 3 * d;
        const float *Q = base + h * hd, *K = base + d + h * hd, *V = base + 2 * d + h * hd;
        float *P = b->P[l] + (int64_t)bh * TT;
        qs_k()->sgemm(0, 1, T, T, hd, scale, Q, 3 * d, K, 3 * d, 0.0f, P, T);
        for (int i = 0; i < T; i++) {
            float *row = P + (int64_t)i * T, mx = -FLT_MAX;
            for (int j = 0; j <= i; j++) mx = fmaxf(mx, row[j]);
            float s = 0;
            for (int j = 0; j <= i; j++) {
                row[j] = expf(row[j] - mx);
                s += row[j];
            }
            float inv = 1.0f / s;
            for (int j = 0; j <= i; j++) row[j] *= inv;
            for (int j = i + 1; j < T; j++) row[j] = 0.0f;
        }
        qs_k()->sgemm(0, 0, T, hd, T, 1.0f, P, T, V, 3 * d, 0.0f,
                          b->ao[l] + (int64_t)bi * T * d + h * hd, d);
    }
}

int gpt_forward(const qs_gpt *m, const qs_gpt_run_opts *o, const uint8_t *tok, gpt_buf *b,
                gpt_capture_fn capture, void *cctx)
{
    int d = m->c.d, ff = m->c.ff, T = b->T, H = m->c.heads;
    int64_t N = b->N;
    fwd_ctx f = { o, b, capture, cctx };
    float *x0 = b->x[0];
    for (int64_t r = 0; r < N; r++) {
        const float *e = m->w.wte + (int64_t)tok[r] * d, *p = m->w.wpe + (int64_t)(r % T) * d;
        for (int j = 0; j < d; j++) x0[r * d + j] = e[j] + p[j];
    }
    float scale = 1.0f / sqrtf((float)(d / H));
    for (int l = 0; l < m->c.layers; l++) {
        const qs_gpt_blk *w = &m->w.b[l];
        const float *x = b->x[l];
        layernorm(x, N, d, w->ln1_g, w->ln1_b, b->ln1[l], b->mu1[l], b->rs1[l]);
        if (linear(&f, 4 * l, b->ln1[l], N, d, w->qkv_w, w->qkv_b, 3 * d, b->qkv[l], 0))
            return QS_ERR;
        if (o && o->kv_bits) {
            /* K and V as a quantized cache stores them: one scale per token and head */
            for (int64_t r = 0; r < N; r++) {
                fq_sym(b->qkv[l] + r * 3 * d + d, H, d / H, o->kv_bits);
                fq_sym(b->qkv[l] + r * 3 * d + 2 * d, H, d / H, o->kv_bits);
            }
        }
        attention_fwd(b, l, scale);
        if (linear(&f, 4 * l + 1, b->ao[l], N, d, w->proj_w, w->proj_b, d, b->xm[l], 0))
            return QS_ERR;
        float *xm = b->xm[l];
        for (int64_t i = 0; i < N * d; i++) xm[i] += x[i];
        layernorm(xm, N, d, w->ln2_g, w->ln2_b, b->ln2[l], b->mu2[l], b->rs2[l]);
        if (linear(&f, 4 * l + 2, b->ln2[l], N, d, w->fc1_w, w->fc1_b, ff, b->h[l], 0))
            return QS_ERR;
        const float *hh = b->h[l];
        float *gg = b->g[l];
        for (int64_t i = 0; i < N * ff; i++) gg[i] = gelu(hh[i]);
        float *xo = b->x[l + 1];
        if (linear(&f, 4 * l + 3, gg, N, ff, w->fc2_w, w->fc2_b, d, xo, 0)) return QS_ERR;
        for (int64_t i = 0; i < N * d; i++) xo[i] += xm[i];
    }
    layernorm(b->x[m->c.layers], N, d, m->w.lnf_g, m->w.lnf_b, b->lnf, b->muf, b->rsf);
    return linear(&f, 4 * m->c.layers, b->lnf, N, d, m->w.wte, NULL, QS_GPT_V, b->logits, 1);
}

/* One sub-block on given inputs (gpt_priv.h): as gpt_forward computes it, with W in place of
 * the block's qkv or fc1 weight. */
float *gpt_module_fwd(const qs_gpt *m, int layer, const float *W, const float *X, gpt_buf *b)
{
    const qs_gpt_blk *w = &m->w.b[layer / 4];
    int l = layer / 4, d = m->c.d, ff = m->c.ff, out = layer % 4 == 0 ? 3 * d : ff;
    int64_t N = b->N;
    float *Y = layer % 4 == 0 ? b->qkv[l] : b->h[l];
    const float *bias = layer % 4 == 0 ? w->qkv_b : w->fc1_b;
    qs_k()->sgemm(0, 1, N, out, d, 1.0f, X, d, W, d, 0.0f, Y, out);
    if (bias)
        for (int64_t r = 0; r < N; r++)
            for (int j = 0; j < out; j++) Y[r * out + j] += bias[j];
    if (layer % 4 == 0) {
        attention_fwd(b, l, 1.0f / sqrtf((float)(d / m->c.heads)));
        return b->ao[l];
    }
    for (int64_t i = 0; i < N * ff; i++) b->g[l][i] = gelu(Y[i]);
    return b->g[l];
}

double gpt_loss(gpt_buf *b, const uint8_t *tok)
{
    int T = b->T;
    int64_t N = b->N, cnt = (int64_t)b->B * (T - 1);
    double total = 0;
    float invc = 1.0f / (float)cnt;
    for (int64_t r = 0; r < N; r++) {
        float *z = b->logits + r * QS_GPT_V;
        if (r % T == T - 1) {
            memset(z, 0, QS_GPT_V * sizeof(float));
            continue;
        }
        int y = tok[r + 1];
        float mx = z[0];
        for (int j = 1; j < QS_GPT_V; j++) mx = fmaxf(mx, z[j]);
        double s = 0;
        for (int j = 0; j < QS_GPT_V; j++) s += exp((double)(z[j] - mx));
        double lse = mx + log(s);
        total += lse - z[y];
        for (int j = 0; j < QS_GPT_V; j++) z[j] = (float)exp(z[j] - lse) * invc;
        z[y] -= invc;
    }
    return total / (double)cnt;
}

/* ======================================================================================
 * Backward
 * ====================================================================================== */

/* dX = dY·W (overwrite or accumulate), dW += dYᵀ·X, db += column sums of dY. */
static void linear_bwd(const float *X, int64_t N, int in, const float *W, int out,
                       const float *dY, float *dX, int acc, float *dW, float *db)
{
    if (dX) qs_k()->sgemm(0, 0, N, in, out, 1.0f, dY, out, W, in, acc ? 1.0f : 0.0f, dX, in);
    qs_k()->sgemm(1, 0, out, in, N, 1.0f, dY, out, X, in, 1.0f, dW, in);
    if (db)
        for (int64_t r = 0; r < N; r++)
            for (int j = 0; j < out; j++) db[j] += dY[r * out + j];
}

/* LayerNorm backward: dx (+)= ..., dg += , db += . */
static void layernorm_bwd(const float *x, int64_t N, int d, const float *g, const float *mu,
                          const float *rs, const float *dy, float *dx, float *dg, float *db)
{
    for (int64_t r = 0; r < N; r++) {
        const float *xr = x + r * d, *dyr = dy + r * d;
        float *dxr = dx + r * d;
        float m = mu[r], s = rs[r];
        double a = 0, c = 0;
        for (int j = 0; j < d; j++) {
            float xh = (xr[j] - m) * s, dxh = dyr[j] * g[j];
            a += dxh;
            c += (double)dxh * xh;
        }
        float am = (float)(a / d), cm = (float)(c / d);
        for (int j = 0; j < d; j++) {
            float xh = (xr[j] - m) * s, dxh = dyr[j] * g[j];
            dxr[j] += s * (dxh - am - xh * cm);
        }
    }
    for (int64_t r = 0; r < N; r++) {
        const float *xr = x + r * d, *dyr = dy + r * d;
        float m = mu[r], s = rs[r];
        for (int j = 0; j < d; j++) {
            dg[j] += dyr[j] * (xr[j] - m) * s;
            db[j] += dyr[j];
        }
    }
}

static void attention_bwd(gpt_buf *b, int l, float scale)
{
    int B = b->B, T = b->T, H = b->H, d = b->d, hd = d / H;
    int64_t TT = (int64_t)T * T;
    #pragma omp parallel for schedule(dynamic, 1) num_threads(att_threads(b))
    for (int bh = 0; bh < B * H; bh++) {
        int bi = bh / H, h = bh % H;
        const float *base = b->qkv[l] + (int64_t)bi * T * 3 * d;
        const float *Q = base + h * hd, *K = base + d + h * hd, *V = base + 2 * d + h * hd;
        float *dbase = b->dqkv + (int64_t)bi * T * 3 * d;
        float *dQ = dbase + h * hd, *dK = dbase + d + h * hd, *dV = dbase + 2 * d + h * hd;
        const float *P = b->P[l] + (int64_t)bh * TT;
        const float *dO = b->dao + (int64_t)bi * T * d + h * hd;
        float *dP = b->dP + (int64_t)omp_get_thread_num() * TT;
        const qs_kernels *k = qs_k();
        k->sgemm(0, 1, T, T, hd, 1.0f, dO, d, V, 3 * d, 0.0f, dP, T);
        k->sgemm(1, 0, T, hd, T, 1.0f, P, T, dO, d, 0.0f, dV, 3 * d);
        for (int i = 0; i < T; i++) {
            const float *pr = P + (int64_t)i * T;
            float *dr = dP + (int64_t)i * T;
            float s = 0;
            for (int j = 0; j <= i; j++) s += pr[j] * dr[j];
            for (int j = 0; j <= i; j++) dr[j] = pr[j] * (dr[j] - s);
            for (int j = i + 1; j < T; j++) dr[j] = 0.0f;
        }
        k->sgemm(0, 0, T, hd, T, scale, dP, T, K, 3 * d, 0.0f, dQ, 3 * d);
        k->sgemm(1, 0, T, hd, T, scale, dP, T, Q, 3 * d, 0.0f, dK, 3 * d);
    }
}

void gpt_backward(const qs_gpt *m, const uint8_t *tok, gpt_buf *b, qs_gpt_ptrs *g)
{
    int d = m->c.d, ff = m->c.ff, L = m->c.layers, T = b->T;
    int64_t N = b->N;
    float scale = 1.0f / sqrtf((float)(d / m->c.heads));
    /* head (tied): logits = lnf · wteᵀ */
    float *dx = b->dx, *dln = b->dln;
    linear_bwd(b->lnf, N, d, m->w.wte, QS_GPT_V, b->logits, dln, 0, g->wte, NULL);
    memset(dx, 0, (size_t)(N * d) * sizeof(float));
    layernorm_bwd(b->x[L], N, d, m->w.lnf_g, b->muf, b->rsf, dln, dx, g->lnf_g, g->lnf_b);
    for (int l = L - 1; l >= 0; l--) {
        const qs_gpt_blk *w = &m->w.b[l];
        qs_gpt_blk *gw = &g->b[l];
        /* dx is the gradient of x[l+1] = xm + fc2(gelu(fc1(ln2(xm)))) */
        float *dgg = b->dh;
        linear_bwd(b->g[l], N, ff, w->fc2_w, d, dx, dgg, 0, gw->fc2_w, gw->fc2_b);
        const float *hh = b->h[l];
        for (int64_t i = 0; i < N * ff; i++) {
            const float c = 0.7978845608028654f;
            float x = hh[i], u = c * (x + 0.044715f * x * x * x), t = ftanh(u);
            float dg = 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * c *
                                               (1.0f + 3.0f * 0.044715f * x * x);
            dgg[i] *= dg;
        }
        linear_bwd(b->ln2[l], N, d, w->fc1_w, ff, dgg, dln, 0, gw->fc1_w, gw->fc1_b);
        /* dx accumulates into the gradient of xm */
        layernorm_bwd(b->xm[l], N, d, w->ln2_g, b->mu2[l], b->rs2[l], dln, dx, gw->ln2_g,
                      gw->ln2_b);
        /* xm = x + proj(ao) */
        linear_bwd(b->ao[l], N, d, w->proj_w, d, dx, b->dao, 0, gw->proj_w, gw->proj_b);
        attention_bwd(b, l, scale);
        linear_bwd(b->ln1[l], N, d, w->qkv_w, 3 * d, b->dqkv, dln, 0, gw->qkv_w, gw->qkv_b);
        layernorm_bwd(b->x[l], N, d, w->ln1_g, b->mu1[l], b->rs1[l], dln, dx, gw->ln1_g,
                      gw->ln1_b);
    }
    for (int64_t r = 0; r < N; r++) {
        float *ge = g->wte + (int64_t)tok[r] * d, *gp = g->wpe + (int64_t)(r % T) * d;
        const float *dr = dx + r * d;
        for (int j = 0; j < d; j++) {
            ge[j] += dr[j];
            gp[j] += dr[j];
        }
    }
}

/* ======================================================================================
 * Entry points for tests and the hook
 * ====================================================================================== */

double qs_gpt_loss_grad(const qs_gpt *m, const uint8_t *tok, int B, int T, float *g,
                        qs_err *err)
{
    gpt_buf b;
    if (T < 2 || T > m->c.ctx) {
        qs_err_set(err, "gpt: window of %d tokens (the model's context is %d)", T, m->c.ctx);
        return NAN;
    }
    if (gpt_buf_init(&b, &m->c, B, T, 1, err) != QS_OK) return NAN;
    gpt_forward(m, NULL, tok, &b, NULL, NULL);
    double loss = gpt_loss(&b, tok);
    qs_gpt_ptrs gp;
    memset(g, 0, (size_t)m->n * sizeof(float));
    qs_gpt_map(&m->c, g, &gp);
    gpt_backward(m, tok, &b, &gp);
    gpt_buf_fini(&b);
    return loss;
}

int qs_gpt_logits(const qs_gpt *m, const qs_gpt_run_opts *opts, const uint8_t *tok, int B,
                  int T, float *logits, qs_err *err)
{
    gpt_buf b;
    if (T < 1 || T > m->c.ctx)
        return qs_err_set(err, "gpt: window of %d tokens (the model's context is %d)", T,
                          m->c.ctx);
    if (gpt_buf_init(&b, &m->c, B, T, 0, err) != QS_OK) return QS_ERR;
    int rc = gpt_forward(m, opts, tok, &b, NULL, NULL);
    if (rc == QS_OK) memcpy(logits, b.logits, (size_t)(b.N * QS_GPT_V) * sizeof(float));
    else qs_err_set(err, "gpt: the linear override failed");
    gpt_buf_fini(&b);
    return rc;
}

typedef struct cap_ctx {
    float **X;
    int64_t row0;
} cap_ctx;

static void cap_fn(void *c, int layer, const float *X, int64_t rows, int in)
{
    cap_ctx *cc = c;
    memcpy(cc->X[layer] + cc->row0 * in, X, (size_t)(rows * in) * sizeof(float));
}

int qs_gpt_capture(const qs_gpt *m, const uint8_t *tok, int64_t ntok, int64_t max_rows,
                   float ***Xout, int64_t *rows, qs_err *err)
{
    int T = m->c.ctx, nl = qs_gpt_nlinear(m);
    int64_t nwin = ntok / T;
    if (max_rows / T < nwin) nwin = max_rows / T;
    if (nwin < 1)
        return qs_err_set(err, "gpt capture: the text has %lld tokens, fewer than one window "
                          "of %d", (long long)ntok, T);
    float **X = calloc((size_t)nl, sizeof *X);
    if (!X) return qs_err_set(err, "gpt capture: out of memory");
    int ok = 1;
    for (int i = 0; i < nl && ok; i++) {
        qs_gpt_linear L;
        qs_gpt_linear_get(m, i, &L);
        X[i] = qs_alloc_aligned((size_t)(nwin * T * L.in) * sizeof(float));
        ok = X[i] != NULL;
    }
    gpt_buf b;
    int wb = 8;
    if (ok && gpt_buf_init(&b, &m->c, wb, T, 0, err) != QS_OK) ok = -1;
    if (ok == 1) {
        cap_ctx cc = { X, 0 };
        for (int64_t w = 0; w < nwin; w += wb) {
            int nb = (int)(nwin - w < wb ? nwin - w : wb);
            b.B = nb;
            b.N = (int64_t)nb * T;
            cc.row0 = w * T;
            gpt_forward(m, NULL, tok + w * T, &b, cap_fn, &cc);
        }
        gpt_buf_fini(&b);
    }
    if (ok != 1) {
        for (int i = 0; i < nl; i++) qs_free_aligned(X[i]);
        free(X);
        return ok == 0 ? qs_err_set(err, "gpt capture: out of memory") : QS_ERR;
    }
    *Xout = X;
    *rows = nwin * T;
    return QS_OK;
}

/* ======================================================================================
 * Generation with a KV cache
 * ====================================================================================== */

typedef struct gen_state {
    const qs_gpt *m;
    const qs_gpt_run_opts *o;
    float *K[QS_GPT_MAX_LAYERS], *V[QS_GPT_MAX_LAYERS];    /* [ctx, d] */
    float *x, *ln, *qkv, *ao, *t, *h, *att, *logits;
    gpt_buf sb;                                            /* scratch for linear() */
    int pos;
} gen_state;

/* Runs one token at position st->pos; logits in st->logits. */
static int gen_step(gen_state *st, int tok)
{
    const qs_gpt *m = st->m;
    int d = m->c.d, ff = m->c.ff, H = m->c.heads, hd = d / H, p = st->pos;
    fwd_ctx f = { st->o, &st->sb, NULL, NULL };
    float mu, rs, scale = 1.0f / sqrtf((float)hd);
    for (int j = 0; j < d; j++) st->x[j] = m->w.wte[(int64_t)tok * d + j] + m->w.wpe[(int64_t)p * d + j];
    for (int l = 0; l < m->c.layers; l++) {
        const qs_gpt_blk *w = &m->w.b[l];
        layernorm(st->x, 1, d, w->ln1_g, w->ln1_b, st->ln, &mu, &rs);
        if (linear(&f, 4 * l, st->ln, 1, d, w->qkv_w, w->qkv_b, 3 * d, st->qkv, 0)) return QS_ERR;
        if (st->o && st->o->kv_bits) {
            fq_sym(st->qkv + d, H, hd, st->o->kv_bits);
            fq_sym(st->qkv + 2 * d, H, hd, st->o->kv_bits);
        }
        memcpy(st->K[l] + (int64_t)p * d, st->qkv + d, (size_t)d * sizeof(float));
        memcpy(st->V[l] + (int64_t)p * d, st->qkv + 2 * d, (size_t)d * sizeof(float));
        for (int h = 0; h < H; h++) {
            const float *q = st->qkv + h * hd;
            float mx = -FLT_MAX, s = 0;
            for (int j = 0; j <= p; j++) {
                const float *k = st->K[l] + (int64_t)j * d + h * hd;
                float a = 0;
                for (int e = 0; e < hd; e++) a += q[e] * k[e];
                st->att[j] = a * scale;
                mx = fmaxf(mx, st->att[j]);
            }
            for (int j = 0; j <= p; j++) {
                st->att[j] = expf(st->att[j] - mx);
                s += st->att[j];
            }
            float *o = st->ao + h * hd;
            for (int e = 0; e < hd; e++) o[e] = 0;
            for (int j = 0; j <= p; j++) {
                const float *v = st->V[l] + (int64_t)j * d + h * hd;
                float a = st->att[j] / s;
                for (int e = 0; e < hd; e++) o[e] += a * v[e];
            }
        }
        if (linear(&f, 4 * l + 1, st->ao, 1, d, w->proj_w, w->proj_b, d, st->t, 0)) return QS_ERR;
        for (int j = 0; j < d; j++) st->x[j] += st->t[j];
        layernorm(st->x, 1, d, w->ln2_g, w->ln2_b, st->ln, &mu, &rs);
        if (linear(&f, 4 * l + 2, st->ln, 1, d, w->fc1_w, w->fc1_b, ff, st->h, 0)) return QS_ERR;
        for (int j = 0; j < ff; j++) st->h[j] = gelu(st->h[j]);
        if (linear(&f, 4 * l + 3, st->h, 1, ff, w->fc2_w, w->fc2_b, d, st->t, 0)) return QS_ERR;
        for (int j = 0; j < d; j++) st->x[j] += st->t[j];
    }
    layernorm(st->x, 1, d, m->w.lnf_g, m->w.lnf_b, st->ln, &mu, &rs);
    st->pos++;
    return linear(&f, 4 * m->c.layers, st->ln, 1, d, m->w.wte, NULL, QS_GPT_V, st->logits, 1);
}

int qs_gpt_generate(const qs_gpt *m, const qs_gpt_run_opts *opts, const uint8_t *prompt,
                    int nprompt, int n, double temperature, uint64_t seed, uint8_t *out,
                    qs_err *err)
{
    int d = m->c.d, ff = m->c.ff, C = m->c.ctx;
    if (nprompt < 1) return qs_err_set(err, "gpt generate: the prompt is empty");
    if (nprompt > C)
        return qs_err_set(err, "gpt generate: the prompt has %d characters, longer than the "
                          "model's context of %d", nprompt, C);
    gen_state st;
    memset(&st, 0, sizeof st);
    st.m = m;
    st.o = opts;
    int ok = 1;
    int64_t total = 0;
    for (int l = 0; l < m->c.layers; l++) {
        st.K[l] = fz(&st.sb, (int64_t)C * d, &ok);
        st.V[l] = fz(&st.sb, (int64_t)C * d, &ok);
    }
    st.x = fz(&st.sb, d, &ok);
    st.ln = fz(&st.sb, d, &ok);
    st.qkv = fz(&st.sb, 3 * d, &ok);
    st.ao = fz(&st.sb, d, &ok);
    st.t = fz(&st.sb, d, &ok);
    st.h = fz(&st.sb, ff, &ok);
    st.att = fz(&st.sb, C, &ok);
    st.logits = fz(&st.sb, QS_GPT_V, &ok);
    st.sb.xs = fz(&st.sb, ff > 3 * d ? ff : 3 * d, &ok);
    uint8_t *hist = malloc((size_t)(nprompt + n + 1));
    int rc = QS_OK;
    (void)total;
    if (!ok || !hist) {
        rc = qs_err_set(err, "gpt generate: out of memory");
        goto done;
    }
    memcpy(hist, prompt, (size_t)nprompt);
    int len = nprompt;
    for (int i = 0; i < nprompt && rc == QS_OK; i++) rc = gen_step(&st, prompt[i]);
    nn_rng r = { seed ^ 0x67656e65ull };
    for (int i = 0; i < n && rc == QS_OK; i++) {
        int next;
        if (temperature <= 0) {
            next = nn_argmax(st.logits, QS_GPT_V);
        } else {
            double pr[QS_GPT_V], mx = st.logits[0], s = 0;
            for (int j = 1; j < QS_GPT_V; j++) mx = fmax(mx, st.logits[j]);
            for (int j = 0; j < QS_GPT_V; j++) s += pr[j] = exp((st.logits[j] - mx) / temperature);
            double u = nn_rng_unif(&r) * s, c = 0;
            next = QS_GPT_V - 1;
            for (int j = 0; j < QS_GPT_V; j++) {
                c += pr[j];
                if (u < c) { next = j; break; }
            }
        }
        out[i] = (uint8_t)next;
        hist[len++] = (uint8_t)next;
        if (i == n - 1) break;
        if (st.pos >= C) {
            /* context full: rebuild the cache from the last C/2 tokens */
            int keep = C / 2;
            st.pos = 0;
            for (int j = len - keep; j < len - 1 && rc == QS_OK; j++) rc = gen_step(&st, hist[j]);
        }
        if (rc == QS_OK) rc = gen_step(&st, next);
    }
    if (rc != QS_OK && !err->msg[0]) qs_err_set(err, "gpt generate: the linear override failed");
done:
    for (int l = 0; l < m->c.layers; l++) {
        qs_free_aligned(st.K[l]);
        qs_free_aligned(st.V[l]);
    }
    qs_free_aligned(st.x); qs_free_aligned(st.ln); qs_free_aligned(st.qkv);
    qs_free_aligned(st.ao); qs_free_aligned(st.t); qs_free_aligned(st.h);
    qs_free_aligned(st.att); qs_free_aligned(st.logits); qs_free_aligned(st.sb.xs);
    free(hist);
    return rc;
}
