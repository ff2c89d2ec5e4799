// losses.c: squared error and binary cross-entropy on logits. Elementwise, with the loss
// reduced over fixed chunks (a function of n only) whose partial sums are added in order, so
// the loss is the same for every thread count.
#include <math.h>

#include "internal.h"

typedef struct {
    int bce;
    const float *y, *t;
    float *grad;
    float scale;
    long n, chunks;
    double partial[BP_REDUCE_CHUNKS];
} loss_job;

// y, t, grad: (n) over [i0, i1).
static double mse_range(const float *y, const float *t, float *grad, float scale, long i0, long i1) {
    double total = 0.0;
    for (long i = i0; i < i1; i++) {
        float d = y[i] - t[i];
        total += (double)(d * d);
        grad[i] = 2.0f * d * scale;
    }
    return total;
}

// z, t, grad: (n) over [i0, i1). max(z, 0) - z t + log(1 + e^-|z|) never overflows.
static double bce_range(const float *z, const float *t, float *grad, float scale, long i0, long i1) {
    double total = 0.0;
    for (long i = i0; i < i1; i++) {
        float zi = z[i];
        total += (double)(fmaxf(zi, 0.0f) - zi * t[i] + log1pf(expf(-fabsf(zi))));
        float s;
        if (zi >= 0.0f) {
            s = 1.0f / (1.0f + expf(-zi));
        } else {
            float e = expf(zi);
            s = e / (1.0f + e);
        }
        grad[i] = (s - t[i]) * scale;
    }
    return total;
}

static void loss_task(void *ctx, long task) {
    loss_job *job = ctx;
    long i0, i1;
    bp_chunk_range(job->n, job->chunks, 1, task, &i0, &i1);
    job->partial[task] = job->bce ? bce_range(job->y, job->t, job->grad, job->scale, i0, i1)
                                  : mse_range(job->y, job->t, job->grad, job->scale, i0, i1);
}

static double run(const bp_context *ctx, loss_job *job) {
    if (job->n <= 0) return 0.0;
    job->chunks = job->n < BP_REDUCE_CHUNKS ? job->n : BP_REDUCE_CHUNKS;
    int threads = bp_threads_for(ctx, (double)job->n * (job->bce ? 16.0 : 1.0));
    bp_parallel_for(job->chunks, threads, loss_task, job);
    double total = 0.0;
    for (long i = 0; i < job->chunks; i++) total += job->partial[i];
    return total;
}

// y, t, grad: (n).
double bp_mse(const bp_context *ctx, const float *y, const float *t, long n, float *grad, float scale) {
    loss_job job = {.bce = 0, .y = y, .t = t, .grad = grad, .scale = scale, .n = n};
    return run(ctx, &job);
}

// z, t, grad: (n).
double bp_bce_logits(const bp_context *ctx, const float *z, const float *t, long n, float *grad, float scale) {
    loss_job job = {.bce = 1, .y = z, .t = t, .grad = grad, .scale = scale, .n = n};
    return run(ctx, &job);
}
