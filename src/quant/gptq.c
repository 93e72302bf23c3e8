/* gptq.c — GPTQ (Frantar et al. 2022), following IST-DASLab's gptq.py fasterquant step by
 * step (llmq.h): Hessian H = 2/n·XᵀX, dead columns, act-order, dampening, the upper Cholesky
 * factor of H⁻¹, column-by-column quantize-and-update inside lazy batches, then the batch's
 * errors pushed onto the later columns. Optionally records the first columns as a trace. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qscope/llmq.h"
#include "steps.h"

void qs_gptq_defaults(qs_gptq_opts *o)
{
    memset(o, 0, sizeof *o);
    o->q.bits = 4;
    o->q.sym = 0;
    o->q.group = 0;
    o->q.style = 0;
    o->percdamp = 0.01;
    o->blocksize = 128;
    o->trace_rows = 2;
}

/* In-place lower Cholesky factor of the symmetric n×n A (lower triangle read); -1 when A is
 * not positive definite. The upper triangle is zeroed. */
static int cholesky(double *A, int n)
{
    for (int j = 0; j < n; j++) {
        double s = A[(size_t)j * n + j];
        for (int k = 0; k < j; k++) s -= A[(size_t)j * n + k] * A[(size_t)j * n + k];
        if (!(s > 0.0)) return -1;
        double d = sqrt(s);
        A[(size_t)j * n + j] = d;
        for (int i = j + 1; i < n; i++) {
            double t = A[(size_t)i * n + j];
            for (int k = 0; k < j; k++) t -= A[(size_t)i * n + k] * A[(size_t)j * n + k];
            A[(size_t)i * n + j] = t / d;
        }
        for (int i = 0; i < j; i++) A[(size_t)i * n + j] = 0.0;
    }
    return 0;
}

/* H⁻¹ from its lower Cholesky factor L (torch.cholesky_inverse): solve L·Lᵀ·X = I. */
static void chol_inverse(const double *L, int n, double *out)
{
    double *col = malloc((size_t)n * sizeof *col);
    for (int c = 0; c < n; c++) {
        for (int i = 0; i < n; i++) col[i] = i == c ? 1.0 : 0.0;
        for (int i = 0; i < n; i++) {              /* L y = e_c */
            double s = col[i];
            for (int k = 0; k < i; k++) s -= L[(size_t)i * n + k] * col[k];
            col[i] = s / L[(size_t)i * n + i];
        }
        for (int i = n - 1; i >= 0; i--) {         /* Lᵀ x = y */
            double s = col[i];
            for (int k = i + 1; k < n; k++) s -= L[(size_t)k * n + i] * col[k];
            col[i] = s / L[(size_t)i * n + i];
        }
        for (int i = 0; i < n; i++) out[(size_t)i * n + c] = col[i];
    }
    free(col);
}

int qs_gptq(const float *X, int n, const float *W, int out, int in, const qs_gptq_opts *o,
            float *Wq, double *loss, qs_err *err)
{
    if (n <= 0 || out <= 0 || in <= 0) return qs_err_set(err, "gptq: empty matrices");
    if (o->q.bits < 2 || o->q.bits > 8) return qs_err_set(err, "gptq: bits=%d (2..8)", o->q.bits);
    if (o->blocksize < 1) return qs_err_set(err, "gptq: blocksize=%d", o->blocksize);
    if (!(o->percdamp >= 0.0)) return qs_err_set(err, "gptq: damp=%g", o->percdamp);
    size_t nn = (size_t)in * in;
    double *H = calloc(nn, sizeof *H), *Hi = malloc(nn * sizeof *Hi);
    double *Wd = malloc((size_t)out * in * sizeof *Wd), *Q = calloc((size_t)out * in, sizeof *Q);
    double *Err = malloc((size_t)out * o->blocksize * sizeof *Err);
    double *Wb = malloc((size_t)out * o->blocksize * sizeof *Wb);
    double *sc = malloc((size_t)out * sizeof *sc), *zr = malloc((size_t)out * sizeof *zr);
    int *perm = malloc((size_t)in * sizeof *perm);
    double *tmp = malloc((size_t)(out > in ? out : in) * sizeof *tmp);
    int rc = QS_OK;
    double L = 0.0;
    char a[32], b[32], c[32];
    if (!H || !Hi || !Wd || !Q || !Err || !Wb || !sc || !zr || !perm || !tmp) {
        rc = qs_err_set(err, "gptq: out of memory");
        goto done;
    }
    /* H = 2/n · XᵀX (lower triangle, then mirrored) */
    for (int t = 0; t < n; t++) {
        const float *x = X + (size_t)t * in;
        for (int i = 0; i < in; i++) {
            double xi = x[i];
            if (xi == 0.0) continue;
            for (int j = 0; j <= i; j++) H[(size_t)i * in + j] += xi * x[j];
        }
    }
    for (int i = 0; i < in; i++)
        for (int j = 0; j <= i; j++) {
            double v = H[(size_t)i * in + j] * 2.0 / n;
            H[(size_t)i * in + j] = v;
            H[(size_t)j * in + i] = v;
        }
    for (size_t i = 0; i < (size_t)out * in; i++) Wd[i] = W[i];
    /* per-row parameters on the whole row (used without groups), before dead columns */
    for (int r = 0; r < out; r++) qs_wq_params(&o->q, Wd + (size_t)r * in, in, 1, &sc[r], &zr[r]);
    int ndead = 0;
    for (int j = 0; j < in; j++)
        if (H[(size_t)j * in + j] == 0.0) {
            H[(size_t)j * in + j] = 1.0;
            for (int r = 0; r < out; r++) Wd[(size_t)r * in + j] = 0.0;
            ndead++;
        }
    for (int j = 0; j < in; j++) perm[j] = j;
    if (o->actorder) {      /* decreasing diag(H), ties in index order (a stable sort) */
        for (int i = 1; i < in; i++) {
            int p = perm[i], k = i;
            double d = H[(size_t)p * in + p];
            while (k > 0 && H[(size_t)perm[k - 1] * in + perm[k - 1]] < d) {
                perm[k] = perm[k - 1];
                k--;
            }
            perm[k] = p;
        }
        /* permute W's columns and H's rows and columns */
        for (int r = 0; r < out; r++) {
            double *w = Wd + (size_t)r * in;
            for (int j = 0; j < in; j++) tmp[j] = w[perm[j]];
            memcpy(w, tmp, (size_t)in * sizeof *w);
        }
        for (int i = 0; i < in; i++)
            for (int j = 0; j < in; j++) Hi[(size_t)i * in + j] = H[(size_t)perm[i] * in + perm[j]];
        memcpy(H, Hi, nn * sizeof *H);
    }
    double md = 0.0;
    for (int j = 0; j < in; j++) md += H[(size_t)j * in + j];
    double damp = o->percdamp * md / in;
    for (int j = 0; j < in; j++) H[(size_t)j * in + j] += damp;
    if (o->trace) {
        qs_step *st = qs_steps_add(o->trace, "Hessian", "H = 2/n · XᵀX  (in × in)", md / in);
        STEP_SUB(st, "%d calibration rows, %d input columns", n, in);
        STEP_RES(st, "mean diag H = %s", qs_steps_g(a, md / in));
        STEP_NOTE(st, "%d dead column%s (H_jj = 0: never active) set to zero", ndead,
                  ndead == 1 ? "" : "s");
        st = qs_steps_add(o->trace, "dampening", "H += percdamp · mean(diag H) · I", damp);
        STEP_SUB(st, "%s · %s", qs_steps_g(a, o->percdamp), qs_steps_g(b, md / in));
        STEP_RES(st, "λ = %s", qs_steps_g(c, damp));
        STEP_NOTE(st, "keeps H invertible and the updates bounded");
        if (o->actorder) {
            st = qs_steps_add(o->trace, "act-order", "columns sorted by decreasing H_jj",
                              perm[0]);
            STEP_SUB(st, "first columns: %d %d %d …", perm[0], in > 1 ? perm[1] : perm[0],
                     in > 2 ? perm[2] : perm[0]);
            STEP_RES(st, "column %d goes first", perm[0]);
            STEP_NOTE(st, "the most active inputs are quantized while there is most freedom "
                      "left to compensate");
        }
    }
    /* Hinv = upper Cholesky factor of H⁻¹ */
    if (cholesky(H, in) < 0) {
        rc = qs_err_set(err, "gptq: H is not positive definite (raise damp=)");
        goto done;
    }
    chol_inverse(H, in, Hi);
    if (cholesky(Hi, in) < 0) {
        rc = qs_err_set(err, "gptq: H⁻¹ is not positive definite (raise damp=)");
        goto done;
    }
    /* Hi now holds the lower factor L2 of H⁻¹; the upper factor U = L2ᵀ: U[i][j] = Hi[j][i] */
#define U(i, j) Hi[(size_t)(j) * in + (i)]
    if (o->trace) {
        qs_step *st = qs_steps_add(o->trace, "inverse factor",
                                   "U = cholesky(H⁻¹, upper): H⁻¹ = UᵀU", U(0, 0));
        STEP_SUB(st, "U_00 = %s", qs_steps_g(a, U(0, 0)));
        STEP_RES(st, "U is %d × %d upper triangular", in, in);
        STEP_NOTE(st, "row i of U carries how column i's error spreads over the later columns");
    }
    int g = o->q.group;
    int traced = 0;
    for (int i1 = 0; i1 < in; i1 += o->blocksize) {
        int i2 = i1 + o->blocksize < in ? i1 + o->blocksize : in, cnt = i2 - i1;
        for (int r = 0; r < out; r++)
            for (int j = i1; j < i2; j++) Wb[(size_t)r * o->blocksize + (j - i1)] = Wd[(size_t)r * in + j];
        for (int i = 0; i < cnt; i++) {
            int col = i1 + i;
            double d = U(col, col);
            if (g > 0 && col % g == 0) {
                /* find_params on W[:, col:col+g] as gptq.py reads it: the batch's columns
                 * as they were when the batch began (Wb), later ones as they are now */
                int m = col + g <= in ? g : in - col;
                for (int r = 0; r < out; r++) {
                    for (int k = 0; k < m; k++) {
                        int cc = col + k;
                        tmp[k] = cc < i2 ? Wb[(size_t)r * o->blocksize + (cc - i1)]
                                         : Wd[(size_t)r * in + cc];
                    }
                    qs_wq_params(&o->q, tmp, m, 1, &sc[r], &zr[r]);
                }
            }
            int show = o->trace && traced < o->trace_cols;
            qs_step *st = NULL;
            if (show) {
                char title[64];
                snprintf(title, sizeof title, "column %d", perm[col]);
                st = qs_steps_add(o->trace, title, "q = Q(w), e = (w - q) / U_ii", d);
                if (st) st->part = traced + 1;
                STEP_SUB(st, "U_ii = %s; rows 0..%d shown", qs_steps_g(a, d),
                         (o->trace_rows < out ? o->trace_rows : out) - 1);
            }
            size_t at = 0;
            for (int r = 0; r < out; r++) {
                double w = Wd[(size_t)r * in + col];
                double q = qs_wq_fake(&o->q, w, sc[r], zr[r]);
                Q[(size_t)r * in + col] = q;
                double e = (w - q) / d;
                L += (w - q) * (w - q) / (d * d) / 2.0;
                Err[(size_t)r * o->blocksize + i] = e;
                if (st && r < o->trace_rows) {
                    char t1[32], t2[32], t3[32];
                    int k = snprintf(st->result + at, sizeof st->result - at, "%sw=%s q=%s e=%s",
                                     r ? "; " : "", qs_steps_g(t1, w), qs_steps_g(t2, q),
                                     qs_steps_g(t3, e));
                    if (k > 0 && (size_t)k < sizeof st->result - at) at += (size_t)k;
                }
                /* the rest of the batch: W1[:, i:] -= e · Hinv1[i, i:] */
                for (int j = col + 1; j < i2; j++) Wd[(size_t)r * in + j] -= e * U(col, j);
            }
            if (show) {
                if (col + 1 < in) {
                    char title[64];
                    snprintf(title, sizeof title, "update after column %d", perm[col]);
                    qs_step *s2 = qs_steps_add(o->trace, title, col + 1 < i2
                                               ? "w_j -= e · U_ij for the later columns j of the "
                                                 "batch"
                                               : "the batch's errors reach the later columns: "
                                                 "W[:, i2:] -= Err · U[i1:i2, i2:]",
                                               U(col, col + 1));
                    if (s2) s2->part = traced + 1;
                    STEP_SUB(s2, "U_i,i+1 = %s: column %d row 0 moves by %s", qs_steps_g(a,
                             U(col, col + 1)), perm[col + 1],
                             qs_steps_g(b, -Err[i] * U(col, col + 1)));
                    if (col + 1 < i2)
                        STEP_RES(s2, "column %d row 0 is now %s", perm[col + 1],
                                 qs_steps_g(c, Wd[col + 1]));
                    else
                        STEP_RES(s2, "applied with the whole batch's errors at once");
                    STEP_NOTE(s2, "the error of a quantized column is compensated by the "
                              "columns not yet quantized, weighted by how they co-vary (H⁻¹)");
                }
                traced++;
            }
        }
        /* W[:, i2:] -= Err1 · Hinv[i1:i2, i2:] */
        for (int r = 0; r < out; r++)
            for (int j = i2; j < in; j++) {
                double s = 0.0;
                for (int p = 0; p < cnt; p++) s += Err[(size_t)r * o->blocksize + p] * U(i1 + p, j);
                Wd[(size_t)r * in + j] -= s;
            }
    }
#undef U
    /* back to the original column order */
    for (int r = 0; r < out; r++)
        for (int j = 0; j < in; j++) Wq[(size_t)r * in + perm[j]] = (float)Q[(size_t)r * in + j];
    if (loss) *loss = L;
done:
    free(H); free(Hi); free(Wd); free(Q); free(Err); free(Wb); free(sc); free(zr); free(perm); free(tmp);
    return rc;
}
