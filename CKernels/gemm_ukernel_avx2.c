// gemm_ukernel_avx2.c: the AVX2 + FMA SGEMM microkernel, a 6 x 16 register tile.
//
// Per step p of a full tile: two 8-float loads of packed B, six broadcasts of A (from a packed
// panel, or from A's rows in place), 12 FMAs into 12 ymm accumulators; with the 2 B vectors and
// 2 broadcasts that is all 16 ymm registers. The 6-row k loop of a full tile is written in
// assembly (x86-64; see full_tile_product); tiles of at most 2 or 4 rows, and 5-row tiles that
// read A in place, run a 2-, 4- or 6-row k loop in intrinsics.
#include <immintrin.h>
#include <stdint.h>

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

#if defined(__x86_64__)
// The full tile's k loop in assembly. Written from intrinsics, clang kept alpha and beta live
// across the loop and moved an accumulator through a spare register twice per step; these
// loops keep the 12 accumulators in ymm4..ymm15, B in ymm0/ymm1 and the broadcasts of A in
// ymm2/ymm3, and run four steps per iteration. Each element still sees the same FMAs in the
// same order (from zero, p ascending), so results are bit-identical to the intrinsics loop.
// Measured on AMD EPYC Zen 3 (AVX2), in-process, both kernels alternating ABBA within each
// round: 1.09-1.12x at 1-thread 2048^3, 1.07x at 2-thread 1024^3 and 2048^3, 1.14x on the
// 2-thread TN 784x256x128 (docs/KERNELS.md, "The full tile's k loop in assembly").
//
// One step at byte offsets B_OFF into the B micro-panel (16 floats) and A_OFF into the six rows
// of A, which start at a, a + rs, a + 2 rs, a3 = a + 3 rs, a3 + rs, a3 + 2 rs (rs: the byte
// distance between rows: 4 in a packed panel, 4 lda in place).
#define AVX2_STEP(B_OFF, A_OFF)                                                  \
    "vmovups " B_OFF "(%[b]), %%ymm0\n\t"                                        \
    "vmovups 32+" B_OFF "(%[b]), %%ymm1\n\t"                                     \
    "vbroadcastss " A_OFF "(%[a]), %%ymm2\n\t"                                   \
    "vbroadcastss " A_OFF "(%[a],%[rs],1), %%ymm3\n\t"                           \
    "vfmadd231ps %%ymm0, %%ymm2, %%ymm4\n\t"                                     \
    "vfmadd231ps %%ymm1, %%ymm2, %%ymm5\n\t"                                     \
    "vfmadd231ps %%ymm0, %%ymm3, %%ymm6\n\t"                                     \
    "vfmadd231ps %%ymm1, %%ymm3, %%ymm7\n\t"                                     \
    "vbroadcastss " A_OFF "(%[a],%[rs],2), %%ymm2\n\t"                           \
    "vbroadcastss " A_OFF "(%[a3]), %%ymm3\n\t"                                  \
    "vfmadd231ps %%ymm0, %%ymm2, %%ymm8\n\t"                                     \
    "vfmadd231ps %%ymm1, %%ymm2, %%ymm9\n\t"                                     \
    "vfmadd231ps %%ymm0, %%ymm3, %%ymm10\n\t"                                    \
    "vfmadd231ps %%ymm1, %%ymm3, %%ymm11\n\t"                                    \
    "vbroadcastss " A_OFF "(%[a3],%[rs],1), %%ymm2\n\t"                          \
    "vbroadcastss " A_OFF "(%[a3],%[rs],2), %%ymm3\n\t"                          \
    "vfmadd231ps %%ymm0, %%ymm2, %%ymm12\n\t"                                    \
    "vfmadd231ps %%ymm1, %%ymm2, %%ymm13\n\t"                                    \
    "vfmadd231ps %%ymm0, %%ymm3, %%ymm14\n\t"                                    \
    "vfmadd231ps %%ymm1, %%ymm3, %%ymm15\n\t"

// The k loop: zero the accumulators, `quads` iterations of four steps (A advancing A_STEP bytes
// per step, the strings S1..S4 being 1..4 times A_STEP), `rest` single steps, then the 12
// accumulators to out (row i: out[16 i .. 16 i + 15]). It reads and advances the caller's
// variables a, a3, bp, quads and rest, and reads rs and out.
#define AVX2_K_LOOP(S1, S2, S3, S4)                                              \
    __asm__ volatile(                                                            \
        "vxorps %%ymm4, %%ymm4, %%ymm4\n\t"                                      \
        "vxorps %%ymm5, %%ymm5, %%ymm5\n\t"                                      \
        "vxorps %%ymm6, %%ymm6, %%ymm6\n\t"                                      \
        "vxorps %%ymm7, %%ymm7, %%ymm7\n\t"                                      \
        "vxorps %%ymm8, %%ymm8, %%ymm8\n\t"                                      \
        "vxorps %%ymm9, %%ymm9, %%ymm9\n\t"                                      \
        "vxorps %%ymm10, %%ymm10, %%ymm10\n\t"                                   \
        "vxorps %%ymm11, %%ymm11, %%ymm11\n\t"                                   \
        "vxorps %%ymm12, %%ymm12, %%ymm12\n\t"                                   \
        "vxorps %%ymm13, %%ymm13, %%ymm13\n\t"                                   \
        "vxorps %%ymm14, %%ymm14, %%ymm14\n\t"                                   \
        "vxorps %%ymm15, %%ymm15, %%ymm15\n\t"                                   \
        "test %[quads], %[quads]\n\t"                                            \
        "jz 2f\n\t"                                                              \
        ".p2align 5\n"                                                           \
        "1:\n\t"                                                                 \
        AVX2_STEP("0", "0")                                                      \
        AVX2_STEP("64", S1)                                                      \
        AVX2_STEP("128", S2)                                                     \
        AVX2_STEP("192", S3)                                                     \
        "add $256, %[b]\n\t"                                                     \
        "add $" S4 ", %[a]\n\t"                                                  \
        "add $" S4 ", %[a3]\n\t"                                                 \
        "dec %[quads]\n\t"                                                       \
        "jnz 1b\n"                                                               \
        "2:\n\t"                                                                 \
        "test %[rest], %[rest]\n\t"                                              \
        "jz 4f\n"                                                                \
        "3:\n\t"                                                                 \
        AVX2_STEP("0", "0")                                                      \
        "add $64, %[b]\n\t"                                                      \
        "add $" S1 ", %[a]\n\t"                                                  \
        "add $" S1 ", %[a3]\n\t"                                                 \
        "dec %[rest]\n\t"                                                        \
        "jnz 3b\n"                                                               \
        "4:\n\t"                                                                 \
        "vmovups %%ymm4, 0(%[out])\n\t"                                          \
        "vmovups %%ymm5, 32(%[out])\n\t"                                         \
        "vmovups %%ymm6, 64(%[out])\n\t"                                         \
        "vmovups %%ymm7, 96(%[out])\n\t"                                         \
        "vmovups %%ymm8, 128(%[out])\n\t"                                        \
        "vmovups %%ymm9, 160(%[out])\n\t"                                        \
        "vmovups %%ymm10, 192(%[out])\n\t"                                       \
        "vmovups %%ymm11, 224(%[out])\n\t"                                       \
        "vmovups %%ymm12, 256(%[out])\n\t"                                       \
        "vmovups %%ymm13, 288(%[out])\n\t"                                       \
        "vmovups %%ymm14, 320(%[out])\n\t"                                       \
        "vmovups %%ymm15, 352(%[out])\n\t"                                       \
        "vzeroupper\n\t"                                                         \
        : [a] "+r"(a), [a3] "+r"(a3), [b] "+r"(bp), [quads] "+r"(quads), [rest] "+r"(rest) \
        : [rs] "r"(rs), [out] "r"(out)                                           \
        : "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",  \
          "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15")

/// The 6-row k loop on a packed A panel (a[p * 6 + i]: rows 4 bytes apart, 24 bytes per step).
__attribute__((target("avx2,fma"), noinline))
static void full_tile_product_packed(long kc, const float *a, const float *bp, float *out) {
    intptr_t quads = kc / 4, rest = kc % 4, rs = 4;
    const float *a3 = a + 3;
    AVX2_K_LOOP("24", "48", "72", "96");
}

/// The 6-row k loop on A in place (row i at a + i lda: 4 bytes per step).
__attribute__((target("avx2,fma"), noinline))
static void full_tile_product_in_place(long kc, const float *a, long lda, const float *bp, float *out) {
    intptr_t quads = kc / 4, rest = kc % 4, rs = 4 * (intptr_t)lda;
    const float *a3 = a + 3 * lda;
    AVX2_K_LOOP("4", "8", "12", "16");
}
#undef AVX2_K_LOOP
#undef AVX2_STEP

#if defined(__SANITIZE_ADDRESS__)
#define BP_AVX2_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BP_AVX2_ASAN 1
#endif
#endif
/// Under AddressSanitizer, reads the first and last of `count` floats at p from C, where it
/// checks them (it does not see the assembly's loads); otherwise nothing.
static inline void asan_touch(const float *p, long count) {
#ifdef BP_AVX2_ASAN
    if (count <= 0) return;
    volatile float sink = p[0];
    sink = p[count - 1];
    (void)sink;
#else
    (void)p;
    (void)count;
#endif
}
#endif

/// The k loop of a full-height (5- or 6-row) tile into acc: in assembly on x86-64 for a packed
/// panel (a 5-row tile's sixth row is the packing's zero padding) and for 6 rows in place (an
/// in-place tile of 5 rows repeats its last row instead, so it runs the intrinsics loop).
/// Under AddressSanitizer, which does not see inside inline assembly, the first and last float
/// of every row of A and of the B micro-panel the loop will read are read from C first, so an
/// undersized buffer is still reported.
__attribute__((target("avx2,fma"), always_inline))
static inline void full_tile_product(long kc, const float *const row[AVX2_MR], long a_step, long lda,
                                     long mr, const float *restrict bp, __m256 acc[AVX2_MR][2]) {
#if defined(__x86_64__)
    if (a_step == AVX2_MR) {
        asan_touch(bp, AVX2_NR * kc);
        asan_touch(row[0], AVX2_MR * kc);
        full_tile_product_packed(kc, row[0], bp, (float *)acc);
        return;
    }
    if (mr == AVX2_MR) {
        asan_touch(bp, AVX2_NR * kc);
        for (int i = 0; i < AVX2_MR; i++) asan_touch(row[i], kc);
        full_tile_product_in_place(kc, row[0], lda, bp, (float *)acc);
        return;
    }
#endif
    (void)lda;
    (void)mr;
    tile_product(AVX2_MR, kc, row, a_step, bp, acc);
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

/// Starts fetching the cache line holding p, which the tile will write: with PREFETCHW when
/// `for_write` (the line arrives ready to be written), else with a read prefetch, after which
/// the first store must still ask for the line's ownership. A hint either way: it never faults.
__attribute__((always_inline))
static inline void prefetch_c_line(const float *p, int for_write) {
#if defined(__x86_64__)
    if (for_write) {
        __asm__ volatile("prefetchw (%0)" : : "r"(p));
        return;
    }
#endif
    (void)for_write;
    _mm_prefetch((const char *)p, _MM_HINT_T0);
}

/// One tile, A read through `row` with step a_step: short tiles go to tile_rows2/4, full-height
/// tiles run the 6-row k loop and write back in registers (or through the edge write-back).
/// `write_prefetch` (a constant at each call) chooses how the C tile is prefetched.
__attribute__((target("avx2,fma"), always_inline))
static inline void tile(long kc, const float *const row[AVX2_MR], long a_step, long lda,
                        const float *restrict bp, float *restrict c, long ldc, float alpha,
                        float beta, long mr, long nr, int write_prefetch) {
    if (mr <= 2) {
        tile_rows2(kc, row, a_step, bp, c, ldc, alpha, beta, mr, nr);
        return;
    }
    if (mr <= 4) {
        tile_rows4(kc, row, a_step, bp, c, ldc, alpha, beta, mr, nr);
        return;
    }
    // Start fetching the C tile now; it is needed only after the k loop (measured on Zen 4,
    // AVX2 forced, 1 thread: +3% at n = 1024, +1% at 2048, neutral on the MLP shapes; on
    // Zen 3, AVX2, 1 thread, 2048^3: without it 1.13-1.15x slower). Fetching it for writing
    // (PREFETCHW) rather than for reading measured 1.01-1.03x faster on Zen 3 at 512^3-2048^3
    // on 1 thread and 2048^3 on 2, level at 1024^3 on 2 and on the MLP's shapes (KERNELS.md).
    for (int i = 0; i < (int)mr; i++) {
        prefetch_c_line(c + i * ldc, write_prefetch);
        prefetch_c_line(c + i * ldc + 8, write_prefetch);
    }
    __m256 acc[AVX2_MR][2];
    full_tile_product(kc, row, a_step, lda, mr, bp, acc);
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

/// The packed-A microkernel (bp_ukernel_fn); `write_prefetch` as in tile.
__attribute__((target("avx2,fma"), always_inline))
static inline void ukernel_packed(long kc, const float *restrict ap, const float *restrict bp, float *restrict c,
                                  long ldc, float alpha, float beta, long mr, long nr, int write_prefetch) {
    const float *row[AVX2_MR];
    packed_rows(ap, row);
    tile(kc, row, AVX2_MR, 0, bp, c, ldc, alpha, beta, mr, nr, write_prefetch);
}

/// The in-place-A microkernel (bp_ukernel_a_in_place_fn): A stored (m, k), row stride lda.
__attribute__((target("avx2,fma"), always_inline))
static inline void ukernel_in_place(long kc, const float *restrict a, long lda, const float *restrict bp,
                                    float *restrict c, long ldc, float alpha, float beta, long mr, long nr,
                                    int write_prefetch) {
    const float *row[AVX2_MR];
    in_place_rows(a, lda, mr, row);
    tile(kc, row, 1, lda, bp, c, ldc, alpha, beta, mr, nr, write_prefetch);
}

// The kernels proper, one pair per way of prefetching C.
__attribute__((target("avx2,fma")))
static void ukernel_avx2(long kc, const float *restrict ap, const float *restrict bp,
                         float *restrict c, long ldc, float alpha, float beta, long mr, long nr) {
    ukernel_packed(kc, ap, bp, c, ldc, alpha, beta, mr, nr, 0);
}

__attribute__((target("avx2,fma")))
static void ukernel_avx2_a_in_place(long kc, const float *restrict a, long lda, const float *restrict bp,
                                    float *restrict c, long ldc, float alpha, float beta, long mr, long nr) {
    ukernel_in_place(kc, a, lda, bp, c, ldc, alpha, beta, mr, nr, 0);
}

__attribute__((target("avx2,fma")))
static void ukernel_avx2_prefetchw(long kc, const float *restrict ap, const float *restrict bp,
                                   float *restrict c, long ldc, float alpha, float beta, long mr, long nr) {
    ukernel_packed(kc, ap, bp, c, ldc, alpha, beta, mr, nr, 1);
}

__attribute__((target("avx2,fma")))
static void ukernel_avx2_a_in_place_prefetchw(long kc, const float *restrict a, long lda,
                                              const float *restrict bp, float *restrict c, long ldc,
                                              float alpha, float beta, long mr, long nr) {
    ukernel_in_place(kc, a, lda, bp, c, ldc, alpha, beta, mr, nr, 1);
}

// The cache shares both kernel pairs block for (see the block sizes above).
#define AVX2_CACHE_SHARES .a_panel_l1 = 3.0 / 16.0, .b_block_l2 = 0.5, .a_block_l2 = 0.375, .b_panel_l1 = 0.75

static const bp_ukernel_info info = {
    ukernel_avx2, AVX2_MR, AVX2_NR, AVX2_CACHE_SHARES, .kernel_a_in_place = ukernel_avx2_a_in_place,
};

static const bp_ukernel_info info_prefetchw = {
    ukernel_avx2_prefetchw, AVX2_MR, AVX2_NR, AVX2_CACHE_SHARES,
    .kernel_a_in_place = ukernel_avx2_a_in_place_prefetchw,
};
#undef AVX2_CACHE_SHARES

/// The AVX2 microkernel for this CPU: the one that prefetches C with PREFETCHW where the CPU
/// reports it (the PRFCHW bit of CPUID), else the read-prefetch one. Both give bit-identical
/// results; only the cache hint differs. A hardware fact, like the SIMD level (no state kept).
const bp_ukernel_info *bp_ukernel_avx2(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("prfchw")) return &info_prefetchw;
#endif
    return &info;
}
