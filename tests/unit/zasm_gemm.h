/* zasm_gemm.h — test-only: the shapes on which test_zemu_asm512.c / test_zemu_asm256.c
 * compare an int8 GEMM (ZT_GEMM, the kernel source with its asm interpreted by zasm.h)
 * with `_ref`: M and N around the 12x32 / 6x16 tiles, K around the 4-byte quads and the
 * 512-byte k blocks, zero points 0, mid and extreme, full-range and random operands,
 * leading dimensions larger than the row. Returns the number of asm statements run; *what
 * names the first mismatch (empty when all agree). */
static long zt_run_all(char *what, size_t cap)
{
    static const int64_t Ms[] = { 1, 5, 12, 13, 25 };
    static const int64_t Ns[] = { 1, 16, 31, 32, 33, 70 };
    static const int64_t Ks[] = { 1, 3, 4, 5, 64, 513, 1030 };
    static const int32_t zps[][2] = { { 0, 0 }, { 128, -3 }, { 255, 127 }, { 7, -128 } };
    const qs_kernels *ref = qs_k_ref();
    uint64_t seed = 0x9E3779B97F4A7C15u;
    za_err[0] = '\0';
    za_runs = 0;
    what[0] = '\0';
    for (size_t mi = 0; mi < sizeof Ms / sizeof *Ms; mi++)
        for (size_t ni = 0; ni < sizeof Ns / sizeof *Ns; ni++)
            for (size_t ki = 0; ki < sizeof Ks / sizeof *Ks; ki++) {
                int64_t M = Ms[mi], N = Ns[ni], K = Ks[ki];
                if (M * N * K > 400000 && !(mi == 4 && ni == 5)) continue;
                int64_t lda = K + 3, ldb = K + 1, ldc = N + 2;
                uint8_t *A = malloc((size_t)(M * lda));
                int8_t *B = malloc((size_t)(N * ldb));
                int32_t *C1 = malloc((size_t)(M * ldc) * 4), *C2 = malloc((size_t)(M * ldc) * 4);
                if (!A || !B || !C1 || !C2) { snprintf(what, cap, "out of memory"); goto out; }
                int extreme = (int)((mi + ni + ki) % 3 == 0);
                for (int64_t i = 0; i < M * lda; i++) {
                    seed = seed * 6364136223846793005u + 1442695040888963407u;
                    A[i] = extreme ? 255 : (uint8_t)(seed >> 40);
                }
                for (int64_t i = 0; i < N * ldb; i++) {
                    seed = seed * 6364136223846793005u + 1442695040888963407u;
                    B[i] = extreme ? (int8_t)-128 : (int8_t)(seed >> 40);
                }
                for (size_t z = 0; z < sizeof zps / sizeof *zps; z++) {
                    for (int64_t i = 0; i < M * ldc; i++) C1[i] = C2[i] = (int32_t)(0x5a5a5a5a + i);
                    ref->gemm_u8s8(M, N, K, A, lda, zps[z][0], B, ldb, zps[z][1], C1, ldc);
                    ZT_GEMM(M, N, K, A, lda, zps[z][0], B, ldb, zps[z][1], C2, ldc);
                    if (za_err[0]) goto out;
                    for (int64_t i = 0; i < M && !what[0]; i++)
                        for (int64_t j = 0; j < ldc && !what[0]; j++)
                            if (C1[i * ldc + j] != C2[i * ldc + j])
                                snprintf(what, cap, "M %lld N %lld K %lld zp %d/%d: C[%lld][%lld] "
                                         "%d, _ref %d", (long long)M, (long long)N, (long long)K,
                                         zps[z][0], zps[z][1], (long long)i, (long long)j,
                                         C2[i * ldc + j], C1[i * ldc + j]);
                    if (what[0]) goto out;
                }
            out:
                free(A); free(B); free(C1); free(C2);
                if (what[0] || za_err[0]) return za_runs;
            }
    return za_runs;
}
