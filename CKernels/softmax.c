// softmax.c: bp_softmax_rows, row-wise softmax; threads own disjoint blocks of rows, so the
// result does not depend on the thread count.
#define BP_SIMD_BODY "softmax_body.h"
#include "simd_instantiate.h"

typedef struct {
    void (*rows)(const float *, float *, long, long, long);
    const float *x;
    float *y;
    long rows_total, cols, chunks;
} softmax_job;

static void softmax_task(void *ctx, long task) {
    const softmax_job *job = ctx;
    long r0, r1;
    bp_chunk_range(job->rows_total, job->chunks, 1, task, &r0, &r1);
    job->rows(job->x, job->y, job->cols, r0, r1);
}

// x, y: (rows, cols).
void bp_softmax_rows(const bp_context *ctx, const float *x, float *y, long rows, long cols) {
    if (rows <= 0 || cols <= 0) return;
    softmax_job job = {BP_DISPATCH(bp_context_simd_level(ctx), softmax_rows), x, y, rows, cols, 0};
    int threads = bp_threads_for(ctx, (double)rows * (double)cols * 4.0);
    job.chunks = rows < threads * 8 ? rows : threads * 8;
    bp_parallel_for(job.chunks, threads, softmax_task, &job);
}
