// vector_ops.c: fill, copy, scale and sum of squares. These are memory streams the compiler
// vectorizes at -O2; only the sum of squares is reduced, over fixed chunks added in order so
// it does not depend on the thread count.
#include <string.h>

#include "internal.h"

// x: (n).
void bp_fill(const bp_context *ctx, float *x, float value, long n) {
    (void)ctx;  // a memory stream: one thread saturates it
    for (long i = 0; i < n; i++) x[i] = value;
}

// src, dst: (n), not overlapping.
void bp_copy(const bp_context *ctx, const float *src, float *dst, long n) {
    (void)ctx;
    if (n > 0) memcpy(dst, src, (size_t)n * sizeof(float));
}

// x: (n).
void bp_scale(const bp_context *ctx, float *x, float s, long n) {
    (void)ctx;
    for (long i = 0; i < n; i++) x[i] *= s;
}

// a, b, y: (n); y may be a or b (each element is read before it is written).
void bp_multiply(const bp_context *ctx, const float *a, const float *b, float *y, long n) {
    (void)ctx;  // a memory stream, as bp_scale
    for (long i = 0; i < n; i++) y[i] = a[i] * b[i];
}

typedef struct {
    const float *x;
    long n, chunks;
    double partial[BP_REDUCE_CHUNKS];
} squares_job;

static void squares_task(void *ctx, long task) {
    squares_job *job = ctx;
    long i0, i1;
    bp_chunk_range(job->n, job->chunks, 1, task, &i0, &i1);
    double total = 0.0;
    for (long i = i0; i < i1; i++) total += (double)job->x[i] * (double)job->x[i];
    job->partial[task] = total;
}

// x: (n).
double bp_sum_squares(const bp_context *ctx, const float *x, long n) {
    if (n <= 0) return 0.0;
    squares_job job = {.x = x, .n = n};
    job.chunks = n < BP_REDUCE_CHUNKS ? n : BP_REDUCE_CHUNKS;
    bp_parallel_for(job.chunks, bp_threads_for(ctx, (double)n), squares_task, &job);
    double total = 0.0;
    for (long i = 0; i < job.chunks; i++) total += job.partial[i];
    return total;
}
