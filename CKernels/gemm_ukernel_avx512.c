// gemm_ukernel_avx512.c: the AVX-512 SGEMM microkernel, an 8 x 32 register tile.
//
// Per step p: two 16-float loads of the packed B row, eight broadcasts of packed A, 16 FMAs
// into 16 zmm accumulators (8 rows x 2 vectors). 16 independent chains cover the FMA latency
// on both Zen 4 and Intel cores; 8 x 32 divides the common layer widths (128, 256, 784 = 8 x 98).
#include <immintrin.h>

#include "gemm_internal.h"

// The register tile. Block sizes come from the caches (gemm_blocks.c) through the shares below,
// which reproduce the values measured best on Zen 4 (32 KB L1, 1 MB L2): the MR x KC panel of
// A in 3/8 of L1 (12 KB) gives KC = 384; the KC x NC block of B in 0.7 of L2 gives NC = 480;
// the MC x KC block of A in 3/32 of L2 (96 KB) gives MC = 64.
enum { AVX512_MR = 8, AVX512_NR = 32 };

__attribute__((target("avx512f,avx512vl,fma")))
static void ukernel_avx512(long kc, const float *restrict ap, const float *restrict bp,
                           float *restrict c, long ldc, float alpha, float beta, long mr, long nr) {
    // Start fetching the C tile now; it is needed only after the k loop.
    for (int i = 0; i < (int)mr; i++) {
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + 16), _MM_HINT_T0);
    }
    __m512 acc[AVX512_MR][2];
    for (int i = 0; i < AVX512_MR; i++) {
        acc[i][0] = _mm512_setzero_ps();
        acc[i][1] = _mm512_setzero_ps();
    }
    for (long p = 0; p < kc; p++) {
        __m512 b0 = _mm512_loadu_ps(bp);
        __m512 b1 = _mm512_loadu_ps(bp + 16);
#pragma clang loop unroll(full)
        for (int i = 0; i < AVX512_MR; i++) {
            __m512 a = _mm512_set1_ps(ap[i]);
            acc[i][0] = _mm512_fmadd_ps(a, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(a, b1, acc[i][1]);
        }
        ap += AVX512_MR;
        bp += AVX512_NR;
    }
    __m512 va = _mm512_set1_ps(alpha);
    if (mr == AVX512_MR && nr == AVX512_NR) {
        __m512 vb = _mm512_set1_ps(beta);
        for (int i = 0; i < AVX512_MR; i++) {
            float *row = c + i * ldc;
            __m512 t0 = _mm512_mul_ps(va, acc[i][0]);
            __m512 t1 = _mm512_mul_ps(va, acc[i][1]);
            if (beta != 0.0f) {
                t0 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(row), t0);
                t1 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(row + 16), t1);
            }
            _mm512_storeu_ps(row, t0);
            _mm512_storeu_ps(row + 16, t1);
        }
        return;
    }
    float tile[AVX512_MR * AVX512_NR] __attribute__((aligned(64)));
    for (int i = 0; i < AVX512_MR; i++) {
        _mm512_store_ps(tile + i * AVX512_NR, acc[i][0]);
        _mm512_store_ps(tile + i * AVX512_NR + 16, acc[i][1]);
    }
    bp_gemm_store_edge(tile, AVX512_NR, c, ldc, mr, nr, alpha, beta);
}

static const bp_ukernel_info info = {
    ukernel_avx512, AVX512_MR, AVX512_NR, .a_panel_l1 = 0.375, .b_block_l2 = 0.7, .a_block_l2 = 3.0 / 32.0,
    .b_panel_l1 = 0.75,  // the A-block order (an L2 below about 900 KB); not measured on such a CPU
};

const bp_ukernel_info *bp_ukernel_avx512(void) { return &info; }
