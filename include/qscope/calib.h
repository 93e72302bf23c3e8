/* calib.h — calibrators: choose the clip range each parameter set is quantized over, and
 * report why (the curve they minimised, so faces can plot it).
 *
 *   minmax        observed min and max
 *   movavg        PyTorch MovingAverageMinMaxObserver: batches of calib.batch elements (0:
 *                 8 batches), x_min += momentum·(batch_min - x_min), the first batch
 *                 initialises (float32)
 *   percentile    TensorRT _compute_amax_percentile on a 2048-bin histogram of |x| over
 *                 [0, amax]: idx = first bin whose cumulative fraction >= p/100, amax =
 *                 edge[idx] (its lower edge, as TensorRT); two_sided: the same rule on the
 *                 histogram of x for the top, and mirrored for the bottom
 *   mse           candidates amax = bin centres of the |x| histogram from bin 128 up, plus
 *                 amax itself; each candidate range quantized with the scheme itself (through
 *                 qs_k()->fakequant on the bin centres of a signed histogram); minimise the
 *                 count-weighted squared error
 *   entropy       TensorRT _compute_amax_entropy (see qs_calib_entropy_hist)
 *   aciq-gauss    Banner et al.: alpha minimising the analytic clipping + rounding MSE of a
 *   aciq-laplace  Gaussian (sigma = std) or Laplace (b = mean |x - mean|) around the mean
 *   manual        the range [c->lo, c->hi] given by hand, the same for every set; symmetric
 *                 schemes use [-amax, amax] with amax = max(-lo, hi); QS_ERR unless lo < hi
 *                 (both finite)
 *
 * Calibrators that choose an amax (percentile one-sided, mse, entropy) give the range
 * [-amax, amax] for symmetric schemes and the observed range clipped to ±amax for affine ones.
 * Per-channel and per-group schemes are calibrated set by set. */
#ifndef QSCOPE_CALIB_H
#define QSCOPE_CALIB_H

#include <stdint.h>

#include "qscope/err.h"
#include "qscope/kernels.h"
#include "qscope/scheme.h"

/* The chosen range per parameter set, and the curve of set `curve_set`. Owns its arrays. */
typedef struct qs_calib_result {
    qs_calib_kind kind;     /* calibrator */
    int64_t nparams;        /* parameter sets */
    float *lo, *hi;         /* chosen clip range per set */
    float *obs_min;         /* observed finite min per set */
    float *obs_max;         /* observed finite max per set */
    float *signed_max;      /* largest |x| with its sign, first occurrence (ggml Q4_0) */
    int curve_set;          /* which set the curve belongs to (0) */
    int ncurve;             /* curve points (0 for minmax) */
    double *curve_x;        /* candidate thresholds (or batch index for movavg) */
    double *curve_y;        /* objective at each candidate (KL, MSE, cdf, running max) */
    const char *curve_x_label; /* "amax", "batch", ... */
    const char *curve_y_label; /* "kl", "mse", "cdf", ... */
    int best;               /* index of the chosen point in the curve, or -1 */
    int64_t ninf, nnan;     /* infinite / NaN inputs left out of the ranges */
    char reason[256];       /* one line: why this range */
} qs_calib_result;

/* Calibrates x (laid out by l) for scheme sc with settings c. Returns QS_OK, QS_ERR (bad
 * setting, memory) or QS_CANCELLED (never: calibration is short). */
int qs_calib_run(const float *x, const qs_layout *l, const qs_scheme *sc, const qs_calib *c,
                 qs_calib_result *out, qs_err *err);
/* Frees the arrays of r and zeroes it (safe to call twice). */
void qs_calib_result_fini(qs_calib_result *r);

/* ---- the calibrator table (rows in qscope/calibrators.def) ------------------------------ */

/* Row flags. */
enum {
    QS_CALF_LAB = 1 << 0,       /* the lab's calib= accepts it (lab ptq / qat / sweep) */
    QS_CALF_SEARCH = 1 << 1,    /* a histogram search per parameter set (at most 1024 sets) */
    QS_CALF_NODATA = 1 << 2     /* runs without finite data (the range does not come from it) */
};

/* One parameter set being calibrated (src/quant/calib_priv.h). */
typedef struct qs_calib_set qs_calib_set;
/* A calibrator: fills cs->lo / cs->hi (preset to the observed range), cs->reason and, when
 * cs->cv is set, the curve. QS_OK or QS_ERR (err says why). */
typedef int (*qs_calib_fn)(qs_calib_set *cs, qs_err *err);

typedef struct qs_calib_desc {
    qs_calib_kind kind;     /* its enum value (row i has kind i) */
    const char *name;       /* the word `calib NAME` takes */
    const char *help;       /* one line */
    const char *options;    /* the calib options it reads ("p= two-sided"), "" for none */
    const char *cycle;      /* words the TUI's `c` cycle adds after the name, or NULL when
                               the cycle skips it */
    unsigned flags;         /* QS_CALF_* */
    qs_calib_fn run;        /* the calibrator */
} qs_calib_desc;

/* The rows, QS_CAL_COUNT of them, in enum order. */
extern const qs_calib_desc qs_calib_table[QS_CAL_COUNT];

/* Default settings: minmax, p 99.99, momentum 0.01, 2048 bins. */
void qs_calib_default(qs_calib *c);
/* Name of a calibrator (its row's name, "?" when out of range) and the reverse lookup (-1
 * when unknown; "kl" is entropy). */
const char *qs_calib_name(qs_calib_kind k);
int qs_calib_find(const char *name);

/* TensorRT's entropy rule on a histogram of |x| (bins counts; counts may be fractional, the
 * array is not modified): a copy gets bins[0] = bins[1]; for i = start_bin .. nb: P =
 * copy[0..i) with Σ copy[i..nb) added to P[i-1]; Q = copy[0..i) merged into `levels` groups
 * (bin j in group floor(j·levels/i)), each group's total spread evenly over its non-empty
 * bins (empty bins stay 0); KL(P||Q) with both normalised (natural log; +inf when P > 0
 * where Q = 0). Returns the last i with the minimum KL; kl[i - start_bin] (may be NULL;
 * nb - start_bin + 1 entries) receives the curve. levels = 2^(bits-1+unsigned). */
int qs_calib_entropy_hist(const double *bins, int nb, int levels, int start_bin, double *kl);
/* TensorRT's percentile rule: first index whose cumulative fraction reaches p/100. */
int qs_calib_percentile_hist(const double *bins, int nb, double p);
/* ACIQ optimal clipping value in units of sigma (gauss) or b (laplace) for `bits`, found by
 * minimising the analytic MSE; curve (may be NULL, npts entries each) receives alpha and the
 * MSE over alpha = 0.5 .. 16 (units). */
double qs_calib_aciq_alpha(int laplace, int bits, int npts, double *alpha, double *mse);

#endif
