// softmax_xent.c: fused softmax + cross-entropy (integer labels or probability targets).
// Rows are cut into fixed chunks (a function of the row count only); each chunk's loss is a
// partial sum and the partials are added in chunk order, so the loss is the same for every
// thread count.
#include <stdint.h>

#define BP_SIMD_BODY "softmax_xent_body.h"
#include "simd_instantiate.h"

typedef struct {
    double (*labels_rows)(const float *, const int32_t *, long, float *, float, long, long);
    double (*probs_rows)(const float *, const float *, long, float *, float, long, long);
    const float *logits, *targets;
    const int32_t *labels;
    float *grad;
    float scale;
    long rows, cols, chunks;
    double partial[BP_REDUCE_CHUNKS];
} xent_job;

static void xent_task(void *ctx, long task) {
    xent_job *job = ctx;
    long r0, r1;
    bp_chunk_range(job->rows, job->chunks, 1, task, &r0, &r1);
    job->partial[task] = job->labels
        ? job->labels_rows(job->logits, job->labels, job->cols, job->grad, job->scale, r0, r1)
        : job->probs_rows(job->logits, job->targets, job->cols, job->grad, job->scale, r0, r1);
}

static double run(const bp_context *ctx, xent_job *job) {
    if (job->rows <= 0 || job->cols <= 0) return 0.0;
    job->chunks = job->rows < BP_REDUCE_CHUNKS ? job->rows : BP_REDUCE_CHUNKS;
    int threads = bp_threads_for(ctx, (double)job->rows * (double)job->cols * 4.0);
    bp_parallel_for(job->chunks, threads, xent_task, job);
    double total = 0.0;
    for (long i = 0; i < job->chunks; i++) total += job->partial[i];
    return total;
}

// logits, grad: (rows, cols), labels: (rows).
double bp_softmax_xent_labels(const bp_context *ctx, const float *logits, const int32_t *labels, long rows, long cols,
                              float *grad, float scale) {
    int level = bp_context_simd_level(ctx);
    xent_job job = {
        .labels_rows = BP_DISPATCH(level, xent_labels_rows), .logits = logits, .labels = labels,
        .grad = grad, .scale = scale, .rows = rows, .cols = cols,
    };
    return run(ctx, &job);
}

// logits, targets, grad: (rows, cols).
double bp_softmax_xent_probs(const bp_context *ctx, const float *logits, const float *targets, long rows, long cols,
                             float *grad, float scale) {
    int level = bp_context_simd_level(ctx);
    xent_job job = {
        .probs_rows = BP_DISPATCH(level, xent_probs_rows), .logits = logits, .targets = targets,
        .grad = grad, .scale = scale, .rows = rows, .cols = cols,
    };
    return run(ctx, &job);
}
