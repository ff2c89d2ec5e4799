// gemm_shared_b.c: the SGEMM schedule for moderate problems (all of packed op(B) fits in a
// few MB: every MLP layer), where splitting C into one rectangle per thread would make the
// threads repack the same operand and a descheduled thread would stall the others.
//
//   1. pack all of op(B): (k, n) -> KC blocks x NR panels, in parallel over panels;
//   2. parallel over blocks of rows of C (many more tasks than threads, claimed dynamically):
//      each task packs only its own rows of op(A), then runs the microkernel over all of n.
// The KC blocking, microkernel and write-back are those of the blocked path, so every element
// of C sees the same operations for any thread count (and as on the blocked path).
#include "gemm_internal.h"
#include "internal.h"

// Packed op(B) up to this many floats (4 MB) takes this schedule.
#define BP_SHARED_B_MAX_FLOATS (1L << 20)
// Below this many floats op(B) is packed by the calling thread alone.
#define BP_SHARED_B_SERIAL_PACK (1L << 16)

typedef struct {
    const bp_gemm_config *cfg;
    int trans_a, trans_b;
    long m, n, k, kc_step, n_pad, row_tasks;
    float alpha, beta;
    const float *a, *b;
    float *c, *bp;
    long lda, ldb, ldc;
    int level;
    const bp_gemm_epilogue *epi;
} shared_job;

static long min_long(long x, long y) { return x < y ? x : y; }

// Task j packs NR panel j of every KC block: bp block q starts at q * kc_step * n_pad.
static void pack_b_task(void *ctx, long j) {
    const shared_job *job = ctx;
    long nr_t = job->cfg->nr, j0 = j * nr_t, nr = min_long(nr_t, job->n - j0);
    for (long pc = 0, q = 0; pc < job->k; pc += job->kc_step, q++) {
        long kc = min_long(job->kc_step, job->k - pc);
        float *block = job->bp + q * job->kc_step * job->n_pad;
        bp_pack_b(job->b, job->ldb, job->trans_b, pc, j0, kc, nr, nr_t, block + j0 * kc, NULL);
    }
}

// Task t owns rows [i0, i1) of C (cut at multiples of MR).
static void rows_task(void *ctx, long t) {
    const shared_job *job = ctx;
    const bp_gemm_config *cfg = job->cfg;
    long i0, i1;
    bp_chunk_range(job->m, job->row_tasks, cfg->mr, t, &i0, &i1);
    if (i0 >= i1) return;
    long rows_pad = ((i1 - i0 + cfg->mr - 1) / cfg->mr) * cfg->mr;
    float *ap = bp_thread_scratch(0, (size_t)(rows_pad * job->kc_step));
    if (ap == NULL) {
        // Out of memory for the A panel: still compute the right answer, slowly.
        bp_sgemm_small(job->trans_a, job->trans_b, i1 - i0, job->n, job->k, job->alpha,
                       job->trans_a ? job->a + i0 : job->a + i0 * job->lda, job->lda,
                       job->b, job->ldb, job->beta, job->c + i0 * job->ldc, job->ldc);
        bp_gemm_epilogue_apply(job->level, job->epi, job->c, job->ldc, i0, i1, 0, job->n);
        return;
    }
    for (long pc = 0, q = 0; pc < job->k; pc += job->kc_step, q++) {
        long kc = min_long(job->kc_step, job->k - pc);
        float beta = pc == 0 ? job->beta : 1.0f;
        const float *block = job->bp + q * job->kc_step * job->n_pad;
        bp_pack_a(job->a, job->lda, job->trans_a, i0, pc, i1 - i0, kc, cfg->mr, ap);
        for (long ir = 0; ir < i1 - i0; ir += cfg->mr) {
            long mr = min_long(cfg->mr, i1 - i0 - ir);
            float *c_row = job->c + (i0 + ir) * job->ldc;
            for (long jr = 0; jr < job->n; jr += cfg->nr) {
                long nr = min_long(cfg->nr, job->n - jr);
                cfg->kernel(kc, ap + ir * kc, block + jr * kc, c_row + jr, job->ldc,
                            job->alpha, beta, mr, nr);
                if (pc + kc == job->k) {
                    bp_gemm_epilogue_apply(job->level, job->epi, job->c, job->ldc, i0 + ir,
                                           i0 + ir + mr, jr, jr + nr);
                }
            }
        }
    }
}

int bp_sgemm_shared_b(const bp_gemm_config *cfg, int level, int threads, long kc_step, int trans_a,
                      int trans_b, long m, long n, long k, float alpha, const float *a, long lda,
                      const float *b, long ldb, float beta, float *c, long ldc,
                      const bp_gemm_epilogue *epi) {
    long panels = (n + cfg->nr - 1) / cfg->nr;
    long n_pad = panels * cfg->nr;
    if (k * n_pad > BP_SHARED_B_MAX_FLOATS) return 0;
    float *bp = bp_thread_scratch(3, (size_t)(k * n_pad));
    if (bp == NULL) return 0;
    shared_job job = {
        .cfg = cfg, .trans_a = trans_a, .trans_b = trans_b, .m = m, .n = n, .k = k,
        .kc_step = kc_step, .n_pad = n_pad, .alpha = alpha, .beta = beta,
        .a = a, .b = b, .c = c, .bp = bp, .lda = lda, .ldb = ldb, .ldc = ldc,
        .level = level, .epi = epi,
    };
    // Packing a small B costs less than waking the team twice (each fork/join also waits for
    // every worker to be scheduled, which on a busy machine can take a time slice).
    bp_parallel_for(panels, k * n_pad < BP_SHARED_B_SERIAL_PACK ? 1 : threads, pack_b_task, &job);
    // Several row blocks per thread, each at most MC rows, so a thread that is descheduled
    // on a busy machine leaves its share to the others.
    long row_blocks = (m + cfg->mr - 1) / cfg->mr;
    long tasks = threads > 1 ? 4L * threads : 1;
    long by_mc = (m + cfg->mc - 1) / cfg->mc;
    if (tasks < by_mc) tasks = by_mc;
    job.row_tasks = min_long(tasks, row_blocks);
    bp_parallel_for(job.row_tasks, threads, rows_task, &job);
    return 1;
}
