/* gpt.h — the GPT lab: a character-level decoder-only transformer trained, quantized and
 * fine-tuned by qscope on the qs_k() fp32 GEMM kernel.
 *
 * The model (GPT-2 layout, character vocabulary):
 *   x0 = wte[tok] + wpe[pos]                       tied token embedding wte [V, d], learned
 *                                                  positions wpe [ctx, d]
 *   per block: x += proj(attn(LN1(x)))             pre-norm, causal multi-head attention,
 *              x += fc2(gelu(fc1(LN2(x))))         qkv [3d, d] (q, k, v rows in that order),
 *                                                  proj [d, d], fc1 [ff, d], fc2 [d, ff]
 *   logits = LNf(x) · wteᵀ                         the output layer is the embedding
 * LayerNorm eps 1e-5 (biased variance), GELU with the tanh approximation, attention scale
 * 1/sqrt(d/heads), softmax cross-entropy in nats (mean over positions). Every linear layer
 * has a bias and stores W as [out, in] row-major like torch.nn.Linear.
 *
 * Vocabulary: the 95 printable ASCII characters (space .. '~') and '\n', token id = index in
 * QS_GPT_VOCAB. Text read as a corpus maps '\t' and '\r\n' to ' ' and '\n' and drops every
 * other byte outside the vocabulary (counted); a prompt with such a byte is an error.
 *
 * Determinism: for a given seed every result is bit-identical across runs and thread counts
 * (each GEMM output element is summed by one thread in a fixed order; every other reduction
 * is serial or per-row). No global state. */
#ifndef QSCOPE_GPT_H
#define QSCOPE_GPT_H

#include <stddef.h>
#include <stdint.h>

#include "qscope/err.h"
#include "qscope/session.h"

#define QS_GPT_VOCAB_CHARS \
    " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\n"
#define QS_GPT_V 96             /* vocabulary size */
#define QS_GPT_MAX_LAYERS 16
#define QS_GPT_MAX_CTX 1024
#define QS_GPT_MAX_D 1024

/* Token id of a byte, or -1 when it is not in the vocabulary. */
int qs_gpt_tok(unsigned char c);
/* Character of a token id. */
char qs_gpt_chr(int tok);

/* ---- model ----------------------------------------------------------------------------- */

typedef struct qs_gpt_cfg {
    int ctx;            /* context length (positions) */
    int d;              /* model width */
    int layers;         /* blocks */
    int heads;          /* attention heads (d % heads == 0) */
    int ff;             /* MLP hidden width (4·d by default) */
} qs_gpt_cfg;

/* Pointers to one model's arrays (weights, or gradients with the same layout). */
typedef struct qs_gpt_blk {
    float *ln1_g, *ln1_b;       /* [d] */
    float *qkv_w, *qkv_b;       /* [3d, d], [3d] */
    float *proj_w, *proj_b;     /* [d, d], [d] */
    float *ln2_g, *ln2_b;       /* [d] */
    float *fc1_w, *fc1_b;       /* [ff, d], [ff] */
    float *fc2_w, *fc2_b;       /* [d, ff], [d] */
} qs_gpt_blk;

typedef struct qs_gpt_ptrs {
    float *wte;                 /* [V, d] (also the output layer) */
    float *wpe;                 /* [ctx, d] */
    qs_gpt_blk b[QS_GPT_MAX_LAYERS];
    float *lnf_g, *lnf_b;       /* [d] */
} qs_gpt_ptrs;

typedef struct qs_gpt {
    qs_gpt_cfg c;
    int64_t n;          /* parameter count */
    float *p;           /* all parameters, contiguous (owned, aligned) */
    qs_gpt_ptrs w;      /* pointers into p */
} qs_gpt;

/* Checks a configuration (one-line error naming the bad field). */
int qs_gpt_cfg_check(const qs_gpt_cfg *c, qs_err *err);
/* Parameter count of a configuration. */
int64_t qs_gpt_cfg_params(const qs_gpt_cfg *c);
/* A new model initialised as GPT-2 / nanoGPT (normal 0.02, residual projections 0.02/sqrt(2L),
 * biases 0, LayerNorm 1/0) from a seeded generator. */
qs_gpt *qs_gpt_new(const qs_gpt_cfg *c, uint64_t seed, qs_err *err);
qs_gpt *qs_gpt_clone(const qs_gpt *m, qs_err *err);
void qs_gpt_free(qs_gpt *m);
/* Lays out pointers for configuration c over a contiguous array base (weights or grads). */
void qs_gpt_map(const qs_gpt_cfg *c, float *base, qs_gpt_ptrs *w);

/* safetensors, F32 tensors named as nanoGPT (wte.weight, wpe.weight, h.N.ln_1.weight,
 * h.N.attn.c_attn.weight, ...; see gpt.c), __metadata__ format "qscope-gpt", the config and
 * the vocabulary. Written atomically (temporary file + rename); refuses to replace an
 * existing file unless force. */
int qs_gpt_save(const qs_gpt *m, const char *path, const char *note, int force, qs_err *err);
/* Reads a model written by qs_gpt_save. A file of another vocabulary, a missing tensor or a
 * shape that does not match the config is a one-line error naming the file. */
int qs_gpt_load(const char *path, qs_gpt **out, qs_err *err);

/* ---- the linear-layer hook (issue 17's PTQ methods) ------------------------------------- */

/* The linear layers in order: for block i, 4·i + 0 qkv, + 1 proj, + 2 fc1, + 3 fc2; then
 * index 4·layers is the output layer (the tied embedding, no bias). */
typedef struct qs_gpt_linear {
    char name[32];      /* "h.0.attn.c_attn", "h.0.attn.c_proj", "h.0.mlp.c_fc",
                           "h.0.mlp.c_proj", "lm_head" */
    float *W;           /* [out, in] row-major (points into the model: writable) */
    float *b;           /* [out] or NULL (lm_head) */
    int out, in;
} qs_gpt_linear;

/* Number of linear layers (4·layers + 1) and layer i of m. */
int qs_gpt_nlinear(const qs_gpt *m);
void qs_gpt_linear_get(const qs_gpt *m, int i, qs_gpt_linear *L);

/* A forward override: computes Y [rows, out] = X [rows, in] · Wᵀ + b (b may be NULL) for
 * linear layer `layer` (index as above) instead of the fp32 GEMM. Evaluation calls it with
 * the rows of 8 windows at a time, generation with one row per token. W and b are the model's
 * (already weight-quantized when the evaluated model is). Return 0, or nonzero to abort
 * the evaluation (QS_ERR). X is only valid during the call. Called from one thread. */
typedef int (*qs_gpt_linear_fn)(void *ctx, int layer, const float *X, int rows, int in,
                                const float *W, const float *b, int out, float *Y);

/* How a model is run in evaluation (all zero: plain fp32). */
typedef struct qs_gpt_run_opts {
    qs_gpt_linear_fn linear;    /* forward override of every linear layer, or NULL */
    void *ctx;                  /* its context */
    int kv_bits;                /* 0: fp32 K and V; 8 or 4: K and V fake-quantized as a
                                   quantized KV cache stores them (symmetric, one absmax
                                   scale per token and head, round half to even) */
    int act_bits;               /* 0, or fake-quantize every linear input (not lm_head's
                                   unless act_head) to this many bits, symmetric */
    int act_per_token;          /* activation scale per row (token) instead of per tensor;
                                   both dynamic: per tensor is the absmax over the rows of
                                   one call (8 windows in evaluation, one token in
                                   generation) */
    int act_head;               /* also quantize lm_head's input */
} qs_gpt_run_opts;

/* Calibration: runs the model on text and collects, for every linear layer, its input rows.
 * X[i] receives a new array [rows[i], in_i] (free each with qs_free_aligned, then the
 * arrays with free); rows is the same for every layer (tokens of whole windows of ctx,
 * at most max_rows rounded down to whole windows, at least one window). */
int qs_gpt_capture(const qs_gpt *m, const uint8_t *tok, int64_t ntok, int64_t max_rows,
                   float ***X, int64_t *rows, qs_err *err);

/* ---- evaluation ------------------------------------------------------------------------ */

/* Scores text cut into non-overlapping windows of ctx tokens (the last partial window
 * dropped; each window's first token is context only, so a window scores ctx - 1
 * predictions). */
typedef struct qs_gpt_eval {
    int64_t n;              /* predictions scored */
    double nll;             /* mean negative log-likelihood, nats */
    double ppl;             /* exp(nll) */
    double bpc;             /* nll / ln 2: bits per character */
    double top1;            /* fraction whose argmax is the next character */
    /* against a reference model (ref != NULL) */
    double kld_mean, kld_median, kld_p99, kld_max;  /* KL(P_ref || P_model), nats */
    double top1_agree;      /* fraction where both argmaxes agree */
    double dp_correct;      /* mean of p_model(correct) - p_ref(correct) */
} qs_gpt_eval;

/* Evaluates m (with opts, may be NULL) on tok; with ref also the divergences from ref run in
 * plain fp32. Progress on s (may be NULL) under label; QS_CANCELLED when cancelled. */
int qs_gpt_evaluate(qs_session *s, const qs_gpt *m, const qs_gpt_run_opts *opts,
                    const qs_gpt *ref, const uint8_t *tok, int64_t ntok, const char *label,
                    qs_gpt_eval *res, qs_err *err);

/* The same in two steps, for many models against one reference: log-probabilities of the
 * reference over the windows of tok (a new [nwin·ctx, V] array of doubles, free with
 * qs_free_aligned),
 * then any number of evaluations against them (ref_lp NULL: no divergences). */
int qs_gpt_ref_logp(const qs_gpt *m, const uint8_t *tok, int64_t ntok, double **lp,
                    int64_t *nwin, qs_err *err);
int qs_gpt_evaluate_lp(qs_session *s, const qs_gpt *m, const qs_gpt_run_opts *opts,
                       const double *ref_lp, const uint8_t *tok, int64_t ntok,
                       const char *label, qs_gpt_eval *res, qs_err *err);

/* Unigram and bigram baselines (add-one smoothing over the vocabulary) fitted on train and
 * scored on test: mean NLL in nats. */
void qs_gpt_baselines(const uint8_t *train, int64_t ntrain, const uint8_t *test, int64_t ntest,
                      double *unigram, double *bigram);

/* Generates n characters after the prompt tokens (nprompt >= 1) with a KV cache; temperature
 * 0 is greedy, else sampling from softmax(logits/temperature) with the seed. When the
 * context is full the cache is rebuilt from the last ctx/2 tokens. out receives n tokens. */
int qs_gpt_generate(const qs_gpt *m, const qs_gpt_run_opts *opts, const uint8_t *prompt,
                    int nprompt, int n, double temperature, uint64_t seed, uint8_t *out,
                    qs_err *err);

/* ---- training -------------------------------------------------------------------------- */

typedef enum qs_gpt_mode {
    QS_GPT_FULL = 0,    /* all parameters */
    QS_GPT_LORA,        /* rank-r adapters on qkv, proj, fc1, fc2 (W0 + alpha/r · B·A) */
    QS_GPT_QLORA,       /* the same on a frozen NF4 + double-quantized base */
    QS_GPT_QAT          /* all parameters, linear weights fake-quantized (STE) */
} qs_gpt_mode;

typedef struct qs_gpt_train_cfg {
    int steps;          /* optimizer steps */
    int batch;          /* windows per step */
    double lr;          /* peak learning rate (linear warmup over warmup steps, then cosine
                           to lr/10) */
    int warmup;         /* warmup steps */
    double wd;          /* AdamW weight decay on 2-D weights (0.9, 0.95, eps 1e-8) */
    double clip;        /* global gradient-norm clip (0: none) */
    uint64_t seed;      /* window sampling (and LoRA init) seed */
    qs_gpt_mode mode;
    int rank;           /* LoRA rank */
    double alpha;       /* LoRA alpha */
    int qbits;          /* QAT: weight bits (per group of qgroup along the input) */
    int qgroup;         /* QAT: group size */
    const char *label;  /* progress label */
} qs_gpt_train_cfg;

typedef struct qs_gpt_train_res {
    int steps;              /* steps done */
    double *loss;           /* training loss per step (owned) */
    int64_t trainable;      /* trainable parameters */
    int64_t weight_bytes;   /* bytes of the weights as stored (QLoRA: NF4 base + adapters) */
    double seconds;         /* wall time */
    int64_t peak_bytes;     /* peak bytes held by this run (weights, gradients, optimizer
                               state, activations) */
} qs_gpt_train_res;
void qs_gpt_train_res_fini(qs_gpt_train_res *r);

/* Trains m in place on windows sampled uniformly from tok. LoRA / QLoRA: the adapters are
 * merged into m's weights at the end (QLoRA: m's linear weights become the NF4 base plus
 * the merged adapter). QAT: m keeps its fp32 master weights (evaluate it quantized). */
int qs_gpt_train(qs_session *s, qs_gpt *m, const uint8_t *tok, int64_t ntok,
                 const qs_gpt_train_cfg *cfg, qs_gpt_train_res *res, qs_err *err);

/* Loss and gradient of m on B windows tok [B, T] (targets: the next token; the last
 * position of each window is not scored), gradient written to g (m->n floats). */
double qs_gpt_loss_grad(const qs_gpt *m, const uint8_t *tok, int B, int T, float *g,
                        qs_err *err);
/* Logits [B·T, V] of B windows (for tests). */
int qs_gpt_logits(const qs_gpt *m, const qs_gpt_run_opts *opts, const uint8_t *tok, int B,
                  int T, float *logits, qs_err *err);

/* ---- weight quantization --------------------------------------------------------------- */

/* Replaces every linear weight of m (and the embedding when `embed`) by its quantize →
 * dequantize image under the scheme words (`help scheme`: "int8 sym per-channel axis=0",
 * "int4 sym per-group size=32", "nf4 dq", "q4_k", "fp8-e4m3", ...) through the quantization
 * engine (src/quant). Biases and norms stay fp32. *bits receives the bits per weight of the
 * quantized matrices (constants included; may be NULL). */
int qs_gpt_quantize(qs_gpt *m, const char *words, int embed, double *bits, qs_err *err);

/* ---- corpora --------------------------------------------------------------------------- */

/* Reads a text file as tokens (see the vocabulary rule). Empty or missing: error naming it. */
int qs_gpt_read_text(const char *path, uint8_t **tok, int64_t *ntok, int64_t *dropped,
                     qs_err *err);
/* Tokenizes a buffer (same rule). */
int qs_gpt_tokenize(const char *text, size_t len, uint8_t **tok, int64_t *ntok,
                    int64_t *dropped, qs_err *err);
/* The split rule: tokens cut into chunks of 1024; chunk k is held out when k % 10 == 9 (the
 * last partial chunk is training text). */
#define QS_GPT_CHUNK 1024
#define QS_GPT_HOLD_EVERY 10
int qs_gpt_split(const uint8_t *tok, int64_t n, uint8_t **train, int64_t *ntrain,
                 uint8_t **held, int64_t *nheld, qs_err *err);

/* ---- the lab state (owned by the MLP lab struct, s->lab->gpt) --------------------------- */

#define QS_GPT_DEFAULT_MODEL "gpt-kjv.safetensors"    /* shipped in datasets/ */
#define QS_GPT_HELDOUT "gpt-kjv-heldout.txt"          /* held-out KJV excerpt (shipped) */
#define QS_GPT_FT "gpt-fortunes.txt"                  /* fine-tuning corpus (shipped) */
#define QS_GPT_CORPUS "kjv.txt"                       /* full KJV text (make datasets) */

/* One row of a sweep (what faces draw). */
typedef struct qs_gpt_row {
    char method[24];        /* "rtn" (round to nearest) here; issue 17 adds its methods */
    char format[48];        /* "int4 per-group 32 sym", "w8a8 per-token", "kv int8", ... */
    double bits;            /* bits per weight of the quantized matrices (32: fp32) */
    qs_gpt_eval ev;         /* ppl, bpc, kld_*, top1_agree, dp_correct */
} qs_gpt_row;

/* One generation of `lab gpt generate`. */
typedef struct qs_gpt_gen {
    char format[48];
    char *text;             /* owned */
} qs_gpt_gen;

typedef struct qs_gpt_lab {
    qs_gpt *m;              /* the fp32 model, or NULL */
    char source[1100];      /* where it came from */
    uint8_t *held;          /* held-out base text (tokens) */
    int64_t nheld;
    char held_path[1100];
    qs_gpt_row *rows;       /* the last sweep */
    int nrows;
    qs_gpt_gen *gens;       /* the last generate */
    int ngens;
    char prompt[256];
    /* the last acts: per linear layer, input channels' absmax */
    int nacts;
    char act_name[4 * QS_GPT_MAX_LAYERS + 1][32];
    int act_in[4 * QS_GPT_MAX_LAYERS + 1];
    float *act_max[4 * QS_GPT_MAX_LAYERS + 1];     /* owned */
} qs_gpt_lab;

void qs_gpt_lab_free(qs_gpt_lab *g);

#endif
