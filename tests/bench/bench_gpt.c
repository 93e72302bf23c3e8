/* bench_gpt.c — `make bench` for the GPT lab (issue 16): one training step of the default
 * model (ctx 64, d 64, 4 layers, 4 heads, MLP 256; batch 16 × 64; AdamW; median of 5 after
 * a warm-up step) and greedy generation with the KV cache (tokens per second after
 * a 14-character prompt, 48 tokens); with --torch-step S --torch-gen T (torch_gpt.py, the
 * same model in PyTorch in the same run) also the ratios. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qscope/gpt.h"
#include "qscope/kernels.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    double torch_step = 0, torch_gen = 0;
    const char *json = NULL;
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--torch-step") == 0) torch_step = atof(argv[++i]);
        else if (strcmp(argv[i], "--torch-gen") == 0) torch_gen = atof(argv[++i]);
        else if (strcmp(argv[i], "--json") == 0) json = argv[++i];
    }
    for (int i = 1; i < argc; i += 2)  /* every argument is an option with its value */
        if (i + 1 >= argc || (strcmp(argv[i], "--json") && strcmp(argv[i], "--torch-step") &&
                              strcmp(argv[i], "--torch-gen"))) {
            fprintf(stderr, "usage: bench_gpt [--torch-step S] [--torch-gen S] [--json FILE]"
                            "   (run by `make bench`)\n");
            return strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 ? 0 : 2;
        }
    qs_gpt_cfg c = { 64, 64, 4, 4, 256 };
    qs_err err;
    qs_gpt *m = qs_gpt_new(&c, 1, &err);
    int64_t n = 200000;
    uint8_t *tok = malloc((size_t)n);
    if (!m || !tok) return 1;
    for (int64_t i = 0; i < n; i++) tok[i] = (uint8_t)((i * 7919 + i / 13) % QS_GPT_V);
    double t[6];
    for (int k = 0; k < 6; k++) {
        qs_gpt_train_cfg tc = { 1, 16, 1e-3, 0, 0.1, 1.0, (uint64_t)k, QS_GPT_FULL, 0, 0, 0, 0,
                                NULL };
        qs_gpt_train_res r;
        double t0 = now();
        if (qs_gpt_train(NULL, m, tok, n, &tc, &r, &err) != QS_OK) {
            fprintf(stderr, "bench_gpt: %s\n", err.msg);
            return 1;
        }
        t[k] = now() - t0;
        qs_gpt_train_res_fini(&r);
    }
    qsort(t + 1, 5, sizeof t[0], cmpd);
    double step = t[3];
    uint8_t prompt[14], out[48];
    memcpy(prompt, tok, 14);
    double t0 = now();
    if (qs_gpt_generate(m, NULL, prompt, 14, 48, 0.0, 1, out, &err) != QS_OK) return 1;
    double gen = 48 / (now() - t0);
    printf("gpt lab (kernels %s, %d threads)\n", qs_k()->name, qs_k_threads());
    printf("  %-36s %12s %12s %9s\n", "", "qscope", "pytorch", "ratio");
    printf("  %-36s %12.4f %12.4f %8.2fx\n", "training step, 16x64 tokens (s)", step,
           torch_step, torch_step > 0 ? torch_step / step : 0.0);
    printf("  %-36s %12.1f %12.1f %8.2fx\n", "greedy generation (tokens/s)", gen, torch_gen,
           torch_gen > 0 ? gen / torch_gen : 0.0);
    if (json) {
        FILE *f = fopen(json, "w");
        if (f) {
            fprintf(f, "{\"kernels\":\"%s\",\"threads\":%d,\"step_s\":%.6f,\"torch_step_s\":%.6f,"
                    "\"step_speedup\":%.3f,\"gen_tok_s\":%.2f,\"torch_gen_tok_s\":%.2f,"
                    "\"gen_speedup\":%.3f}\n", qs_k()->name, qs_k_threads(), step, torch_step,
                    torch_step > 0 ? torch_step / step : 0.0, gen, torch_gen,
                    torch_gen > 0 ? gen / torch_gen : 0.0);
            fclose(f);
        }
    }
    qs_gpt_free(m);
    free(tok);
    return 0;
}
