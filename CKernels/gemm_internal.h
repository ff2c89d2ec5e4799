// gemm_internal.h: the pieces of the BLIS-style SGEMM shared by gemm.c, the packing routines
// and the microkernels (one file per SIMD level).
#ifndef BP_GEMM_INTERNAL_H
#define BP_GEMM_INTERNAL_H

#include <math.h>

/// A register-blocked microkernel: C[0:mr, 0:nr] = alpha * Ap * Bp + beta * C.
///   ap: packed A micro-panel, (kc, MR): ap[p * MR + i] = A[i, p], rows >= mr are zero.
///   bp: packed B micro-panel, (kc, NR): bp[p * NR + j] = B[p, j], cols >= nr are zero.
///   c:  (mr, nr) with row stride ldc; not read when beta == 0. mr <= MR, nr <= NR.
/// Every level computes t = alpha * acc, then C = beta == 0 ? t : fma(beta, C, t), the same
/// rounding for full and edge tiles, so results do not depend on where tiles are cut.
typedef void (*bp_ukernel_fn)(long kc, const float *ap, const float *bp, float *c, long ldc,
                              float alpha, float beta, long mr, long nr);

/// The same microkernel reading A in place instead of a packed panel: A stored (m, k) with
/// row stride lda, a = &A[0, 0] of the tile; rows >= mr are not read. Same results as
/// bp_ukernel_fn on the packed panel of the same rows (same FMAs, same order).
typedef void (*bp_ukernel_a_in_place_fn)(long kc, const float *a, long lda, const float *bp, float *c,
                                         long ldc, float alpha, float beta, long mr, long nr);

/// A microkernel, its register tile and the shares of the caches its blocks are sized to
/// (each SIMD level's file defines one; gemm_blocks.c turns them into block sizes).
/// With an L2 large enough for a wide B block (the B-block order, Zen 4):
///   a_panel_l1: the MR x KC micro-panel of packed A, reused across a whole B block -> sets KC.
///   b_block_l2: the KC x NC packed block of B, streamed micro-panel by micro-panel -> sets NC.
///   a_block_l2: the MC x KC packed block of A, beside the B block in L2 -> sets MC.
/// With a smaller L2 (the A-block order, Zen 3):
///   b_panel_l1: the KC x NR micro-panel of packed B, reused across a whole A block -> sets KC;
///   a_block_l2 then sets MC with that KC, and the B block spans min(a quarter of L3, four L2s).
typedef struct {
    bp_ukernel_fn kernel;
    long mr, nr;
    double a_panel_l1, b_block_l2, a_block_l2, b_panel_l1;
    bp_ukernel_a_in_place_fn kernel_a_in_place;  // NULL: this level always packs A
} bp_ukernel_info;

const bp_ukernel_info *bp_ukernel_portable(void);
const bp_ukernel_info *bp_ukernel_avx2(void);
const bp_ukernel_info *bp_ukernel_avx512(void);

/// A microkernel and the block sizes in use with it on this CPU.
/// MR x NR: register tile. KC: depth of one packed block. NC: width of a packed B block.
/// MC: rows of a packed A block. b_panel_in_l1: the loop order inside a pair of packed blocks
/// (bp_gemm_blocks in backprop_cpu.h).
typedef struct {
    bp_ukernel_fn kernel;
    long mr, nr, mc, kc, nc;
    int b_panel_in_l1;
    bp_ukernel_a_in_place_fn kernel_a_in_place;  // NULL: A is always packed
} bp_gemm_config;

/// The config for a SIMD level (not clamped): that level's microkernel with the block sizes
/// derived from this CPU's caches (gemm_blocks.c), computed once.
const bp_gemm_config *bp_gemm_config_for(int level);

/// What a fused GEMM does to each finished tile of C (NULL everywhere below means nothing):
///   bias (n), added to every row, then `activation` (a bp_activation_t, < 0: none) -- or, when
///   mask_y is set, C = C * f'(y) for `activation` with y: (m, n), row stride ldy.
typedef struct {
    const float *bias;
    int activation;
    const float *mask_y;
    long ldy;
} bp_gemm_epilogue;

/// Applies `epi` to C[i0:i1, j0:j1] with the vector code of `level` (gemm_epilogue.c).
void bp_gemm_epilogue_apply(int level, const bp_gemm_epilogue *epi, float *c, long ldc,
                            long i0, long i1, long j0, long j1);

/// Packs op(A)[i0:i0+mc, p0:p0+kc] into micro-panels of `mr_tile` rows (see bp_ukernel_fn).
void bp_pack_a(const float *a, long lda, int trans, long i0, long p0, long mc, long kc,
               long mr_tile, float *dst);
/// Packs op(B)[p0:p0+kc, j0:j0+nc] into micro-panels of `nr_tile` columns. With `col_sums`
/// (B not transposed; else NULL), also col_sums[j] += B[p0 + p, j0 + j] for p = 0, 1, ... in
/// order, read from each row while it is packed.
void bp_pack_b(const float *b, long ldb, int trans, long p0, long j0, long kc, long nc,
               long nr_tile, float *dst, float *col_sums);

/// Edge-tile write-back shared by the SIMD microkernels: tile (mr, nr) with row stride ldt.
static inline void bp_gemm_store_edge(const float *tile, long ldt, float *c, long ldc,
                                      long mr, long nr, float alpha, float beta) {
    for (long i = 0; i < mr; i++) {
        for (long j = 0; j < nr; j++) {
            float t = alpha * tile[i * ldt + j];
            c[i * ldc + j] = beta == 0.0f ? t : fmaf(beta, c[i * ldc + j], t);
        }
    }
}

/// The direct path for small problems (no packing, no threads) and the naive reference.
void bp_sgemm_small(int trans_a, int trans_b, long m, long n, long k, float alpha,
                    const float *a, long lda, const float *b, long ldb,
                    float beta, float *c, long ldc);

/// The widest C the narrow path takes at `level` (16 for AVX-512, 8 for AVX2, 0 = none).
long bp_gemm_narrow_width(int level);
/// The narrow-C path (n <= bp_gemm_narrow_width(level)): op(B) packed once, op(A) read in
/// place. Returns 0 without touching C when it does not apply.
int bp_sgemm_narrow(int level, int threads, int trans_a, int trans_b, long m, long n, long k,
                    float alpha, const float *a, long lda, const float *b, long ldb,
                    float beta, float *c, long ldc, const bp_gemm_epilogue *epi);
/// The small-problem path on vectors: the narrow kernel over column blocks of one vector,
/// single-threaded, with no packing of A (a transposed B is transposed into scratch once).
/// Returns 0 when there is no vector kernel at `level` (the caller then uses the scalar loops).
int bp_sgemm_small_simd(int level, int trans_a, int trans_b, long m, long n, long k,
                        float alpha, const float *a, long lda, const float *b, long ldb,
                        float beta, float *c, long ldc);

/// The few-rows path (m <= BP_GEMM_SKINNY_M, B not transposed: batch-1 inference): no packing,
/// each row of C against B read in place, threads over blocks of columns. Returns 0 without
/// touching C when it does not apply. Applies `epi` itself.
enum { BP_GEMM_SKINNY_M = 4 };
int bp_sgemm_skinny(int level, int threads, int trans_a, int trans_b, long m, long n, long k,
                    float alpha, const float *a, long lda, const float *b, long ldb,
                    float beta, float *c, long ldc, const bp_gemm_epilogue *epi);

/// The shared-B schedule for moderate sizes (see gemm_shared_b.c); kc_step as in gemm.c.
/// Returns 0 without touching C when packed op(B) would be too large.
int bp_sgemm_shared_b(const bp_gemm_config *cfg, int level, int threads, long kc_step, int trans_a,
                      int trans_b, long m, long n, long k, float alpha, const float *a, long lda,
                      const float *b, long ldb, float beta, float *c, long ldc,
                      const bp_gemm_epilogue *epi);

#endif  // BP_GEMM_INTERNAL_H
