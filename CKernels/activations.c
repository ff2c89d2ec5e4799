// activations.c: bp_activation_forward / bp_activation_backward. Threads own disjoint ranges
// cut at multiples of 64 floats; the result does not depend on the thread count.
#define BP_SIMD_BODY "activations_body.h"
#include "simd_instantiate.h"

typedef struct {
    void (*forward)(int, const float *, float *, long, long);
    void (*backward)(int, const float *, const float *, float *, long, long);
    int kind;
    const float *x, *dy;
    float *out;
    long n, parts;
} activation_job;

static void activation_task(void *ctx, long task) {
    const activation_job *job = ctx;
    long i0, i1;
    bp_chunk_range(job->n, job->parts, BP_ELEMENT_ALIGN, task, &i0, &i1);
    if (i0 >= i1) return;
    if (job->forward) {
        job->forward(job->kind, job->x, job->out, i0, i1);
    } else {
        job->backward(job->kind, job->x, job->dy, job->out, i0, i1);
    }
}

static void run(const bp_context *ctx, activation_job *job) {
    if (job->n <= 0) return;
    // Sigmoid and tanh cost an exp per element, ReLU is a memory stream.
    double work = (double)job->n * (job->kind == BP_RELU ? 1.0 : 8.0);
    int threads = bp_threads_for(ctx, work);
    job->parts = threads;
    bp_parallel_for(threads, threads, activation_task, job);
}

// x, y: (n).
void bp_activation_forward(const bp_context *ctx, int kind, const float *x, float *y, long n) {
    activation_job job = {.forward = BP_DISPATCH(bp_context_simd_level(ctx), activation_forward_range),
                          .kind = kind, .x = x, .out = y, .n = n};
    run(ctx, &job);
}

// y, dy, dx: (n).
void bp_activation_backward(const bp_context *ctx, int kind, const float *y, const float *dy, float *dx, long n) {
    activation_job job = {.backward = BP_DISPATCH(bp_context_simd_level(ctx), activation_backward_range),
                          .kind = kind, .x = y, .dy = dy, .out = dx, .n = n};
    run(ctx, &job);
}
