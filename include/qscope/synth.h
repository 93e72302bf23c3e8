/* synth.h — seeded synthetic distributions that give the same float32 numbers on every
 * machine: a xoshiro256** generator seeded by splitmix64, and samplers built only from IEEE
 * basic operations (+ - * / sqrt, exactly rounded everywhere) plus our own log and exp
 * (qs_synth_log / qs_synth_exp), so no libm function whose last bit may differ between
 * C libraries is involved. The algorithms are specified below precisely enough to re-implement
 * them bit for bit (tests/golden/make_synth.py does, in Python).
 *
 *   u64()      xoshiro256** (Blackman & Vigna); state = four splitmix64 outputs of the seed
 *   uniform()  ((u64() >> 11) + 0.5) · 2^-53, in the open interval (0, 1)
 *   normal()   Marsaglia's polar method: repeat u = 2·uniform()-1, v = 2·uniform()-1,
 *              s = u·u + v·v until 0 < s < 1; f = sqrt(-2·log(s)/s); returns u·f and keeps
 *              v·f for the next call
 *   normal      mean + std·normal()
 *   uniform     lo + (hi-lo)·uniform()
 *   laplace     u = uniform() - 0.5; loc + b·log(1 + 2u) when u < 0, else loc - b·log(1 - 2u)
 *   student-t   Bailey's polar method: repeat u, v as in normal() with w = u·u + v·v until
 *              0 < w < 1; t = u·sqrt(df·(exp((-2/df)·log(w)) - 1)/w); loc + scale·t
 *   lognormal   exp(mu + sigma·normal())
 *   bimodal     c = uniform(), z = normal(); mean1 + std1·z when c < weight, else
 *              mean2 + std2·z
 *   outliers    c = uniform(), z = normal(); mean + std·z·(scale when c < frac, else 1)
 *   relu        y = mean + std·normal(); y when y > 0, else 0
 * Each value is computed in double and rounded once to float32.
 *
 * Floating-point contraction into FMA must stay off for these files (GCC does so under
 * -std=c11; Clang gets `#pragma STDC FP_CONTRACT OFF`). */
#ifndef QSCOPE_SYNTH_H
#define QSCOPE_SYNTH_H

#include <stdint.h>

#include "qscope/err.h"
#include "qscope/progress.h"
#include "qscope/tensor.h"

/* ---- the generator --------------------------------------------------------------------- */

typedef struct qs_rng {
    uint64_t s[4];      /* xoshiro256** state */
    int has_spare;      /* 1 when spare holds the second value of a polar pair */
    double spare;       /* that value */
} qs_rng;

/* Seeds r: s[i] = the i-th splitmix64 output starting from state `seed`. */
void qs_rng_seed(qs_rng *r, uint64_t seed);
/* Next 64 random bits (xoshiro256**). */
uint64_t qs_rng_u64(qs_rng *r);
/* Uniform double in the open interval (0, 1) with 53 random bits. */
double qs_rng_uniform(qs_rng *r);
/* Standard normal variate (polar method, see above). */
double qs_rng_normal(qs_rng *r);

/* Natural logarithm and exponential built from IEEE basic operations only (a few ulp
 * accurate; identical on every IEEE machine). log: x <= 0 gives -Inf/NaN as libm would. */
double qs_synth_log(double x);
double qs_synth_exp(double x);

/* ---- distributions --------------------------------------------------------------------- */

#define QS_SYNTH_MAXP 5     /* most parameters a distribution has */

/* What values a parameter accepts. */
typedef enum qs_synth_range {
    QS_SP_ANY = 0,      /* any finite value */
    QS_SP_POS,          /* finite and > 0 */
    QS_SP_UNIT          /* in [0, 1] */
} qs_synth_range;

typedef struct qs_synth_param {
    const char *name;       /* key in `param=value`, e.g. "b" */
    double def;             /* default */
    qs_synth_range range;   /* accepted values */
    const char *help;       /* one line */
} qs_synth_param;

typedef struct qs_synth_dist {
    const char *name;                       /* "laplace" */
    const char *summary;                    /* one line for help */
    int np;                                 /* number of parameters */
    qs_synth_param p[QS_SYNTH_MAXP];        /* the parameters, in order */
} qs_synth_dist;

/* Parameter values for one distribution, by position in its qs_synth_dist.p; unset
 * entries take the default. Initialise with qs_synth_params_init. */
typedef struct qs_synth_params {
    double v[QS_SYNTH_MAXP];    /* values */
    unsigned set;               /* bit i set: v[i] was given */
} qs_synth_params;

/* The distribution names, NULL-terminated (for completion): normal uniform laplace
 * student-t lognormal bimodal outliers relu. */
extern const char *const qs_synth_names[];

/* All distributions (count in *n, may be NULL), in qs_synth_names order. */
const qs_synth_dist *qs_synth_dists(int *n);
/* A distribution by name, case-insensitively ("log-normal" and "t" are accepted too);
 * NULL when unknown. */
const qs_synth_dist *qs_synth_find(const char *name);
/* Index of parameter `key` in d, or -1. */
int qs_synth_param_index(const qs_synth_dist *d, const char *key);

/* Marks every parameter unset. */
void qs_synth_params_init(qs_synth_params *p);
/* Sets parameter `key` of d to v, checking its range. QS_ERR naming the key and the accepted
 * values (e.g. "synth: b=-1 must be > 0") or listing d's parameters when key is unknown. */
int qs_synth_params_set(const qs_synth_dist *d, qs_synth_params *p, const char *key, double v,
                        qs_err *err);

/* Fills out[0..n) with d's values, drawing from r. p may be NULL (defaults). Parameters must
 * be valid (qs_synth_params_set checks each; uniform also needs lo < hi). */
void qs_synth_fill(const qs_synth_dist *d, const qs_synth_params *p, qs_rng *r, float *out,
                   int64_t n);

/* Makes a new 1-d tensor of n values of distribution `dist` from generator seed `seed`; p
 * may be NULL (defaults). The tensor is named like "laplace(loc=0,b=0.5)" and has src dtype
 * QS_DT_SYNTH; the caller frees it. QS_ERR for an unknown distribution (the message lists
 * the known ones), n < 0, invalid parameters or out of memory. */
int qs_synth(const char *dist, int64_t n, uint64_t seed, const qs_synth_params *p,
             qs_tensor **out, qs_err *err);

/* As qs_synth, reporting to prog (may be NULL) every 2^20 values; QS_CANCELLED (nothing
 * made, err says so) when it asks to stop. The values are the same as qs_synth's. */
int qs_synth_progress(const char *dist, int64_t n, uint64_t seed, const qs_synth_params *p,
                      const qs_progress *prog, qs_tensor **out, qs_err *err);

/* As qs_synth, taking parameters from command words: every argv word `key=value` whose key is
 * not "n" or "seed" must name a parameter of dist (words without '=' are ignored). Errors
 * name the word: "synth: laplace has no parameter 'std' (parameters: loc b)". */
int qs_synth_cmd(const char *dist, int64_t n, uint64_t seed, int argc, char **argv,
                 qs_tensor **out, qs_err *err);
/* qs_synth_cmd with progress and cancel (qs_synth_progress) */
int qs_synth_cmd_progress(const char *dist, int64_t n, uint64_t seed, int argc, char **argv,
                          const qs_progress *prog, qs_tensor **out, qs_err *err);

#endif
