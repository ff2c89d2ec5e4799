// gemm_ukernel_avx2.c: the AVX2 + FMA SGEMM microkernel, a 6 x 16 register tile.
//
// Per step p: two 8-float loads of packed B, six broadcasts of packed A, 12 FMAs into 12 ymm
// accumulators; with the 2 B vectors and 1 broadcast that is 15 of the 16 ymm registers.
#include <immintrin.h>

#include "gemm_internal.h"

// The register tile. Block sizes come from the caches (gemm_blocks.c) through the shares below.
// On a 1 MB L2 (Zen 4, B-block order): the MR x KC panel of A in 3/16 of a 32 KB L1 gives
// KC = 256, half of L2 for the KC x NC block of B gives NC = 512, 3/8 of L2 for the MC x KC
// block of A gives MC = 384 (measured on Zen 4 with AVX2 forced: 2-12% faster at n = 512..2048
// than 192/256). On a 512 KB L2 (Zen 3) that NC would be 256, so the A-block order runs: the
// KC x NR panel of B in 3/4 of L1 gives KC = 384 and MC = 126 (measured on Zen 3: KC 384 and
// 512 within 1-2% of each other, both 7-10% above the B-block order's 256/256).
enum { AVX2_MR = 6, AVX2_NR = 16 };

__attribute__((target("avx2,fma")))
static void ukernel_avx2(long kc, const float *restrict ap, const float *restrict bp,
                         float *restrict c, long ldc, float alpha, float beta, long mr, long nr) {
    // Start fetching the C tile now; it is needed only after the k loop (measured on Zen 4,
    // AVX2 forced, 1 thread: +3% at n = 1024, +1% at 2048, neutral on the MLP shapes).
    for (int i = 0; i < (int)mr; i++) {
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + 8), _MM_HINT_T0);
    }
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

static const bp_ukernel_info info = {
    ukernel_avx2, AVX2_MR, AVX2_NR, .a_panel_l1 = 3.0 / 16.0, .b_block_l2 = 0.5, .a_block_l2 = 0.375,
    .b_panel_l1 = 0.75,
};

const bp_ukernel_info *bp_ukernel_avx2(void) { return &info; }
