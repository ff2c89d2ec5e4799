// gemm_skinny.c: dispatch of the few-rows SGEMM path (see gemm_skinny_body.h). Threads own
// disjoint blocks of columns of C, so results do not depend on the thread count.
#define BP_SIMD_BODY "gemm_skinny_body.h"
#include "simd_instantiate.h"

#include "gemm_internal.h"

// Below this many multiply-adds one thread does it all. Batch-1 inference (x·W1: 200,704) stays on
// one thread: measured on the loaded shared machine, 2 threads took 7.0 us when the second
// thread ran at once but ~50 us when it had to wait for a time slice, against 9.7 us on one.
#define BP_SKINNY_PARALLEL_MNK 262144.0

typedef struct {
    void (*cols)(long, long, const float *, long, long, const float *, long, float *, long, float, float, long, long);
    long m, n, k, rsa, csa, ldb, ldc, parts, align;
    const float *a, *b;
    float *c;
    float alpha, beta;
    int level;
    const bp_gemm_epilogue *epi;
} skinny_job;

static void skinny_task(void *ctx, long task) {
    const skinny_job *job = ctx;
    long j0, j1;
    bp_chunk_range(job->n, job->parts, job->align, task, &j0, &j1);
    if (j0 >= j1) return;
    job->cols(job->m, job->k, job->a, job->rsa, job->csa, job->b, job->ldb, job->c, job->ldc,
              job->alpha, job->beta, j0, j1);
    bp_gemm_epilogue_apply(job->level, job->epi, job->c, job->ldc, 0, job->m, j0, j1);
}

int bp_sgemm_skinny(int level, int threads, int trans_a, int trans_b, long m, long n, long k,
                    float alpha, const float *a, long lda, const float *b, long ldb,
                    float beta, float *c, long ldc, const bp_gemm_epilogue *epi) {
    long vector = level == BP_SIMD_AVX512 ? 16 : level == BP_SIMD_AVX2 ? 8 : 0;
    if (vector == 0 || trans_b || m > BP_GEMM_SKINNY_M) return 0;
    skinny_job job = {
        .cols = BP_DISPATCH(level, gemm_skinny_cols),
        .m = m, .n = n, .k = k, .rsa = trans_a ? 1 : lda, .csa = trans_a ? lda : 1,
        .ldb = ldb, .ldc = ldc, .align = BP_SKINNY_VECTORS * vector,
        .a = a, .b = b, .c = c, .alpha = alpha, .beta = beta, .level = level, .epi = epi,
    };
    long blocks = (n + job.align - 1) / job.align;
    double mnk = (double)m * (double)n * (double)k;
    long parts = mnk < BP_SKINNY_PARALLEL_MNK ? 1 : threads;
    job.parts = parts < blocks ? parts : blocks;
    bp_parallel_for(job.parts, (int)job.parts, skinny_task, &job);
    return 1;
}
