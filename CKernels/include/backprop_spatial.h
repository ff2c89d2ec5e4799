// backprop_spatial.h: image kernels (NCHW): convolution patches, pooling, channel bias and sums,
// batch normalization. The semantics are those of the Swift reference
// (Sources/Backprop/Backends/ReferenceSpatialOps.swift); names match the Backend requirements.
#ifndef BACKPROP_SPATIAL_H
#define BACKPROP_SPATIAL_H

#include <stdint.h>

#include "backprop_kernels.h"  // bp_context

#ifdef __cplusplus
extern "C" {
#endif


/// A sliding window over one (channels, height, width) sample. Output size per axis:
/// (in + 2·padding − kernel) / stride + 1.
typedef struct bp_window2d {
    long channels, height, width;
    long kernel_h, kernel_w;
    long stride, padding;
} bp_window2d;

/// x: (N, C, H, W) -> col: (C·kh·kw, N·outH·outW); zeros in the padding.
void bp_im2col(const bp_context *ctx, const float *x, long batch, const bp_window2d *w, float *col);
/// col: (C·kh·kw, N·outH·outW) -> dx: (N, C, H, W), the adjoint of bp_im2col (overwrites dx).
void bp_col2im(const bp_context *ctx, const float *col, long batch, const bp_window2d *w, float *dx);
/// x: (a, b, inner) -> y: (b, a, inner).
void bp_swap_leading_axes(const bp_context *ctx, const float *x, long a, long b, long inner, float *y);

/// x: (planes, H, W) -> y, argmax: (planes, outH, outW); argmax is the first maximum's index in its plane.
void bp_maxpool2d_forward(const bp_context *ctx, const float *x, long planes, const bp_window2d *w,
                          float *y, int32_t *argmax);
/// dy, argmax: (planes, outH, outW) -> dx: (planes, H, W) (overwrites dx).
void bp_maxpool2d_backward(const bp_context *ctx, const float *dy, const int32_t *argmax, long planes,
                           const bp_window2d *w, float *dx);
/// x: (planes, H, W) -> y: (planes, outH, outW), the mean over kh·kw (padding counts as zero).
void bp_avgpool2d_forward(const bp_context *ctx, const float *x, long planes, const bp_window2d *w, float *y);
/// dy: (planes, outH, outW) -> dx: (planes, H, W) (overwrites dx).
void bp_avgpool2d_backward(const bp_context *ctx, const float *dy, long planes, const bp_window2d *w, float *dx);

/// x: (N, C, S) += bias: (C).
void bp_add_channel_bias(const bp_context *ctx, float *x, const float *bias, long batch, long channels, long spatial);
/// out[c] (+)= Σ_{n,s} x[n, c, s], summed in double in (n, s) order.
void bp_sum_channels(const bp_context *ctx, const float *x, long batch, long channels, long spatial,
                     float *out, int accumulate);

/// x: (N, C, S) -> mean, variance (biased): (C), computed in double.
void bp_batchnorm_statistics(const bp_context *ctx, const float *x, long batch, long channels, long spatial,
                             float *mean, float *variance);
/// y = gamma·(x − mean)/√(var + eps) + beta per channel; xhat (may be NULL) gets the normalized x.
void bp_batchnorm_forward(const bp_context *ctx, const float *x, long batch, long channels, long spatial,
                          const float *mean, const float *variance, float epsilon,
                          const float *gamma, const float *beta, float *xhat, float *y);
/// Batch-statistics backward; dx may be NULL. dgamma, dbeta (+)= per `accumulate`.
void bp_batchnorm_backward(const bp_context *ctx, const float *dy, const float *xhat, long batch, long channels,
                           long spatial, const float *variance, float epsilon, const float *gamma,
                           float *dx, float *dgamma, float *dbeta, int accumulate);

#ifdef __cplusplus
}
#endif

#endif  // BACKPROP_SPATIAL_H
