// gemm.c: bp_sgemm / bp_sgemm_with: the choice of path, and the BLIS-style blocked driver.
//
// Paths, chosen from the sizes and SIMD level only (never the thread count): the direct loops
// (gemm_small.c, gemm_narrow.c) for tiny problems, the few-rows path (gemm_skinny.c) for
// m <= 4 with an untransposed B, the narrow path (gemm_narrow.c) for n <= 16, else this driver. The shared-B schedule (gemm_shared_b.c) runs only when asked for.
//
// op(A): (m, k), op(B): (k, n) -> C: (m, n), all row-major. Loop nest per task:
//   jc over n by NC (the A-block order: in blocks of at most NC, cut evenly, like ic):
//     pc over k by KC (sequential: C accumulates block after block)
//       pack op(B)[pc:pc+kc, jc:jc+nc] into Bp
//       ic over m by at most MC, cut evenly: pack op(A)[ic:ic+mc, pc:pc+kc] into Ap
//                        (or, on AVX2, let the microkernel read an untransposed A in place
//                        when the task is narrow: a_in_place_pays)
//         the two tile loops, in the order the cache sizes chose (gemm_blocks.c):
//         B-block order (large L2, Bp in L2):    ir over mc by MR (A micro-panel in L1)
//                                                  jr over nc by NR: the MR x NR microkernel
//         A-block order (smaller L2, Ap in L2):  jr over nc by NR (B micro-panel in L1)
//                                                  ir over mc by MR: the microkernel
// (the vector dimension of the tile is n, as C is row-major).
// Tasks are disjoint rectangles of C cut at multiples of MR and NR, so each task owns the C it
// writes and every element sees the same additions in the same order for any thread count.
// KC blocks are never split across threads.
#include <math.h>

#include "backprop_cpu.h"
#include "gemm_internal.h"
#include "internal.h"

// Problems with m * n * k at or below this take the direct path: packing and the microkernel
// set-up would cost more than the arithmetic (the 25-8-2 network's GEMMs are ~1e3 flops).
#define BP_GEMM_SMALL_MNK 131072.0
// Below this many flops per thread a fork/join (a few microseconds) does not pay off.
#define BP_GEMM_FLOPS_PER_THREAD 2.0e6

typedef struct {
    const bp_gemm_config *cfg;
    int trans_a, trans_b;
    long m, n, k;
    float alpha, beta;
    const float *a, *b;
    float *c;
    long lda, ldb, ldc;
    long kc_step;         // balanced KC, a function of k only
    long parts_m, parts_n;  // thread grid over C
    int level;
    const bp_gemm_epilogue *epi;  // applied to each tile after its last KC block (or NULL)
    float *col_sums;      // (n) or NULL: the column sums of B (contiguous), taken while B is packed
    int sums_accumulate;  // add to col_sums (else overwrite)
    int a_in_place;       // the microkernel reads A (not transposed) in place: no packing of A
} gemm_job;

static long min_long(long x, long y) { return x < y ? x : y; }

/// How many blocks of at most MC rows a task of `rows` rows is cut into. Block b is then rows
/// bp_chunk_range(rows, blocks, MR, b) of the task: the fewest blocks, as even as whole tiles
/// allow (sizes differ by at most one tile): 128 rows with MC 126 -> 66 + 62, not 126 + 2;
/// 512 -> 108 + 3 x 102 + 98; 2048 -> 17 blocks of 116-126 rows, not 16 x 126 + 32.
/// The tiles are the same, but in the A-block order a short last block loads every micro-panel
/// of B into L1 for one or two tiles, with nothing to hide the load behind. Bit-identical to
/// any other cut. Measured on AMD EPYC Zen 3 (AVX2): 1.00-1.08x the old cut on the MLP's and
/// square shapes, but two builds doing identical work differed by 7% in the same harness, so
/// no speed-up is claimed (docs/KERNELS.md, "Even row blocks").
/// The same for columns: how many blocks of at most NC columns a task is cut into.
static long row_block_count(long rows, long mc) { return (rows + mc - 1) / mc; }

/// The most rows bp_chunk_range gives any of `blocks` blocks of `rows` rows cut at multiples of
/// `mr`: the height the packing buffer for A must hold (at most MC when MC is a multiple of MR).
/// The same for columns: the width the packing buffer for B must hold.
static long row_block_height(long rows, long blocks, long mr) {
    long tiles = (rows + mr - 1) / mr;
    return (tiles + blocks - 1) / blocks * mr;
}

/// Columns [*c0, *c1) of column block `block` of `blocks` of a task `cols` wide (relative to
/// the task). The A-block order cuts them evenly, like its rows: n = 1536 with NC 1360 gives
/// 768 + 768, not 1360 + 176, whose narrow block would pack and stream a block of A for a few
/// micro-panels of B. The B-block order keeps full NC blocks and a remainder (NC is its L2
/// budget; unchanged where it was measured, on Zen 4). Bit-identical either way: each
/// element's k order does not change.
static void column_block(const bp_gemm_config *cfg, long cols, long blocks, long block, long *c0, long *c1) {
    if (cfg->b_panel_in_l1) {
        bp_chunk_range(cols, blocks, cfg->nr, block, c0, c1);
    } else {
        *c0 = block * cfg->nc;
        *c1 = min_long(*c0 + cfg->nc, cols);
    }
}

/// A packed MC x KC block of A (or, with job->a_in_place, A itself: ap = &A[ic, pc]) and a
/// packed KC x NC block of B: C[ic:ic+mc, jc:jc+nc] += Ap Bp.
typedef struct {
    const float *ap, *bp;
    long ic, mc, jc, nc, kc;
    float beta;
    int last;  // the last KC block: tiles are final after it
} block_pair;

/// The microkernel on tile (ir, jr) of a block pair, then the epilogue if the tile is final
/// (while it is still in L1).
static inline void run_tile(const gemm_job *job, const block_pair *b, long ir, long jr) {
    const bp_gemm_config *cfg = job->cfg;
    long mr = min_long(cfg->mr, b->mc - ir), nr = min_long(cfg->nr, b->nc - jr);
    long i = b->ic + ir, j = b->jc + jr;
    float *c = job->c + i * job->ldc + j;
    if (job->a_in_place) {
        cfg->kernel_a_in_place(b->kc, b->ap + ir * job->lda, job->lda, b->bp + jr * b->kc, c, job->ldc,
                               job->alpha, b->beta, mr, nr);
    } else {
        cfg->kernel(b->kc, b->ap + ir * b->kc, b->bp + jr * b->kc, c, job->ldc, job->alpha, b->beta, mr, nr);
    }
    if (b->last) bp_gemm_epilogue_apply(job->level, job->epi, job->c, job->ldc, i, i + mr, j, j + nr);
}

/// The blocked algorithm on C[i0:i1, j0:j1], on the calling thread.
static void gemm_block(const gemm_job *job, long i0, long i1, long j0, long j1) {
    const bp_gemm_config *cfg = job->cfg;
    long mr_t = cfg->mr, nr_t = cfg->nr;
    long kc_max = job->kc_step;
    long row_blocks = row_block_count(i1 - i0, cfg->mc);
    long mc_max = row_block_height(i1 - i0, row_blocks, mr_t);
    long col_blocks = row_block_count(j1 - j0, cfg->nc);
    long nc_max = cfg->b_panel_in_l1 ? row_block_height(j1 - j0, col_blocks, nr_t)
                                     : min_long(cfg->nc, ((j1 - j0 + nr_t - 1) / nr_t) * nr_t);
    float *ap = job->a_in_place ? NULL : bp_thread_scratch(0, (size_t)(mc_max * kc_max));
    float *bp = bp_thread_scratch(1, (size_t)(nc_max * kc_max));
    // Every task of the first row of the grid sums its own columns of B (tasks below it pack
    // the same columns again, without summing).
    float *sums = job->col_sums != NULL && i0 == 0 ? job->col_sums : NULL;
    if ((ap == NULL && !job->a_in_place) || bp == NULL) {
        // Out of memory for the packing buffers: still compute the right answer, slowly.
        bp_sgemm_small(job->trans_a, job->trans_b, i1 - i0, j1 - j0, job->k, job->alpha,
                       job->trans_a ? job->a + i0 : job->a + i0 * job->lda, job->lda,
                       job->trans_b ? job->b + j0 * job->ldb : job->b + j0, job->ldb,
                       job->beta, job->c + i0 * job->ldc + j0, job->ldc);
        bp_gemm_epilogue_apply(job->level, job->epi, job->c, job->ldc, i0, i1, j0, j1);
        if (sums != NULL) {
            bp_sum_columns_range(job->level, job->b, job->k, job->n, sums, job->sums_accumulate, j0, j1);
        }
        return;
    }
    if (sums != NULL && !job->sums_accumulate) {
        for (long j = j0; j < j1; j++) sums[j] = 0.0f;
    }
    for (long col_block = 0; col_block < col_blocks; col_block++) {
        long c0, c1;
        column_block(cfg, j1 - j0, col_blocks, col_block, &c0, &c1);
        long jc = j0 + c0, nc = c1 - c0;
        for (long pc = 0; pc < job->k; pc += kc_max) {
            long kc = min_long(kc_max, job->k - pc);
            float beta = pc == 0 ? job->beta : 1.0f;
            bp_pack_b(job->b, job->ldb, job->trans_b, pc, jc, kc, nc, nr_t, bp, sums != NULL ? sums + jc : NULL);
            for (long block = 0; block < row_blocks; block++) {
                long r0, r1;
                bp_chunk_range(i1 - i0, row_blocks, mr_t, block, &r0, &r1);
                long ic = i0 + r0, mc = r1 - r0;
                const float *a_block = ap;
                if (job->a_in_place) {
                    a_block = job->a + ic * job->lda + pc;  // A stored (m, k)
                } else {
                    bp_pack_a(job->a, job->lda, job->trans_a, ic, pc, mc, kc, mr_t, ap);
                }
                block_pair block = {a_block, bp, ic, mc, jc, nc, kc, beta, pc + kc == job->k};
                if (cfg->b_panel_in_l1) {
                    for (long jr = 0; jr < nc; jr += nr_t) {
                        for (long ir = 0; ir < mc; ir += mr_t) run_tile(job, &block, ir, jr);
                    }
                } else {
                    for (long ir = 0; ir < mc; ir += mr_t) {
                        for (long jr = 0; jr < nc; jr += nr_t) run_tile(job, &block, ir, jr);
                    }
                }
            }
        }
    }
}

static void gemm_task(void *ctx, long task) {
    const gemm_job *job = ctx;
    long i0, i1, j0, j1;
    bp_chunk_range(job->m, job->parts_m, job->cfg->mr, task / job->parts_n, &i0, &i1);
    bp_chunk_range(job->n, job->parts_n, job->cfg->nr, task % job->parts_n, &j0, &j1);
    if (i0 < i1 && j0 < j1) gemm_block(job, i0, i1, j0, j1);
}

/// Chooses a parts_m x parts_n grid of tasks over C. Splitting n makes each part pack its own
/// copy of the rows of A it needs, splitting m repacks B: the extra cost, relative to the
/// m n k multiply-adds, is about GRID_COPY_COST ((pm - 1) / m + (pn - 1) / n). Prefer 4 tasks
/// per thread (claimed dynamically, so a thread descheduled on a busy machine leaves its share
/// to the others) while that stays under 3%, else 2 per thread, else one each; among grids of
/// a size, the least copying wins.
/// GRID_COPY_COST was 8 (a packed float ~1 cycle, a multiply-add 1/16), which chose 2 tasks per
/// thread for m = 1024 or n = 784 on 2 threads. Measured on AMD EPYC Zen 3 (AVX2), in-process,
/// ABBA rounds: one task per thread was 1.10x faster at 1024x256x784 (batch-1024 inference's
/// first layer), 1.06x at 1024x128x256, 1.07-1.09x at the NT 512x784x256 and level (0.99-1.01)
/// on the other MLP and square shapes, on a busy host: the repacked blocks also leave the
/// caches, so each extra part costs about 50 multiply-adds per copied float, not 8.
enum { GRID_COPY_COST = 48 };
static void choose_grid(gemm_job *job, int threads) {
    long tiles_m = (job->m + job->cfg->mr - 1) / job->cfg->mr;
    long tiles_n = (job->n + job->cfg->nr - 1) / job->cfg->nr;
    job->parts_m = job->parts_n = 1;
    if (threads <= 1) return;
    for (int per_thread = 4; per_thread >= 1; per_thread /= 2) {
        long tasks = (long)threads * per_thread;
        double best = INFINITY;
        job->parts_m = job->parts_n = 1;
        for (long pm = 1; pm <= tasks; pm++) {
            if (tasks % pm != 0) continue;
            long pn = tasks / pm;
            if (pm > tiles_m || pn > tiles_n) continue;
            double extra = (double)(pm - 1) / (double)job->m + (double)(pn - 1) / (double)job->n;
            if (extra < best) {
                best = extra;
                job->parts_m = pm;
                job->parts_n = pn;
            }
        }
        if (best < INFINITY && (GRID_COPY_COST * best <= 0.03 || per_thread == 1)) return;
    }
}

// Read A in place only for tasks at most this many NR panels wide, and only when A's row stride
// (in floats) is not a multiple of the second (see a_in_place_pays).
enum { A_IN_PLACE_MAX_PANELS = 16, A_ROW_STRIDE_ALIASING = 512 };

/// Whether the microkernel should read A in place rather than from packed panels. Packing
/// A costs one copy of each element per task and pays for itself through reuse: each packed
/// element then meets every NR-wide micro-panel of B in the task's columns. At 16 micro-panels
/// or fewer (the MLP's 128- and 256-wide layers; 2-thread grids that split n, which make each
/// task pack the same rows of A) the copy costs more than it saves. A must be stored (m, k),
/// and its row stride must not be a multiple of 2 KB: such rows all fall into the same few L1
/// sets and evict the L1-resident micro-panel of B.
/// Measured on AMD EPYC Zen 3 (AVX2), best of 41 calls, interleaved rounds: 128x256x784,
/// 128x128x256 and the NT 128x256x128 3-6% faster on 2 threads; 512^3 and 1024^3 (wide, rows
/// 2 and 4 KB apart) 4-5% slower in place, so they keep packing.
static int a_in_place_pays(const gemm_job *job) {
    if (job->trans_a || job->cfg->kernel_a_in_place == NULL) return 0;
    long task_width = (job->n + job->parts_n - 1) / job->parts_n;
    long panels = (task_width + job->cfg->nr - 1) / job->cfg->nr;
    return panels <= A_IN_PLACE_MAX_PANELS && job->lda % A_ROW_STRIDE_ALIASING != 0;
}

static const bp_gemm_config *config_for_level(int level) {
    int supported = bp_simd_level_supported();
    return bp_gemm_config_for(level < supported ? level : supported);
}

/// C = beta C without reading C when beta == 0 (the k == 0 or alpha == 0 case).
static void scale_c(long m, long n, float beta, float *c, long ldc) {
    for (long i = 0; i < m; i++) {
        float *row = c + i * ldc;
        if (beta == 0.0f) {
            for (long j = 0; j < n; j++) row[j] = 0.0f;
        } else if (beta != 1.0f) {
            for (long j = 0; j < n; j++) row[j] *= beta;
        }
    }
}

/// Every path of bp_sgemm_with, with an optional fused write-back `epi`, for
/// bp_sgemm_blocked_with blocks other than the CPU's (`custom`, else NULL), and for
/// bp_sgemm_column_sums the column sums of B (`col_sums`, else NULL; B not transposed).
/// Returns whether the sums were taken (on the blocked grid path, while packing B); the
/// caller takes them otherwise.
static int sgemm_run(const bp_context *ctx, int path, int trans_a, int trans_b,
                     long m, long n, long k, float alpha, const float *a, long lda,
                     const float *b, long ldb, float beta, float *c, long ldc,
                     const bp_gemm_epilogue *epi, const bp_gemm_config *custom,
                     float *col_sums, int sums_accumulate) {
    if (m <= 0 || n <= 0) return 0;
    int level = bp_context_simd_level(ctx);
    if (k <= 0 || alpha == 0.0f) {
        scale_c(m, n, beta, c, ldc);
        bp_gemm_epilogue_apply(level, epi, c, ldc, 0, m, 0, n);
        return 0;
    }
    double mnk = (double)m * (double)n * (double)k;
    int threads = bp_context_threads(ctx);
    if (path == BP_GEMM_AUTO && m <= BP_GEMM_SKINNY_M && n > bp_gemm_narrow_width(level) &&
        bp_sgemm_skinny(level, threads, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, epi)) {
        return 0;
    }
    if (path == BP_GEMM_AUTO && mnk <= BP_GEMM_SMALL_MNK &&
        bp_sgemm_small_simd(level, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)) {
        bp_gemm_epilogue_apply(level, epi, c, ldc, 0, m, 0, n);
        return 0;
    }
    if (path == BP_GEMM_DIRECT || (path == BP_GEMM_AUTO && mnk <= BP_GEMM_SMALL_MNK)) {
        bp_sgemm_small(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        bp_gemm_epilogue_apply(level, epi, c, ldc, 0, m, 0, n);
        return 0;
    }
    long useful = (long)(2.0 * mnk / BP_GEMM_FLOPS_PER_THREAD);
    if (path == BP_GEMM_AUTO && useful < threads) threads = useful < 1 ? 1 : (int)useful;
    if (path == BP_GEMM_AUTO || path == BP_GEMM_NARROW) {
        if (bp_sgemm_narrow(level, threads, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb,
                            beta, c, ldc, epi)) {
            return 0;
        }
    }
    gemm_job job = {
        .cfg = custom != NULL ? custom : config_for_level(level),
        .trans_a = trans_a != 0, .trans_b = trans_b != 0,
        .m = m, .n = n, .k = k, .alpha = alpha, .beta = beta,
        .a = a, .b = b, .c = c, .lda = lda, .ldb = ldb, .ldc = ldc,
        .level = level, .epi = epi,
        .col_sums = trans_b ? NULL : col_sums, .sums_accumulate = sums_accumulate,
    };
    // Balanced KC blocks (784 with KC 384 -> 3 x 262 rather than 384 + 384 + 16), from k alone.
    // Two blocks of 392 (a B micro-panel 2% over its L1 share) measured 1.02x three of 262 on
    // Zen 3 (AVX2, 1 thread, 128x256x784 and 1024x256x784), against 1.01x for the same blocks
    // twice: not established, so KC stays a bound.
    long blocks = (k + job.cfg->kc - 1) / job.cfg->kc;
    job.kc_step = (k + blocks - 1) / blocks;

    // Shared-B is kept for explicit requests only: measured side by side on 2 threads, the
    // blocked grid matched or beat it on every MLP shape at batch 32, 128 and 512 (by up to 1.8x
    // at batch 32, where shared-B leaves one thread packing while the other waits).
    if (path == BP_GEMM_SHARED_B &&
        bp_sgemm_shared_b(job.cfg, level, threads, job.kc_step, job.trans_a, job.trans_b, m, n, k,
                          alpha, a, lda, b, ldb, beta, c, ldc, epi)) {
        return 0;
    }
    choose_grid(&job, threads);
    job.a_in_place = a_in_place_pays(&job);
    bp_parallel_for(job.parts_m * job.parts_n, threads, gemm_task, &job);
    return job.col_sums != NULL;
}

void bp_sgemm_with(const bp_context *ctx, int path, int trans_a, int trans_b,
                   long m, long n, long k, float alpha, const float *a, long lda,
                   const float *b, long ldb, float beta, float *c, long ldc) {
    sgemm_run(ctx, path, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, NULL, NULL, NULL, 0);
}

static long round_up(long x, long step) { return x < step ? step : (x + step - 1) / step * step; }

void bp_sgemm_blocked_with(const bp_context *ctx, const bp_gemm_blocks *blocks, int trans_a,
                           int trans_b, long m, long n, long k, float alpha, const float *a,
                           long lda, const float *b, long ldb, float beta, float *c, long ldc) {
    bp_gemm_config cfg = *config_for_level(bp_context_simd_level(ctx));
    // The tile is the microkernel's; the blocks are whole tiles (KC any depth >= 1).
    cfg.mc = round_up(blocks->mc, cfg.mr);
    cfg.nc = round_up(blocks->nc, cfg.nr);
    cfg.kc = blocks->kc < 1 ? 1 : blocks->kc;
    cfg.b_panel_in_l1 = blocks->b_panel_in_l1 != 0;
    sgemm_run(ctx, BP_GEMM_BLOCKED, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc,
              NULL, &cfg, NULL, 0);
}

void bp_sgemm_bias_activation(const bp_context *ctx, int path, int trans_a, int trans_b,
                              long m, long n, long k, const float *a, long lda,
                              const float *b, long ldb, const float *bias, int activation,
                              float *c, long ldc) {
    bp_gemm_epilogue epi = {.bias = bias, .activation = activation};
    int fused = bias != NULL || activation >= 0;
    sgemm_run(ctx, path, trans_a, trans_b, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc,
              fused ? &epi : NULL, NULL, NULL, 0);
}

void bp_sgemm_activation_backward(const bp_context *ctx, int path, int trans_a, int trans_b,
                                  long m, long n, long k, const float *a, long lda,
                                  const float *b, long ldb, int activation, const float *y,
                                  long ldy, float *c, long ldc) {
    bp_gemm_epilogue epi = {.activation = activation, .mask_y = y, .ldy = ldy};
    sgemm_run(ctx, path, trans_a, trans_b, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc, &epi, NULL, NULL, 0);
}

void bp_sgemm_column_sums(const bp_context *ctx, int path, int trans_a, long m, long n, long k,
                          const float *a, long lda, const float *b, float beta, float *c, long ldc,
                          float *sums, int accumulate) {
    if (n <= 0) return;
    if (!sgemm_run(ctx, path, trans_a, 0, m, n, k, 1.0f, a, lda, b, n, beta, c, ldc, NULL, NULL,
                   sums, accumulate)) {
        bp_sum_columns(ctx, b, k < 0 ? 0 : k, n, sums, accumulate);
    }
}

void bp_sgemm(const bp_context *ctx, int trans_a, int trans_b, long m, long n, long k, float alpha,
              const float *a, long lda, const float *b, long ldb,
              float beta, float *c, long ldc) {
    bp_sgemm_with(ctx, BP_GEMM_AUTO, trans_a, trans_b,
                  m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
