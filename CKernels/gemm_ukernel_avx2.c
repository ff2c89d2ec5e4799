// gemm_ukernel_avx2.c: the AVX2 + FMA SGEMM microkernel, a 6 x 16 register tile.
//
// Per step p of a full tile: two 8-float loads of packed B, six broadcasts of A (from a packed
// panel, or from A's rows in place), 12 FMAs into 12 ymm accumulators; with the 2 B vectors and
// 1 broadcast that is 15 of the 16 ymm registers. Tiles of at most 2 or 4 rows run a 2- or
// 4-row k loop.
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

/// The k loop for the first ROWS rows of a tile: acc[i] += A[i, :] * Bp for i < ROWS, A read
/// from a packed panel (a_step = MR: a[p * MR + i]) or in place (row[i][p], a_step = 1).
/// ROWS is a constant at every call, so the loop keeps its accumulators in registers.
__attribute__((target("avx2,fma"), always_inline))
static inline void tile_product(int rows, long kc, const float *const row[AVX2_MR], long a_step,
                                const float *restrict bp, __m256 acc[AVX2_MR][2]) {
    for (int i = 0; i < rows; i++) {
        acc[i][0] = _mm256_setzero_ps();
        acc[i][1] = _mm256_setzero_ps();
    }
    for (long p = 0; p < kc; p++) {
        __m256 b0 = _mm256_loadu_ps(bp);
        __m256 b1 = _mm256_loadu_ps(bp + 8);
#pragma clang loop unroll(full)
        for (int i = 0; i < rows; i++) {
            __m256 a = _mm256_broadcast_ss(row[i] + p * a_step);
            acc[i][0] = _mm256_fmadd_ps(a, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(a, b1, acc[i][1]);
        }
        bp += AVX2_NR;
    }
}

/// Row pointers into a packed A panel: row i starts at ap + i.
static inline void packed_rows(const float *ap, const float *row[AVX2_MR]) {
    for (int i = 0; i < AVX2_MR; i++) row[i] = ap + i;
}

/// Row pointers into A in place: rows at or past mr repeat the last real row (their results are
/// never stored), so no row outside the tile is read.
static inline void in_place_rows(const float *a, long lda, long mr, const float *row[AVX2_MR]) {
    for (int i = 0; i < AVX2_MR; i++) row[i] = a + (i < mr ? i : mr - 1) * lda;
}

/// Writes rows [0, mr) of an edge tile through the shared scalar write-back.
__attribute__((target("avx2,fma")))
static void store_edge_tile(__m256 acc[AVX2_MR][2], int rows, float *restrict c, long ldc,
                            float alpha, float beta, long mr, long nr) {
    float tile[AVX2_MR * AVX2_NR] __attribute__((aligned(32)));
    for (int i = 0; i < rows; i++) {
        _mm256_store_ps(tile + i * AVX2_NR, acc[i][0]);
        _mm256_store_ps(tile + i * AVX2_NR + 8, acc[i][1]);
    }
    bp_gemm_store_edge(tile, AVX2_NR, c, ldc, mr, nr, alpha, beta);
}

/// A tile of at most ROWS (2 or 4) rows: only those rows' k loop, a third or two thirds of the
/// full tile's FMAs (the last rows of an m that is not a multiple of 6, such as the 2 rows that
/// m = 128 leaves). Each element sees the same FMAs in the same order whatever the tile height
/// or the A layout, so results do not depend on either.
__attribute__((target("avx2,fma"), always_inline))
static inline void short_tile(int rows, long kc, const float *const row[AVX2_MR], long a_step,
                              const float *restrict bp, float *restrict c, long ldc, float alpha,
                              float beta, long mr, long nr) {
    __m256 acc[AVX2_MR][2];
    tile_product(rows, kc, row, a_step, bp, acc);
    store_edge_tile(acc, rows, c, ldc, alpha, beta, mr, nr);
}

// One function per height, never inlined: inlined into the full kernel, clang spilled its
// accumulators.
__attribute__((target("avx2,fma"), noinline))
static void tile_rows2(long kc, const float *const row[AVX2_MR], long a_step, const float *restrict bp,
                       float *restrict c, long ldc, float alpha, float beta, long mr, long nr) {
    short_tile(2, kc, row, a_step, bp, c, ldc, alpha, beta, mr, nr);
}

__attribute__((target("avx2,fma"), noinline))
static void tile_rows4(long kc, const float *const row[AVX2_MR], long a_step, const float *restrict bp,
                       float *restrict c, long ldc, float alpha, float beta, long mr, long nr) {
    short_tile(4, kc, row, a_step, bp, c, ldc, alpha, beta, mr, nr);
}

/// One tile, A read through `row` with step a_step: short tiles go to tile_rows2/4, full-height
/// tiles run the 6-row k loop and write back in registers (or through the edge write-back).
__attribute__((target("avx2,fma"), always_inline))
static inline void tile(long kc, const float *const row[AVX2_MR], long a_step, const float *restrict bp,
                        float *restrict c, long ldc, float alpha, float beta, long mr, long nr) {
    if (mr <= 2) {
        tile_rows2(kc, row, a_step, bp, c, ldc, alpha, beta, mr, nr);
        return;
    }
    if (mr <= 4) {
        tile_rows4(kc, row, a_step, bp, c, ldc, alpha, beta, mr, nr);
        return;
    }
    // Start fetching the C tile now; it is needed only after the k loop (measured on Zen 4,
    // AVX2 forced, 1 thread: +3% at n = 1024, +1% at 2048, neutral on the MLP shapes).
    for (int i = 0; i < (int)mr; i++) {
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + 8), _MM_HINT_T0);
    }
    __m256 acc[AVX2_MR][2];
    tile_product(AVX2_MR, kc, row, a_step, bp, acc);
    __m256 va = _mm256_set1_ps(alpha);
    if (mr == AVX2_MR && nr == AVX2_NR) {
        __m256 vb = _mm256_set1_ps(beta);
        for (int i = 0; i < AVX2_MR; i++) {
            float *out = c + i * ldc;
            __m256 t0 = _mm256_mul_ps(va, acc[i][0]);
            __m256 t1 = _mm256_mul_ps(va, acc[i][1]);
            if (beta != 0.0f) {
                t0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(out), t0);
                t1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(out + 8), t1);
            }
            _mm256_storeu_ps(out, t0);
            _mm256_storeu_ps(out + 8, t1);
        }
        return;
    }
    store_edge_tile(acc, AVX2_MR, c, ldc, alpha, beta, mr, nr);
}

/// The packed-A microkernel (bp_ukernel_fn).
__attribute__((target("avx2,fma")))
static void ukernel_avx2(long kc, const float *restrict ap, const float *restrict bp,
                         float *restrict c, long ldc, float alpha, float beta, long mr, long nr) {
    const float *row[AVX2_MR];
    packed_rows(ap, row);
    tile(kc, row, AVX2_MR, bp, c, ldc, alpha, beta, mr, nr);
}

/// The in-place-A microkernel (bp_ukernel_a_in_place_fn): A stored (m, k), row stride lda.
__attribute__((target("avx2,fma")))
static void ukernel_avx2_a_in_place(long kc, const float *restrict a, long lda, const float *restrict bp,
                                    float *restrict c, long ldc, float alpha, float beta, long mr, long nr) {
    const float *row[AVX2_MR];
    in_place_rows(a, lda, mr, row);
    tile(kc, row, 1, bp, c, ldc, alpha, beta, mr, nr);
}

static const bp_ukernel_info info = {
    ukernel_avx2, AVX2_MR, AVX2_NR, .a_panel_l1 = 3.0 / 16.0, .b_block_l2 = 0.5, .a_block_l2 = 0.375,
    .b_panel_l1 = 0.75, .kernel_a_in_place = ukernel_avx2_a_in_place,
};

const bp_ukernel_info *bp_ukernel_avx2(void) { return &info; }
