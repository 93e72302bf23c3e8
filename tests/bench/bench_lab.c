/* bench_lab.c — `make bench` part of the lab (issue 7): one training epoch of the lab's MLP
 * (64-64-10 on digits, batch 32; 784-256-10 on Fashion-MNIST, batch 64, when installed),
 * Adam, median of several epochs; with --torch-digits S / --torch-fashion S (PyTorch's epoch
 * times from tests/bench/torch_mlp.py, measured in the same run) also the speed-up.
 * With --json PATH also writes the figures as one JSON object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qscope/kernels.h"
#include "qscope/nn.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median seconds of one epoch over reps epochs (after one warm-up epoch). */
static double epoch(const qs_nn_data *d, int hidden, int batch, int reps)
{
    int size[3] = { d->train.nfeat, hidden, 10 };
    qs_err err;
    qs_mlp *m = qs_mlp_new(2, size, 1, &err);
    if (!m) return -1;
    qs_nn_train_cfg c = { 1, batch, 1e-3, QS_NN_ADAM, 1, -1, 0, NULL };
    double t[32];
    for (int r = 0; r <= reps; r++) {
        double t0 = now();
        c.seed = (uint64_t)r + 1;
        if (qs_nn_train(NULL, m, &d->train, &d->test, &c, NULL, &err) != QS_OK) {
            fprintf(stderr, "bench_lab: %s\n", err.msg);
            qs_mlp_free(m);
            return -1;
        }
        if (r > 0) t[r - 1] = now() - t0;
    }
    qs_mlp_free(m);
    qsort(t, (size_t)reps, sizeof t[0], cmp);
    return t[reps / 2];
}

int main(int argc, char **argv)
{
    double torch_d = 0, torch_f = 0;
    const char *json = NULL;
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--torch-digits") == 0) torch_d = atof(argv[++i]);
        else if (strcmp(argv[i], "--torch-fashion") == 0) torch_f = atof(argv[++i]);
        else if (strcmp(argv[i], "--json") == 0) json = argv[++i];
    }
    for (int i = 1; i < argc; i += 2)  /* every argument is an option with its value */
        if (i + 1 >= argc || (strcmp(argv[i], "--json") && strcmp(argv[i], "--torch-digits") &&
                              strcmp(argv[i], "--torch-fashion"))) {
            fprintf(stderr, "usage: bench_lab [--torch-digits S] [--torch-fashion S] [--json FILE]"
                            "   (run by `make bench`)\n");
            return strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 ? 0 : 2;
        }
    qs_err err;
    qs_nn_data *dg = NULL, *fa = NULL;
    if (qs_nn_data_load("digits", NULL, &dg, &err) != QS_OK) {
        fprintf(stderr, "bench_lab: %s\n", err.msg);
        return 1;
    }
    double td = epoch(dg, 64, 32, 15), tf = -1;
    if (qs_nn_data_load("fashion", NULL, &fa, &err) == QS_OK) tf = epoch(fa, 256, 64, 3);
    else printf("bench_lab: %s\n", err.msg);
    printf("\nlab training epoch (kernels: %s, %d threads)\n", qs_k()->name, qs_k_threads());
    printf("  %-34s %12s %12s %10s %8s\n", "model", "qscope s", "pytorch s", "speed-up",
           "target");
    printf("  %-34s %12.6f %12s %10s %8s\n", "digits 64-64-10 batch 32 (1259)", td, "", "", "5x");
    if (torch_d > 0)
        printf("  %-34s %12s %12.6f %9.2fx\n", "", "", torch_d, torch_d / td);
    if (tf > 0) {
        printf("  %-34s %12.6f %12s %10s %8s\n", "fashion 784-256-10 batch 64 (55000)", tf, "",
               "", "2x");
        if (torch_f > 0) printf("  %-34s %12s %12.6f %9.2fx\n", "", "", torch_f, torch_f / tf);
    }
    FILE *f = json ? fopen(json, "w") : NULL;
    if (f) {
        fprintf(f, "{\"kernels\":\"%s\",\"threads\":%d,\"digits_epoch_s\":%.6f,"
                "\"fashion_epoch_s\":%.6f,\"torch_digits_epoch_s\":%.6f,"
                "\"torch_fashion_epoch_s\":%.6f,\"digits_speedup\":%.3f,"
                "\"fashion_speedup\":%.3f}\n", qs_k()->name, qs_k_threads(), td, tf, torch_d,
                torch_f, torch_d > 0 ? torch_d / td : 0.0,
                torch_f > 0 && tf > 0 ? torch_f / tf : 0.0);
        fclose(f);
    }
    qs_nn_data_free(dg);
    qs_nn_data_free(fa);
    return 0;
}
