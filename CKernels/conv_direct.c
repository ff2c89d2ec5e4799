// conv_direct.c: direct 2-D convolution, forward and both gradients (include/backprop_conv.h).
//
// Stride 1 (every LeNet layer): a sample's input planes are copied once into a zero-padded
// per-thread buffer, then each output row is computed in vectors along ox with a register tile
// of output channels × output rows (conv_direct_body.h). The input gradient is the same
// correlation run on the zero-padded dy with the kernels flipped and the channel axes swapped
// (read through strides, nothing is copied). The weight gradient pads the whole batch once (the
// caller's scratch), then sums dy · input over the batch in register tiles of output channels ×
// kernel taps, one task per tile, so no partial sums are combined across threads; the bias
// gradient is summed from the same dy vectors. Other strides run plain loops (correct, not fast).
//
// Tasks: a sample for forward and input gradient, a (channel block, input channel, tap block)
// tile for the weight gradient; each writes memory no other task writes, so results do not
// depend on the thread count.
#include <string.h>

#include "backprop_conv.h"

// W(o, c, i, j) = base[o·so + c·sc + i·si + j·sj]: the forward weights, or the flipped,
// channel-swapped view the input gradient reads.
typedef struct {
    const float *base;
    long so, sc, si, sj;
} bp_conv_weights;

// What the weight-gradient tiles share.
typedef struct {
    const float *x, *dy;
    const float *planes;  // x zero-padded: (N, C, hp, wp), or x itself when p = 0
    long batch, channels, height, width, padding;
    long kh, kw, kout, oh, ow;
    long hp, wp;  // padded input plane: (H + 2p, W + 2p)
} bp_conv_grad_job;

// dst: (hp, wp) = zeros, with src: (rows, cols) written at (top, left); parts outside are cut.
static void pad_plane(const float *src, long rows, long cols, float *dst, long hp, long wp, long top, long left) {
    memset(dst, 0, (size_t)(hp * wp) * sizeof(float));
    long c0 = left < 0 ? -left : 0;
    long c1 = cols + left > wp ? wp - left : cols;
    if (c1 <= c0) return;
    for (long r = 0; r < rows; r++) {
        long dr = r + top;
        if (dr < 0 || dr >= hp) continue;
        memcpy(dst + dr * wp + left + c0, src + r * cols + c0, (size_t)(c1 - c0) * sizeof(float));
    }
}

// Sample n's input plane c, zero-padded to (hp, wp).
static const float *bp_conv_padded_plane(const bp_conv_grad_job *job, long n, long c) {
    return job->planes + (n * job->channels + c) * job->hp * job->wp;
}

#define BP_SIMD_BODY "conv_direct_body.h"
#include "simd_instantiate.h"

static long conv_out_h(const bp_window2d *w) { return (w->height + 2 * w->padding - w->kernel_h) / w->stride + 1; }
static long conv_out_w(const bp_window2d *w) { return (w->width + 2 * w->padding - w->kernel_w) / w->stride + 1; }

typedef void (*correlate_fn)(const float *, long, long, long, const bp_conv_weights *, long, long,
                             const float *, long, float *);

struct conv_job {
    correlate_fn correlate;
    const float *in;  // x (forward) or dy (input gradient)
    const float *weight, *bias;
    float *out;       // y or dx
    const bp_window2d *w;
    long kout;
};

// ---- forward ----

// x[n]: (C, H, W) -> y[n]: (K, outH, outW), stride 1.
static void forward_task(void *data, long n) {
    const struct conv_job *job = data;
    const bp_window2d *w = job->w;
    long c = w->channels, p = w->padding, hp = w->height + 2 * p, wp = w->width + 2 * p;
    long taps = w->kernel_h * w->kernel_w;
    const float *in = job->in + n * c * w->height * w->width;
    if (p > 0) {
        float *padded = bp_thread_scratch(2, (size_t)(c * hp * wp));
        if (padded == NULL) return;  // allocation failure leaves y unwritten (no trap)
        for (long ch = 0; ch < c; ch++) {
            pad_plane(in + ch * w->height * w->width, w->height, w->width, padded + ch * hp * wp, hp, wp, p, p);
        }
        in = padded;
    }
    bp_conv_weights wt = {job->weight, c * taps, taps, w->kernel_w, 1};
    job->correlate(in, c, hp, wp, &wt, w->kernel_h, w->kernel_w, job->bias, job->kout,
                   job->out + n * job->kout * conv_out_h(w) * conv_out_w(w));
}

// Any stride: plain loops over one sample.
static void forward_strided_task(void *data, long n) {
    const struct conv_job *job = data;
    const bp_window2d *w = job->w;
    long oh = conv_out_h(w), ow = conv_out_w(w), c = w->channels, kh = w->kernel_h, kw = w->kernel_w;
    const float *x = job->in + n * c * w->height * w->width;
    float *y = job->out + n * job->kout * oh * ow;
    for (long o = 0; o < job->kout; o++) {
        for (long oy = 0; oy < oh; oy++) {
            for (long ox = 0; ox < ow; ox++) {
                float sum = job->bias ? job->bias[o] : 0.0f;
                for (long ch = 0; ch < c; ch++) {
                    for (long i = 0; i < kh; i++) {
                        long iy = oy * w->stride + i - w->padding;
                        if (iy < 0 || iy >= w->height) continue;
                        for (long j = 0; j < kw; j++) {
                            long ix = ox * w->stride + j - w->padding;
                            if (ix < 0 || ix >= w->width) continue;
                            sum += job->weight[((o * c + ch) * kh + i) * kw + j] * x[(ch * w->height + iy) * w->width + ix];
                        }
                    }
                }
                y[(o * oh + oy) * ow + ox] = sum;
            }
        }
    }
}

static double conv_macs(long batch, const bp_window2d *w, long kout) {
    return (double)batch * kout * conv_out_h(w) * conv_out_w(w) * w->channels * w->kernel_h * w->kernel_w;
}

void bp_conv2d_forward(const bp_context *ctx, const float *x, long batch, const bp_window2d *w,
                       const float *weight, const float *bias, long out_channels, float *y) {
    if (batch <= 0 || out_channels <= 0) return;
    struct conv_job job = {BP_DISPATCH(bp_context_simd_level(ctx), conv_correlate), x, weight, bias, y, w, out_channels};
    int threads = bp_threads_for(ctx, conv_macs(batch, w, out_channels));
    bp_parallel_for(batch, threads, w->stride == 1 ? forward_task : forward_strided_task, &job);
}

// ---- input gradient ----

// dy[n]: (K, outH, outW) -> dx[n]: (C, H, W), stride 1: dy zero-padded to
// (K, H + kh − 1, W + kw − 1) at (kh − 1 − p, kw − 1 − p), correlated with the flipped kernels.
static void backward_data_task(void *data, long n) {
    const struct conv_job *job = data;
    const bp_window2d *w = job->w;
    long oh = conv_out_h(w), ow = conv_out_w(w), kh = w->kernel_h, kw = w->kernel_w, k = job->kout;
    long hq = w->height + kh - 1, wq = w->width + kw - 1;
    float *padded = bp_thread_scratch(2, (size_t)(k * hq * wq));
    if (padded == NULL) return;
    const float *dy = job->in + n * k * oh * ow;
    for (long o = 0; o < k; o++) {
        pad_plane(dy + o * oh * ow, oh, ow, padded + o * hq * wq, hq, wq, kh - 1 - w->padding, kw - 1 - w->padding);
    }
    // W'(c, o, i, j) = weight[o, c, kh − 1 − i, kw − 1 − j]
    bp_conv_weights flipped = {job->weight + (kh - 1) * kw + (kw - 1), kh * kw, w->channels * kh * kw, -kw, -1};
    job->correlate(padded, k, hq, wq, &flipped, kh, kw, NULL, w->channels,
                   job->out + n * w->channels * w->height * w->width);
}

// Any stride: each dy scattered through the kernel into one sample's dx.
static void backward_data_strided_task(void *data, long n) {
    const struct conv_job *job = data;
    const bp_window2d *w = job->w;
    long oh = conv_out_h(w), ow = conv_out_w(w), c = w->channels, kh = w->kernel_h, kw = w->kernel_w;
    const float *dy = job->in + n * job->kout * oh * ow;
    float *dx = job->out + n * c * w->height * w->width;
    memset(dx, 0, (size_t)(c * w->height * w->width) * sizeof(float));
    for (long o = 0; o < job->kout; o++) {
        for (long oy = 0; oy < oh; oy++) {
            for (long ox = 0; ox < ow; ox++) {
                float g = dy[(o * oh + oy) * ow + ox];
                for (long ch = 0; ch < c; ch++) {
                    for (long i = 0; i < kh; i++) {
                        long iy = oy * w->stride + i - w->padding;
                        if (iy < 0 || iy >= w->height) continue;
                        for (long j = 0; j < kw; j++) {
                            long ix = ox * w->stride + j - w->padding;
                            if (ix < 0 || ix >= w->width) continue;
                            dx[(ch * w->height + iy) * w->width + ix] += g * job->weight[((o * c + ch) * kh + i) * kw + j];
                        }
                    }
                }
            }
        }
    }
}

void bp_conv2d_backward_data(const bp_context *ctx, const float *dy, long batch, const bp_window2d *w,
                             const float *weight, long out_channels, float *dx) {
    if (batch <= 0) return;
    struct conv_job job = {BP_DISPATCH(bp_context_simd_level(ctx), conv_correlate), dy, weight, NULL, dx, w, out_channels};
    if (out_channels <= 0) {
        memset(dx, 0, (size_t)(batch * w->channels * w->height * w->width) * sizeof(float));
        return;
    }
    int threads = bp_threads_for(ctx, conv_macs(batch, w, out_channels));
    bp_parallel_for(batch, threads, w->stride == 1 ? backward_data_task : backward_data_strided_task, &job);
}

// ---- weight gradient ----

struct pad_job {
    const float *x;
    float *padded;
    long height, width, hp, wp, padding;
};

// Plane `task` of x -> the same plane zero-padded.
static void pad_task(void *data, long task) {
    const struct pad_job *job = data;
    pad_plane(job->x + task * job->height * job->width, job->height, job->width,
              job->padded + task * job->hp * job->wp, job->hp, job->wp, job->padding, job->padding);
}

struct weight_job {
    bp_conv_grad_job grad;
    void (*tile)(const bp_conv_grad_job *, long, long, long, float *, float *);
    const bp_window2d *w;
    float *dweight, *dbias;
    long kb, tap_block, o_blocks, t_blocks;
    int accumulate, accumulate_bias;
};

// Task = (output channel block, input channel, tap block): its elements of dweight; the task of
// input channel 0 and tap block 0 also sums its channels' bias gradient.
static void weight_task(void *data, long task) {
    const struct weight_job *job = data;
    const bp_conv_grad_job *g = &job->grad;
    long tb = task % job->t_blocks, rest = task / job->t_blocks;
    long c = rest % g->channels, ob = rest / g->channels;
    long o0 = ob * job->kb, t0 = tb * job->tap_block, taps = g->kh * g->kw;
    float sums[64], bias_sums[16];
    int with_bias = job->dbias != NULL && c == 0 && tb == 0;
    job->tile(g, o0, c, t0, sums, with_bias ? bias_sums : NULL);
    for (long q = 0; with_bias && q < job->kb && o0 + q < g->kout; q++) {
        float *dst = job->dbias + o0 + q;
        *dst = job->accumulate_bias ? *dst + bias_sums[q] : bias_sums[q];
    }
    for (long q = 0; q < job->kb && o0 + q < g->kout; q++) {
        for (long t = 0; t < job->tap_block && t0 + t < taps; t++) {
            float *dst = job->dweight + ((o0 + q) * g->channels + c) * taps + t0 + t;
            float value = sums[q * job->tap_block + t];
            *dst = job->accumulate ? *dst + value : value;
        }
    }
}

// Any stride: task = output channel, plain loops.
static void weight_strided_task(void *data, long o) {
    const struct weight_job *job = data;
    const bp_conv_grad_job *g = &job->grad;
    const bp_window2d *w = job->w;
    long taps = g->kh * g->kw;
    if (job->dbias) {
        float sum = 0;
        for (long n = 0; n < g->batch; n++) {
            const float *dy = g->dy + (n * g->kout + o) * g->oh * g->ow;
            for (long s = 0; s < g->oh * g->ow; s++) sum += dy[s];
        }
        job->dbias[o] = job->accumulate_bias ? job->dbias[o] + sum : sum;
    }
    for (long c = 0; c < g->channels; c++) {
        for (long i = 0; i < g->kh; i++) {
            for (long j = 0; j < g->kw; j++) {
                float sum = 0;
                for (long n = 0; n < g->batch; n++) {
                    const float *x = g->x + (n * g->channels + c) * g->height * g->width;
                    const float *dy = g->dy + (n * g->kout + o) * g->oh * g->ow;
                    for (long oy = 0; oy < g->oh; oy++) {
                        long iy = oy * w->stride + i - g->padding;
                        if (iy < 0 || iy >= g->height) continue;
                        for (long ox = 0; ox < g->ow; ox++) {
                            long ix = ox * w->stride + j - g->padding;
                            if (ix >= 0 && ix < g->width) sum += dy[oy * g->ow + ox] * x[iy * g->width + ix];
                        }
                    }
                }
                float *dst = job->dweight + (o * g->channels + c) * taps + i * g->kw + j;
                *dst = job->accumulate ? *dst + sum : sum;
            }
        }
    }
}

void bp_conv2d_backward_weight(const bp_context *ctx, const float *x, const float *dy, long batch,
                               const bp_window2d *w, long out_channels, float *dweight, int accumulate,
                               float *dbias, int accumulate_bias) {
    long taps = w->kernel_h * w->kernel_w, count = out_channels * w->channels * taps;
    if (out_channels <= 0 || count <= 0) return;
    if (batch <= 0) {
        if (!accumulate) memset(dweight, 0, (size_t)count * sizeof(float));
        if (dbias && !accumulate_bias) memset(dbias, 0, (size_t)out_channels * sizeof(float));
        return;
    }
    int level = bp_context_simd_level(ctx);
    struct weight_job job = {
        .grad = {x, dy, x, batch, w->channels, w->height, w->width, w->padding, w->kernel_h, w->kernel_w,
                 out_channels, conv_out_h(w), conv_out_w(w), w->height + 2 * w->padding, w->width + 2 * w->padding},
        .tile = BP_DISPATCH(level, conv_weight_tile), .w = w, .dweight = dweight, .dbias = dbias,
        .accumulate = accumulate, .accumulate_bias = accumulate_bias};
    BP_DISPATCH(level, conv_weight_tile_size)(&job.kb, &job.tap_block);
    job.o_blocks = (out_channels + job.kb - 1) / job.kb;
    job.t_blocks = (taps + job.tap_block - 1) / job.tap_block;
    int threads = bp_threads_for(ctx, conv_macs(batch, w, out_channels));
    if (w->stride == 1) {
        job.grad.planes = x;
        if (w->padding > 0) {
            // Every sample's planes padded once (in the calling thread's scratch), read by all tiles.
            float *padded = bp_thread_scratch(3, (size_t)(batch * w->channels * job.grad.hp * job.grad.wp));
            if (padded == NULL) return;
            struct pad_job pads = {x, padded, w->height, w->width, job.grad.hp, job.grad.wp, w->padding};
            bp_parallel_for(batch * w->channels, bp_threads_for(ctx, (double)batch * w->channels * job.grad.hp * job.grad.wp),
                            pad_task, &pads);
            job.grad.planes = padded;
        }
        bp_parallel_for(job.o_blocks * w->channels * job.t_blocks, threads, weight_task, &job);
    } else {
        bp_parallel_for(out_channels, threads, weight_strided_task, &job);
    }
}
