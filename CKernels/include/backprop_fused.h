// backprop_fused.h: GEMMs that finish their work in the write-back of each tile of C while the
// tile is in L1, instead of separate passes over C (each a fork/join and a trip through memory).
// Results are bit-identical to bp_sgemm followed by the separate kernels, for any thread count.
#ifndef BACKPROP_FUSED_H
#define BACKPROP_FUSED_H

#include "backprop_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/// The dense forward pass: C = f(op(A) op(B) + bias), i.e. bp_sgemm (alpha 1, beta 0), then
/// bp_add_bias, then bp_activation_forward. bias: (n) or NULL; activation: a bp_activation_t,
/// or -1 for none. op(A): (m, k), op(B): (k, n), C: (m, n) as in bp_sgemm; `path` is a
/// bp_gemm_path_t (BP_GEMM_AUTO normally).
void bp_sgemm_bias_activation(const bp_context *ctx, int path, int trans_a, int trans_b,
                              long m, long n, long k, const float *a, long lda,
                              const float *b, long ldb, const float *bias, int activation,
                              float *c, long ldc);

/// The dense input gradient through an activation: C = (op(A) op(B)) * f'(y), i.e. bp_sgemm
/// (alpha 1, beta 0) then bp_activation_backward(kind, y, C, C). y: (m, n), row stride ldy,
/// the activation's forward output; activation: a bp_activation_t.
void bp_sgemm_activation_backward(const bp_context *ctx, int path, int trans_a, int trans_b,
                                  long m, long n, long k, const float *a, long lda,
                                  const float *b, long ldb, int activation, const float *y,
                                  long ldy, float *c, long ldc);

#ifdef __cplusplus
}
#endif

#endif  // BACKPROP_FUSED_H
