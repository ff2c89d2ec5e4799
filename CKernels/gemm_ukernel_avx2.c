// gemm_ukernel_avx2.c: the AVX2 + FMA SGEMM microkernel, a 6 x 16 register tile.
//
// Per step p: two 8-float loads of packed B, six broadcasts of packed A, 12 FMAs into 12 ymm
// accumulators; with the 2 B vectors and 1 broadcast that is 15 of the 16 ymm registers.
#include <immintrin.h>

#include "gemm_internal.h"

// KC x MR of A (6 KB) in L1; KC x NC of B (256 KB) in L2 (BLIS Haswell uses 6 x 16, KC 256).
enum { AVX2_MR = 6, AVX2_NR = 16, AVX2_KC = 256, AVX2_NC = 256, AVX2_MC = 192 };

__attribute__((target("avx2,fma")))
static void ukernel_avx2(long kc, const float *restrict ap, const float *restrict bp,
                         float *restrict c, long ldc, float alpha, float beta, long mr, long nr) {
    __m256 acc[AVX2_MR][2];
    for (int i = 0; i < AVX2_MR; i++) {
        acc[i][0] = _mm256_setzero_ps();
        acc[i][1] = _mm256_setzero_ps();
    }
    for (long p = 0; p < kc; p++) {
        __m256 b0 = _mm256_loadu_ps(bp);
        __m256 b1 = _mm256_loadu_ps(bp + 8);
#pragma clang loop unroll(full)
        for (int i = 0; i < AVX2_MR; i++) {
            __m256 a = _mm256_broadcast_ss(ap + i);
            acc[i][0] = _mm256_fmadd_ps(a, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(a, b1, acc[i][1]);
        }
        ap += AVX2_MR;
        bp += AVX2_NR;
    }
    __m256 va = _mm256_set1_ps(alpha);
    if (mr == AVX2_MR && nr == AVX2_NR) {
        __m256 vb = _mm256_set1_ps(beta);
        for (int i = 0; i < AVX2_MR; i++) {
            float *row = c + i * ldc;
            __m256 t0 = _mm256_mul_ps(va, acc[i][0]);
            __m256 t1 = _mm256_mul_ps(va, acc[i][1]);
            if (beta != 0.0f) {
                t0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(row), t0);
                t1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(row + 8), t1);
            }
            _mm256_storeu_ps(row, t0);
            _mm256_storeu_ps(row + 8, t1);
        }
        return;
    }
    float tile[AVX2_MR * AVX2_NR] __attribute__((aligned(32)));
    for (int i = 0; i < AVX2_MR; i++) {
        _mm256_store_ps(tile + i * AVX2_NR, acc[i][0]);
        _mm256_store_ps(tile + i * AVX2_NR + 8, acc[i][1]);
    }
    bp_gemm_store_edge(tile, AVX2_NR, c, ldc, mr, nr, alpha, beta);
}

static const bp_gemm_config config = {
    ukernel_avx2, AVX2_MR, AVX2_NR, AVX2_MC, AVX2_KC, AVX2_NC,
};

const bp_gemm_config *bp_gemm_config_avx2(void) { return &config; }
