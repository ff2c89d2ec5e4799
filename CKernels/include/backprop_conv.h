// backprop_conv.h: direct 2-D convolution (NCHW, stride 1 vectorized), forward and both
// gradients, without an im2col matrix. Made for small channel counts (LeNet's 1→6 and 6→16),
// where im2col + SGEMM spends its time copying patches into narrow GEMMs. The semantics are those
// of the Swift reference (Sources/Backprop/Backends/ReferenceConvolution.swift).
//
// Weights are PyTorch's (K, C, kh, kw) row-major; `w` describes one input sample (C, H, W) and
// the window (kernel, stride, padding) as for bp_im2col. Any stride is accepted; stride 1 runs
// the vector kernels, other strides plain loops.
#ifndef BACKPROP_CONV_H
#define BACKPROP_CONV_H

#include "backprop_spatial.h"  // bp_context, bp_window2d

#ifdef __cplusplus
extern "C" {
#endif

/// x: (N, C, H, W), weight: (K, C, kh, kw), bias: (K) or NULL -> y: (N, K, outH, outW),
/// y[n, k] = bias[k] + Σ_{c,i,j} weight[k, c, i, j] · x[n, c, oy·s + i − p, ox·s + j − p].
void bp_conv2d_forward(const bp_context *ctx, const float *x, long batch, const bp_window2d *w,
                       const float *weight, const float *bias, long out_channels, float *y);

/// dy: (N, K, outH, outW), weight: (K, C, kh, kw) -> dx: (N, C, H, W), the input gradient
/// (overwrites dx).
void bp_conv2d_backward_data(const bp_context *ctx, const float *dy, long batch, const bp_window2d *w,
                             const float *weight, long out_channels, float *dx);

/// x: (N, C, H, W), dy: (N, K, outH, outW) -> dweight: (K, C, kh, kw),
/// dweight[k, c, i, j] (+)= Σ_{n, oy, ox} dy[n, k, oy, ox] · x[n, c, oy·s + i − p, ox·s + j − p],
/// and, when dbias is not NULL, dbias[k] (+)= Σ_{n, oy, ox} dy[n, k, oy, ox] (the bias gradient,
/// summed while dy is in registers); each adds when its accumulate flag is set, else overwrites.
/// Each element is summed by one task in a fixed order, so the result does not depend on the
/// thread count.
void bp_conv2d_backward_weight(const bp_context *ctx, const float *x, const float *dy, long batch,
                               const bp_window2d *w, long out_channels, float *dweight, int accumulate,
                               float *dbias, int accumulate_bias);

#ifdef __cplusplus
}
#endif

#endif  // BACKPROP_CONV_H
