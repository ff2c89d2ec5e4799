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

/// The dense weight and bias gradients in one call: C = op(A) B + beta C (alpha 1, B not
/// transposed) and sums (+)= the column sums of B over its k rows, i.e. bp_sgemm then
/// bp_sum_columns(B, k, n, sums, accumulate), bit for bit (rows are added in order, 0 first).
/// On the blocked path each row of B is added while it is packed, so B is read once.
/// B: (k, n), contiguous (as bp_sum_columns takes it); sums: (n); accumulate: add to sums
/// instead of overwriting.
void bp_sgemm_column_sums(const bp_context *ctx, int path, int trans_a, long m, long n, long k,
                          const float *a, long lda, const float *b, float beta, float *c, long ldc,
                          float *sums, int accumulate);

#ifdef __cplusplus
}
#endif

#endif  // BACKPROP_FUSED_H
