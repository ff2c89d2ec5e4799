// gemm_pack.c: copies blocks of op(A) and op(B) into the contiguous, zero-padded micro-panel
// layout the microkernels stream through, handling both storage orders of each operand.
// Packing is a pure copy, so how it is done (scalar or SIMD transposes) never changes results.
#include <immintrin.h>
#include <stdatomic.h>
#include <string.h>

#include "gemm_internal.h"
#include "internal.h"

/// Stores the first `rows` lanes of v (8, or 6 for the AVX2 tile's rows) at dst.
__attribute__((target("avx2")))
static inline void store_lanes(float *dst, __m256 v, int rows) {
    if (rows == 8) {
        _mm256_storeu_ps(dst, v);
        return;
    }
    _mm_storeu_ps(dst, _mm256_castps256_ps128(v));                      // lanes 0-3
    _mm_storel_pi((__m64 *)(dst + 4), _mm256_extractf128_ps(v, 1));     // lanes 4-5
}

/// src: `rows` rows (8, or 6) of `count` floats (row stride ld) -> dst[p * dst_stride + r] =
/// src[r][p]: 8 x 8 blocks transposed in registers (unpack, shuffle, lane permute; missing rows
/// are zero registers, never read, and their lanes never stored), the rest scalar.
__attribute__((target("avx2")))
static void transpose_rows_avx2(const float *src, long ld, int rows, long count, float *dst, long dst_stride) {
    long p = 0;
    for (; p + 8 <= count; p += 8) {
        __m256 r[8], t[8], u[8];
        for (int i = 0; i < 8; i++) r[i] = i < rows ? _mm256_loadu_ps(src + i * ld + p) : _mm256_setzero_ps();
        for (int i = 0; i < 8; i += 2) {
            t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
            t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
        }
        for (int i = 0; i < 8; i += 4) {
            u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
            u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
            u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
            u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
        }
        for (int j = 0; j < 4; j++) {
            store_lanes(dst + (p + j) * dst_stride, _mm256_permute2f128_ps(u[j], u[j + 4], 0x20), rows);
            store_lanes(dst + (p + j + 4) * dst_stride, _mm256_permute2f128_ps(u[j], u[j + 4], 0x31), rows);
        }
    }
    for (; p < count; p++) {
        for (int i = 0; i < rows; i++) dst[p * dst_stride + i] = src[i * ld + p];
    }
}

/// Whether the AVX2 transposes may run (decided once; packing is a copy either way).
static int use_avx2_transpose(void) {
    static _Atomic int cached = -1;
    int value = atomic_load_explicit(&cached, memory_order_relaxed);
    if (value < 0) {
        value = bp_simd_level_supported() >= BP_SIMD_AVX2;
        atomic_store_explicit(&cached, value, memory_order_relaxed);
    }
    return value;
}

// op(A)[i0:i0+mc, p0:p0+kc] -> dst: ceil(mc / MR) panels of (kc, MR).
void bp_pack_a(const float *a, long lda, int trans, long i0, long p0, long mc, long kc,
               long mr_tile, float *dst) {
    for (long ir = 0; ir < mc; ir += mr_tile) {
        long mr = mc - ir < mr_tile ? mc - ir : mr_tile;
        float *panel = dst + ir * kc;
        if (trans) {
            // A stored (k, m): the MR values of column p are contiguous. Full panels of the two
            // tiles' heights copy with a constant size, which the compiler inlines.
            if (mr == mr_tile && (mr_tile == 6 || mr_tile == 8)) {
                const float *src = a + p0 * lda + i0 + ir;
                if (mr_tile == 6) {
                    for (long p = 0; p < kc; p++) memcpy(panel + p * 6, src + p * lda, 6 * sizeof(float));
                } else {
                    for (long p = 0; p < kc; p++) memcpy(panel + p * 8, src + p * lda, 8 * sizeof(float));
                }
                continue;
            }
            for (long p = 0; p < kc; p++) {
                const float *src = a + (p0 + p) * lda + i0 + ir;
                float *out = panel + p * mr_tile;
                for (long i = 0; i < mr; i++) out[i] = src[i];
                for (long i = mr; i < mr_tile; i++) out[i] = 0.0f;
            }
        } else if (mr == mr_tile && (mr_tile == 8 || mr_tile == 6) && use_avx2_transpose()) {
            // A full panel of the AVX-512 (8-row) or AVX2 (6-row) tile.
            transpose_rows_avx2(a + (i0 + ir) * lda + p0, lda, (int)mr_tile, kc, panel, mr_tile);
        } else {
            // A stored (m, k): read each row contiguously, scatter with stride MR.
            for (long i = 0; i < mr; i++) {
                const float *src = a + (i0 + ir + i) * lda + p0;
                for (long p = 0; p < kc; p++) panel[p * mr_tile + i] = src[p];
            }
            for (long i = mr; i < mr_tile; i++) {
                for (long p = 0; p < kc; p++) panel[p * mr_tile + i] = 0.0f;
            }
        }
    }
}

/// Deals row `src` of the block, `full` floats, to the full panels: NR floats to each, at
/// out + jr * kc. Inlined with a constant `width` per tile, so each copy is a few vector moves
/// (a switch of memcpy calls would be merged back into one libc call of variable size).
__attribute__((always_inline))
static inline void deal_row(float *out, const float *src, long full, long kc, long width) {
    for (long jr = 0; jr < full; jr += width) memcpy(out + jr * kc, src + jr, (size_t)width * sizeof(float));
}

/// B stored (k, n): walks each row of the block once, left to right, dealing NR floats to each
/// full panel, so the reads stream through memory instead of striding down columns (one new
/// cache line and often a new page per 64-byte copy). The last, partial panel is zero-padded.
static void pack_b_rows(const float *b, long ldb, long p0, long j0, long kc, long nc,
                        long nr_tile, float *dst, float *col_sums) {
    long full = nc / nr_tile * nr_tile;
    for (long p = 0; p < kc; p++) {
        const float *src = b + (p0 + p) * ldb + j0;
        float *out = dst + p * nr_tile;
        switch (nr_tile) {
        case 8: deal_row(out, src, full, kc, 8); break;
        case 16: deal_row(out, src, full, kc, 16); break;
        case 32: deal_row(out, src, full, kc, 32); break;
        default: deal_row(out, src, full, kc, nr_tile); break;
        }
        if (full < nc) {
            float *tail = out + full * kc;
            for (long j = 0; j < nc - full; j++) tail[j] = src[full + j];
            for (long j = nc - full; j < nr_tile; j++) tail[j] = 0.0f;
        }
        // The row is in L1 now: add it to the running column sums (rows in order, as
        // bp_sum_columns adds them).
        if (col_sums != NULL) {
            for (long j = 0; j < nc; j++) col_sums[j] += src[j];
        }
    }
}

// op(B)[p0:p0+kc, j0:j0+nc] -> dst: ceil(nc / NR) panels of (kc, NR).
void bp_pack_b(const float *b, long ldb, int trans, long p0, long j0, long kc, long nc,
               long nr_tile, float *dst, float *col_sums) {
    if (!trans) {
        pack_b_rows(b, ldb, p0, j0, kc, nc, nr_tile, dst, col_sums);
        return;
    }
    // B stored (n, k), panel by panel.
    for (long jr = 0; jr < nc; jr += nr_tile) {
        long nr = nc - jr < nr_tile ? nc - jr : nr_tile;
        float *panel = dst + jr * kc;
        if (nr == nr_tile && nr_tile % 8 == 0 && use_avx2_transpose()) {
            // B stored (n, k): 8 rows of B at a time become 8 columns of the panel.
            for (long j = 0; j < nr; j += 8) {
                transpose_rows_avx2(b + (j0 + jr + j) * ldb + p0, ldb, 8, kc, panel + j, nr_tile);
            }
        } else {
            // B stored (n, k): read each row of B contiguously, scatter with stride NR.
            for (long j = 0; j < nr; j++) {
                const float *src = b + (j0 + jr + j) * ldb + p0;
                for (long p = 0; p < kc; p++) panel[p * nr_tile + j] = src[p];
            }
            for (long j = nr; j < nr_tile; j++) {
                for (long p = 0; p < kc; p++) panel[p * nr_tile + j] = 0.0f;
            }
        }
    }
}
