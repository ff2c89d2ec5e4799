// rowcol.c: bias add (threads own rows), column sums (threads own columns, so each column is
// summed in row order whatever the thread count) and row argmax.
#include <stdint.h>

#define BP_SIMD_BODY "rowcol_body.h"
#include "simd_instantiate.h"

typedef struct {
    void (*add_bias)(float *, const float *, long, long, long);
    void (*sum_columns)(const float *, long, long, float *, int, long, long);
    float *x;
    const float *cx, *bias;
    float *out;
    long rows, cols, parts;
    int accumulate;
} rowcol_job;

static void bias_task(void *ctx, long task) {
    const rowcol_job *job = ctx;
    long r0, r1;
    bp_chunk_range(job->rows, job->parts, 1, task, &r0, &r1);
    job->add_bias(job->x, job->bias, job->cols, r0, r1);
}

// x: (rows, cols), bias: (cols).
void bp_add_bias(const bp_context *ctx, float *x, const float *bias, long rows, long cols) {
    if (rows <= 0 || cols <= 0) return;
    int threads = bp_threads_for(ctx, (double)rows * (double)cols);
    rowcol_job job = {.add_bias = BP_DISPATCH(bp_context_simd_level(ctx), add_bias_rows),
                      .x = x, .bias = bias, .rows = rows, .cols = cols};
    job.parts = rows < threads ? rows : threads;
    bp_parallel_for(job.parts, (int)job.parts, bias_task, &job);
}

static void sum_task(void *ctx, long task) {
    const rowcol_job *job = ctx;
    long c0, c1;
    bp_chunk_range(job->cols, job->parts, BP_ELEMENT_ALIGN, task, &c0, &c1);
    if (c0 < c1) job->sum_columns(job->cx, job->rows, job->cols, job->out, job->accumulate, c0, c1);
}

void bp_sum_columns_range(int level, const float *x, long rows, long cols, float *out, int accumulate,
                          long c0, long c1) {
    BP_DISPATCH(level, sum_columns_range)(x, rows, cols, out, accumulate, c0, c1);
}

// x: (rows, cols) -> out: (cols).
void bp_sum_columns(const bp_context *ctx, const float *x, long rows, long cols, float *out, int accumulate) {
    if (cols <= 0) return;
    int threads = bp_threads_for(ctx, (double)rows * (double)cols);
    long max_parts = (cols + BP_ELEMENT_ALIGN - 1) / BP_ELEMENT_ALIGN;
    rowcol_job job = {.sum_columns = BP_DISPATCH(bp_context_simd_level(ctx), sum_columns_range),
                      .cx = x, .out = out, .rows = rows < 0 ? 0 : rows, .cols = cols,
                      .accumulate = accumulate};
    job.parts = max_parts < threads ? max_parts : threads;
    bp_parallel_for(job.parts, (int)job.parts, sum_task, &job);
}

// x: (rows, cols) -> out: (rows). Naive and memory-bound: one pass per row.
void bp_argmax_rows(const bp_context *ctx, const float *x, long rows, long cols, int32_t *out) {
    (void)ctx;  // one pass, single-threaded
    for (long r = 0; r < rows; r++) {
        const float *row = x + r * cols;
        // NaN counts as the largest value and the first one wins (numpy, torch.argmax).
        long best = 0;
        for (long c = 1; c < cols && !isnan(row[best]); c++) {
            if (row[c] > row[best] || isnan(row[c])) best = c;
        }
        out[r] = (int32_t)best;
    }
}
