// gemm_small.c: the direct SGEMM path for small problems (no packing, no threads), which is
// also the naive reference the blocked path is checked against in the tests.
#include "gemm_internal.h"

// op(A): (m, k), op(B): (k, n) -> C: (m, n).
void bp_sgemm_small(int trans_a, int trans_b, long m, long n, long k, float alpha,
                    const float *a, long lda, const float *b, long ldb,
                    float beta, float *c, long ldc) {
    for (long i = 0; i < m; i++) {
        float *row = c + i * ldc;
        if (trans_b) {
            // B stored (n, k): each C[i, j] is one dot product over k.
            for (long j = 0; j < n; j++) {
                const float *brow = b + j * ldb;
                float sum = 0.0f;
                if (trans_a) {
                    for (long p = 0; p < k; p++) sum += a[p * lda + i] * brow[p];
                } else {
                    const float *arow = a + i * lda;
                    for (long p = 0; p < k; p++) sum += arow[p] * brow[p];
                }
                float t = alpha * sum;
                row[j] = beta == 0.0f ? t : beta * row[j] + t;
            }
        } else {
            // B stored (k, n): C[i, :] = beta C[i, :] + sum_p (alpha A[i, p]) B[p, :].
            if (beta == 0.0f) {
                for (long j = 0; j < n; j++) row[j] = 0.0f;
            } else if (beta != 1.0f) {
                for (long j = 0; j < n; j++) row[j] *= beta;
            }
            for (long p = 0; p < k; p++) {
                float aip = alpha * (trans_a ? a[p * lda + i] : a[i * lda + p]);
                const float *brow = b + p * ldb;
                for (long j = 0; j < n; j++) row[j] += aip * brow[j];
            }
        }
    }
}
