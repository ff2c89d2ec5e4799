// optimizers.c: bp_sgd_update and bp_adam_update (PyTorch semantics). Threads own disjoint
// ranges of the parameter vector; the result does not depend on the thread count.
#include <math.h>

/// Hyperparameters of one update, shared by every element.
typedef struct {
    float lr, momentum, weight_decay;
    int nesterov;
    // Adam only.
    float beta1, beta2, eps, correction1, correction2;
    int decoupled;
} bp_update_params;

#define BP_SIMD_BODY "optimizers_body.h"
#include "simd_instantiate.h"

typedef struct {
    void (*sgd)(float *, const float *, float *, const bp_update_params *, long, long);
    void (*adam)(float *, const float *, float *, float *, const bp_update_params *, long, long);
    float *param, *state1, *state2;
    const float *grad;
    bp_update_params h;
    long n, parts;
} update_job;

static void update_task(void *ctx, long task) {
    const update_job *job = ctx;
    long i0, i1;
    bp_chunk_range(job->n, job->parts, BP_ELEMENT_ALIGN, task, &i0, &i1);
    if (i0 >= i1) return;
    if (job->sgd) {
        job->sgd(job->param, job->grad, job->state1, &job->h, i0, i1);
    } else {
        job->adam(job->param, job->grad, job->state1, job->state2, &job->h, i0, i1);
    }
}

static void run(const bp_context *ctx, update_job *job, double work_per_element) {
    if (job->n <= 0) return;
    int threads = bp_threads_for(ctx, (double)job->n * work_per_element);
    job->parts = threads;
    bp_parallel_for(threads, threads, update_task, job);
}

// param, grad, velocity: (n).
void bp_sgd_update(const bp_context *ctx, float *param, const float *grad, float *velocity, long n,
                   float lr, float momentum, float weight_decay, int nesterov) {
    update_job job = {.sgd = BP_DISPATCH(bp_context_simd_level(ctx), sgd_range),
                      .param = param, .state1 = velocity, .grad = grad, .n = n};
    job.h.lr = lr;
    job.h.momentum = momentum;
    job.h.weight_decay = weight_decay;
    job.h.nesterov = nesterov;
    run(ctx, &job, 2.0);
}

// param, grad, m, v: (n).
void bp_adam_update(const bp_context *ctx, float *param, const float *grad, float *m, float *v, long n,
                    float lr, float beta1, float beta2, float eps, float weight_decay,
                    int decoupled, long step) {
    update_job job = {.adam = BP_DISPATCH(bp_context_simd_level(ctx), adam_range),
                      .param = param, .state1 = m, .state2 = v, .grad = grad, .n = n};
    job.h.lr = lr;
    job.h.weight_decay = weight_decay;
    job.h.beta1 = beta1;
    job.h.beta2 = beta2;
    job.h.eps = eps;
    job.h.decoupled = decoupled;
    // Bias corrections as the reference computes them: 1 - beta^step in float.
    job.h.correction1 = 1.0f - powf(beta1, (float)step);
    job.h.correction2 = 1.0f - powf(beta2, (float)step);
    run(ctx, &job, 8.0);
}
