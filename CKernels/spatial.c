// spatial.c: image kernels (NCHW) for convolution, pooling and batch norm. Each kernel splits
// its work into tasks that write disjoint memory (a plane, a channel), run through the one
// parallel-for helper, so results never depend on the thread count. The loops are written so
// the compiler vectorizes the inner rows; convolution arithmetic itself is the SGEMM.
#include <math.h>
#include <string.h>

#include "backprop_spatial.h"
#include "internal.h"

static long out_h(const bp_window2d *w) { return (w->height + 2 * w->padding - w->kernel_h) / w->stride + 1; }
static long out_w(const bp_window2d *w) { return (w->width + 2 * w->padding - w->kernel_w) / w->stride + 1; }

/// Threads for `work` elements under the context's limit.
static int threads_for(const bp_context *ctx, double work) { return bp_threads_for(ctx, work); }

// ---- im2col / col2im: one task per (sample, channel) ----

struct patch_job {
    const float *x;
    float *col;
    const bp_window2d *w;
    long batch;
};

// x[n, c]: (H, W) -> col rows c·kh·kw ..< (c+1)·kh·kw, columns n·oh·ow ..< (n+1)·oh·ow
static void im2col_task(void *data, long task) {
    const struct patch_job *job = data;
    const bp_window2d *w = job->w;
    long oh = out_h(w), ow = out_w(w), c = task % w->channels, n = task / w->channels;
    long row_stride = job->batch * oh * ow;
    const float *plane = job->x + (n * w->channels + c) * w->height * w->width;
    float *rows = job->col + c * w->kernel_h * w->kernel_w * row_stride + n * oh * ow;
    for (long i = 0; i < w->kernel_h; i++) {
        for (long j = 0; j < w->kernel_w; j++) {
            float *out = rows + (i * w->kernel_w + j) * row_stride;
            for (long oy = 0; oy < oh; oy++) {
                long iy = oy * w->stride + i - w->padding;
                float *dst = out + oy * ow;
                if (iy < 0 || iy >= w->height) {
                    memset(dst, 0, (size_t)ow * sizeof(float));
                    continue;
                }
                const float *src = plane + iy * w->width;
                if (w->stride == 1) {
                    // ix = ox + j − p: copy the inside run, zero the edges.
                    // ix = ox + j − p is inside for ox in [lo, hi): zero, copy, zero.
                    long lo = w->padding - j, hi = w->width + w->padding - j;
                    if (lo < 0) lo = 0;
                    if (lo > ow) lo = ow;
                    if (hi > ow) hi = ow;
                    if (hi < lo) hi = lo;
                    for (long ox = 0; ox < lo; ox++) dst[ox] = 0;
                    if (hi > lo) memcpy(dst + lo, src + lo + j - w->padding, (size_t)(hi - lo) * sizeof(float));
                    for (long ox = hi; ox < ow; ox++) dst[ox] = 0;
                } else {
                    for (long ox = 0; ox < ow; ox++) {
                        long ix = ox * w->stride + j - w->padding;
                        dst[ox] = ix >= 0 && ix < w->width ? src[ix] : 0.0f;
                    }
                }
            }
        }
    }
}

void bp_im2col(const bp_context *ctx, const float *x, long batch, const bp_window2d *w, float *col) {
    struct patch_job job = {x, col, w, batch};
    double work = (double)batch * w->channels * w->kernel_h * w->kernel_w * out_h(w) * out_w(w);
    bp_parallel_for(batch * w->channels, threads_for(ctx, work), im2col_task, &job);
}

// col rows of channel c, columns of sample n -> dx[n, c]: (H, W)
static void col2im_task(void *data, long task) {
    const struct patch_job *job = data;
    const bp_window2d *w = job->w;
    long oh = out_h(w), ow = out_w(w), c = task % w->channels, n = task / w->channels;
    long row_stride = job->batch * oh * ow;
    float *plane = job->col + (n * w->channels + c) * w->height * w->width;  // job->col is dx here
    const float *rows = job->x + c * w->kernel_h * w->kernel_w * row_stride + n * oh * ow;
    memset(plane, 0, (size_t)(w->height * w->width) * sizeof(float));
    for (long i = 0; i < w->kernel_h; i++) {
        for (long j = 0; j < w->kernel_w; j++) {
            const float *source = rows + (i * w->kernel_w + j) * row_stride;
            for (long oy = 0; oy < oh; oy++) {
                long iy = oy * w->stride + i - w->padding;
                if (iy < 0 || iy >= w->height) continue;
                float *dst = plane + iy * w->width;
                const float *src = source + oy * ow;
                for (long ox = 0; ox < ow; ox++) {
                    long ix = ox * w->stride + j - w->padding;
                    if (ix >= 0 && ix < w->width) dst[ix] += src[ox];
                }
            }
        }
    }
}

void bp_col2im(const bp_context *ctx, const float *col, long batch, const bp_window2d *w, float *dx) {
    struct patch_job job = {col, dx, w, batch};
    double work = (double)batch * w->channels * w->kernel_h * w->kernel_w * out_h(w) * out_w(w);
    bp_parallel_for(batch * w->channels, threads_for(ctx, work), col2im_task, &job);
}

// ---- swapping the two leading axes: one task per source row block ----

struct swap_job {
    const float *x;
    float *y;
    long a, b, inner;
};

// x[i, :, :] -> y[:, i, :]
static void swap_task(void *data, long i) {
    const struct swap_job *job = data;
    for (long j = 0; j < job->b; j++) {
        memcpy(job->y + (j * job->a + i) * job->inner, job->x + (i * job->b + j) * job->inner,
               (size_t)job->inner * sizeof(float));
    }
}

void bp_swap_leading_axes(const bp_context *ctx, const float *x, long a, long b, long inner, float *y) {
    struct swap_job job = {x, y, a, b, inner};
    bp_parallel_for(a, threads_for(ctx, (double)a * b * inner), swap_task, &job);
}

// ---- pooling: one task per block of planes ----

enum { PLANES_PER_TASK = 16 };

struct pool_job {
    const float *in;
    float *out;
    int32_t *argmax;
    const int32_t *argmax_in;
    long planes;
    const bp_window2d *w;
};

// v replaces the running maximum when larger, or when it is the first NaN (PyTorch's rule).
static inline int max_candidate_wins(float v, float best) { return v > best || (v != v && best == best); }

// The 2×2, stride 2, unpadded window (LeNet's pools): four candidates per output, no bounds checks.
static void maxpool2x2_plane(const float *plane, long width, long oh, long ow, float *out, int32_t *argmax) {
    for (long oy = 0; oy < oh; oy++) {
        const float *r0 = plane + 2 * oy * width, *r1 = r0 + width;
        for (long ox = 0; ox < ow; ox++) {
            long base = 2 * oy * width + 2 * ox;
            float best = r0[2 * ox];
            long index = base;
            if (max_candidate_wins(r0[2 * ox + 1], best)) { best = r0[2 * ox + 1]; index = base + 1; }
            if (max_candidate_wins(r1[2 * ox], best)) { best = r1[2 * ox]; index = base + width; }
            if (max_candidate_wins(r1[2 * ox + 1], best)) { best = r1[2 * ox + 1]; index = base + width + 1; }
            out[oy * ow + ox] = best;
            argmax[oy * ow + ox] = (int32_t)index;
        }
    }
}

static void maxpool_forward_task(void *data, long task) {
    const struct pool_job *job = data;
    const bp_window2d *w = job->w;
    long oh = out_h(w), ow = out_w(w);
    long end = (task + 1) * PLANES_PER_TASK < job->planes ? (task + 1) * PLANES_PER_TASK : job->planes;
    int two_by_two = w->kernel_h == 2 && w->kernel_w == 2 && w->stride == 2 && w->padding == 0;
    for (long p = task * PLANES_PER_TASK; p < end; p++) {
        const float *plane = job->in + p * w->height * w->width;
        if (two_by_two) {
            maxpool2x2_plane(plane, w->width, oh, ow, job->out + p * oh * ow, job->argmax + p * oh * ow);
            continue;
        }
        for (long oy = 0; oy < oh; oy++) {
            for (long ox = 0; ox < ow; ox++) {
                float best = -INFINITY;
                long best_index = -1;
                for (long i = 0; i < w->kernel_h; i++) {
                    long iy = oy * w->stride + i - w->padding;
                    if (iy < 0 || iy >= w->height) continue;
                    for (long j = 0; j < w->kernel_w; j++) {
                        long ix = ox * w->stride + j - w->padding;
                        if (ix < 0 || ix >= w->width) continue;
                        float v = plane[iy * w->width + ix];
                        if (best_index < 0 || max_candidate_wins(v, best)) {
                            best = v;
                            best_index = iy * w->width + ix;
                        }
                    }
                }
                long o = (p * oh + oy) * ow + ox;
                job->out[o] = best;
                job->argmax[o] = (int32_t)(best_index < 0 ? 0 : best_index);
            }
        }
    }
}

void bp_maxpool2d_forward(const bp_context *ctx, const float *x, long planes, const bp_window2d *w,
                          float *y, int32_t *argmax) {
    struct pool_job job = {x, y, argmax, NULL, planes, w};
    double work = (double)planes * out_h(w) * out_w(w) * w->kernel_h * w->kernel_w;
    bp_parallel_for((planes + PLANES_PER_TASK - 1) / PLANES_PER_TASK, threads_for(ctx, work), maxpool_forward_task, &job);
}

static void maxpool_backward_task(void *data, long task) {
    const struct pool_job *job = data;
    const bp_window2d *w = job->w;
    long outs = out_h(w) * out_w(w), ins = w->height * w->width;
    long end = (task + 1) * PLANES_PER_TASK < job->planes ? (task + 1) * PLANES_PER_TASK : job->planes;
    for (long p = task * PLANES_PER_TASK; p < end; p++) {
        float *plane = job->out + p * ins;
        memset(plane, 0, (size_t)ins * sizeof(float));
        for (long o = 0; o < outs; o++) plane[job->argmax_in[p * outs + o]] += job->in[p * outs + o];
    }
}

void bp_maxpool2d_backward(const bp_context *ctx, const float *dy, const int32_t *argmax, long planes,
                           const bp_window2d *w, float *dx) {
    struct pool_job job = {dy, dx, NULL, argmax, planes, w};
    double work = (double)planes * w->height * w->width;
    bp_parallel_for((planes + PLANES_PER_TASK - 1) / PLANES_PER_TASK, threads_for(ctx, work), maxpool_backward_task, &job);
}

static void avgpool_forward_task(void *data, long task) {
    const struct pool_job *job = data;
    const bp_window2d *w = job->w;
    long oh = out_h(w), ow = out_w(w);
    float scale = 1.0f / (float)(w->kernel_h * w->kernel_w);
    long end = (task + 1) * PLANES_PER_TASK < job->planes ? (task + 1) * PLANES_PER_TASK : job->planes;
    for (long p = task * PLANES_PER_TASK; p < end; p++) {
        const float *plane = job->in + p * w->height * w->width;
        for (long oy = 0; oy < oh; oy++) {
            for (long ox = 0; ox < ow; ox++) {
                float sum = 0;
                for (long i = 0; i < w->kernel_h; i++) {
                    long iy = oy * w->stride + i - w->padding;
                    if (iy < 0 || iy >= w->height) continue;
                    for (long j = 0; j < w->kernel_w; j++) {
                        long ix = ox * w->stride + j - w->padding;
                        if (ix >= 0 && ix < w->width) sum += plane[iy * w->width + ix];
                    }
                }
                job->out[(p * oh + oy) * ow + ox] = sum * scale;
            }
        }
    }
}

void bp_avgpool2d_forward(const bp_context *ctx, const float *x, long planes, const bp_window2d *w, float *y) {
    struct pool_job job = {x, y, NULL, NULL, planes, w};
    double work = (double)planes * out_h(w) * out_w(w) * w->kernel_h * w->kernel_w;
    bp_parallel_for((planes + PLANES_PER_TASK - 1) / PLANES_PER_TASK, threads_for(ctx, work), avgpool_forward_task, &job);
}

static void avgpool_backward_task(void *data, long task) {
    const struct pool_job *job = data;
    const bp_window2d *w = job->w;
    long oh = out_h(w), ow = out_w(w);
    float scale = 1.0f / (float)(w->kernel_h * w->kernel_w);
    long end = (task + 1) * PLANES_PER_TASK < job->planes ? (task + 1) * PLANES_PER_TASK : job->planes;
    for (long p = task * PLANES_PER_TASK; p < end; p++) {
        float *plane = job->out + p * w->height * w->width;
        memset(plane, 0, (size_t)(w->height * w->width) * sizeof(float));
        for (long oy = 0; oy < oh; oy++) {
            for (long ox = 0; ox < ow; ox++) {
                float g = job->in[(p * oh + oy) * ow + ox] * scale;
                for (long i = 0; i < w->kernel_h; i++) {
                    long iy = oy * w->stride + i - w->padding;
                    if (iy < 0 || iy >= w->height) continue;
                    for (long j = 0; j < w->kernel_w; j++) {
                        long ix = ox * w->stride + j - w->padding;
                        if (ix >= 0 && ix < w->width) plane[iy * w->width + ix] += g;
                    }
                }
            }
        }
    }
}

void bp_avgpool2d_backward(const bp_context *ctx, const float *dy, long planes, const bp_window2d *w, float *dx) {
    struct pool_job job = {dy, dx, NULL, NULL, planes, w};
    double work = (double)planes * out_h(w) * out_w(w) * w->kernel_h * w->kernel_w;
    bp_parallel_for((planes + PLANES_PER_TASK - 1) / PLANES_PER_TASK, threads_for(ctx, work), avgpool_backward_task, &job);
}

// ---- per-channel kernels: one task per channel (or per (sample, channel) plane for the bias) ----

struct channel_job {
    const float *x, *dy, *xhat, *mean, *variance, *gamma, *beta;
    float *y, *out, *out2, *dx, *xhat_out;
    long batch, channels, spatial;
    float epsilon;
    int accumulate;
};

static void add_channel_bias_task(void *data, long task) {
    const struct channel_job *job = data;
    float *plane = job->y + task * job->spatial;
    float b = job->beta[task % job->channels];
    for (long s = 0; s < job->spatial; s++) plane[s] += b;
}

void bp_add_channel_bias(const bp_context *ctx, float *x, const float *bias, long batch, long channels, long spatial) {
    struct channel_job job = {0};
    job.y = x; job.beta = bias; job.channels = channels; job.spatial = spatial;
    bp_parallel_for(batch * channels, threads_for(ctx, (double)batch * channels * spatial), add_channel_bias_task, &job);
}

static void sum_channels_task(void *data, long c) {
    const struct channel_job *job = data;
    double sum = 0;
    for (long n = 0; n < job->batch; n++) {
        const float *plane = job->x + (n * job->channels + c) * job->spatial;
        for (long s = 0; s < job->spatial; s++) sum += (double)plane[s];
    }
    job->out[c] = job->accumulate ? job->out[c] + (float)sum : (float)sum;
}

void bp_sum_channels(const bp_context *ctx, const float *x, long batch, long channels, long spatial,
                     float *out, int accumulate) {
    struct channel_job job = {0};
    job.x = x; job.out = out; job.batch = batch; job.channels = channels; job.spatial = spatial;
    job.accumulate = accumulate;
    bp_parallel_for(channels, threads_for(ctx, (double)batch * channels * spatial), sum_channels_task, &job);
}

static void statistics_task(void *data, long c) {
    const struct channel_job *job = data;
    double m = (double)(job->batch * job->spatial), sum = 0, squares = 0;
    for (long n = 0; n < job->batch; n++) {
        const float *plane = job->x + (n * job->channels + c) * job->spatial;
        for (long s = 0; s < job->spatial; s++) sum += (double)plane[s];
    }
    double mu = sum / m;
    for (long n = 0; n < job->batch; n++) {
        const float *plane = job->x + (n * job->channels + c) * job->spatial;
        for (long s = 0; s < job->spatial; s++) {
            double d = (double)plane[s] - mu;
            squares += d * d;
        }
    }
    job->out[c] = (float)mu;
    job->out2[c] = (float)(squares / m);
}

void bp_batchnorm_statistics(const bp_context *ctx, const float *x, long batch, long channels, long spatial,
                             float *mean, float *variance) {
    struct channel_job job = {0};
    job.x = x; job.out = mean; job.out2 = variance; job.batch = batch; job.channels = channels; job.spatial = spatial;
    bp_parallel_for(channels, threads_for(ctx, 2.0 * batch * channels * spatial), statistics_task, &job);
}

static void batchnorm_forward_task(void *data, long c) {
    const struct channel_job *job = data;
    float inv_std = 1.0f / sqrtf(job->variance[c] + job->epsilon);
    float mu = job->mean[c], g = job->gamma[c], b = job->beta[c];
    for (long n = 0; n < job->batch; n++) {
        long offset = (n * job->channels + c) * job->spatial;
        for (long s = 0; s < job->spatial; s++) {
            float h = (job->x[offset + s] - mu) * inv_std;
            if (job->xhat_out) job->xhat_out[offset + s] = h;
            job->y[offset + s] = g * h + b;
        }
    }
}

void bp_batchnorm_forward(const bp_context *ctx, const float *x, long batch, long channels, long spatial,
                          const float *mean, const float *variance, float epsilon,
                          const float *gamma, const float *beta, float *xhat, float *y) {
    struct channel_job job = {0};
    job.x = x; job.mean = mean; job.variance = variance; job.epsilon = epsilon; job.gamma = gamma;
    job.beta = beta; job.xhat_out = xhat; job.y = y; job.batch = batch; job.channels = channels; job.spatial = spatial;
    bp_parallel_for(channels, threads_for(ctx, (double)batch * channels * spatial), batchnorm_forward_task, &job);
}

static void batchnorm_backward_task(void *data, long c) {
    const struct channel_job *job = data;
    double m = (double)(job->batch * job->spatial), sum_dy = 0, sum_dy_xhat = 0;
    for (long n = 0; n < job->batch; n++) {
        long offset = (n * job->channels + c) * job->spatial;
        for (long s = 0; s < job->spatial; s++) {
            sum_dy += (double)job->dy[offset + s];
            sum_dy_xhat += (double)job->dy[offset + s] * (double)job->xhat[offset + s];
        }
    }
    job->out[c] = (job->accumulate ? job->out[c] : 0.0f) + (float)sum_dy_xhat;
    job->out2[c] = (job->accumulate ? job->out2[c] : 0.0f) + (float)sum_dy;
    if (!job->dx) return;
    float inv_std = 1.0f / sqrtf(job->variance[c] + job->epsilon);
    float scale = job->gamma[c] * inv_std;
    float mean_dy = (float)(sum_dy / m), mean_dy_xhat = (float)(sum_dy_xhat / m);
    for (long n = 0; n < job->batch; n++) {
        long offset = (n * job->channels + c) * job->spatial;
        for (long s = 0; s < job->spatial; s++) {
            job->dx[offset + s] = scale * (job->dy[offset + s] - mean_dy - job->xhat[offset + s] * mean_dy_xhat);
        }
    }
}

void bp_batchnorm_backward(const bp_context *ctx, const float *dy, const float *xhat, long batch, long channels,
                           long spatial, const float *variance, float epsilon, const float *gamma,
                           float *dx, float *dgamma, float *dbeta, int accumulate) {
    struct channel_job job = {0};
    job.dy = dy; job.xhat = xhat; job.variance = variance; job.epsilon = epsilon; job.gamma = gamma;
    job.dx = dx; job.out = dgamma; job.out2 = dbeta; job.accumulate = accumulate;
    job.batch = batch; job.channels = channels; job.spatial = spatial;
    bp_parallel_for(channels, threads_for(ctx, 2.0 * batch * channels * spatial), batchnorm_backward_task, &job);
}
