// backprop_kernels.h: the C kernels behind the `c` backend (and the non-GEMM ops of `openblas`).
//
// Every kernel takes the calling backend instance's `const bp_context *ctx` first (SIMD level
// and thread count); nothing else is shared between calls.
// Every matrix is row-major float32. `ld*` is the leading dimension (the distance in floats
// between the starts of two consecutive rows), which may be larger than the row width.
// Sizes are `long` (64-bit on every platform Swift supports on Linux).
// Every function is thread-safe; threads come from one internal parallel-for helper, at most
// ctx->threads of them.
// The semantics of each function are exactly those of the matching requirement of the Swift
// `Backend` protocol (Sources/Backprop/Backend.swift); the pure-Swift backend is the oracle.
#ifndef BACKPROP_KERNELS_H
#define BACKPROP_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// ---- Per-instance configuration ----------------------------------------------------------

/// SIMD levels, in increasing order.
typedef enum {
    BP_SIMD_PORTABLE = 0,  // plain C, any CPU
    BP_SIMD_AVX2 = 1,      // AVX2 + FMA
    BP_SIMD_AVX512 = 2,    // AVX-512 F/VL + FMA
} bp_simd_level_t;

/// What one backend instance asks of the kernels, passed as the first argument of every kernel
/// (as BLIS passes its cntx_t/rntm_t): there is no process-wide SIMD or thread setting, so two
/// instances with different settings never step on each other.
///   simd_level: a bp_simd_level_t; a level above what the CPU supports is clamped to it.
///   threads:    the most threads a kernel may use; values < 1 mean 1 (always 1 when the
///               library is built without OpenMP).
/// A NULL context means {bp_simd_level_supported(), 1}. Environment variables
/// (BACKPROP_SIMD, BACKPROP_NUM_THREADS, OMP_NUM_THREADS) are resolved by the Swift side,
/// never here. Fields may be appended in later versions; these two stay first.
typedef struct bp_context {
    int simd_level;
    int threads;
} bp_context;

/// The best SIMD level this CPU supports (CPU detection, cached after the first call).
int bp_simd_level_supported(void);
/// A short name of a level: "portable", "avx2", "avx512".
const char *bp_simd_level_name(int level);
/// The level the kernels actually run at for `ctx` (its level clamped to what the CPU supports).
int bp_context_simd_level(const bp_context *ctx);
/// The most threads the kernels use for `ctx` (>= 1; 1 without OpenMP).
int bp_context_threads(const bp_context *ctx);
/// How many threads a parallel kernel call with `ctx` actually runs on (it starts one team and
/// counts its members), so tests can prove a thread setting is in effect.
int bp_context_team_size(const bp_context *ctx);
/// 1 when the library was built with OpenMP (the `OpenMP` package trait), else 0.
int bp_has_openmp(void);

// ---- GEMM -------------------------------------------------------------------------------

/// C = alpha * op(A) * op(B) + beta * C, where op(X) = X or Xᵀ.
/// op(A): (m, k), op(B): (k, n), C: (m, n).
/// A is stored (m, k) with lda >= k when !trans_a, else (k, m) with lda >= m.
/// B is stored (k, n) with ldb >= n when !trans_b, else (n, k) with ldb >= k.
/// When beta == 0, C is not read (NaN in C does not propagate).
/// When k == 0 (or alpha == 0), C = beta * C.
void bp_sgemm(const bp_context *ctx, int trans_a, int trans_b, long m, long n, long k, float alpha,
              const float *a, long lda, const float *b, long ldb,
              float beta, float *c, long ldc);

/// Ways bp_sgemm_with may compute a GEMM (for tests and benchmarks).
typedef enum {
    BP_GEMM_AUTO = 0,     // what bp_sgemm does: direct, narrow, shared-B or blocked by size
    BP_GEMM_DIRECT = 1,   // the direct loops: no packing, no threads (also the naive reference)
    BP_GEMM_BLOCKED = 2,  // packing + microkernel, C split into a grid of rectangles
    BP_GEMM_NARROW = 3,   // n <= 16 (AVX-512: one vector, AVX2: two): A in place, Bᵀ packed; else blocked
    BP_GEMM_SHARED_B = 4, // all of op(B) packed once, threads own row blocks; else blocked
} bp_gemm_path_t;

/// bp_sgemm with an explicit bp_gemm_path_t, so tests and benchmarks can cover every path.
/// Same semantics as bp_sgemm.
void bp_sgemm_with(const bp_context *ctx, int path, int trans_a, int trans_b,
                   long m, long n, long k, float alpha, const float *a, long lda,
                   const float *b, long ldb, float beta, float *c, long ldc);

// ---- Elementwise and row/column ops ------------------------------------------------------

/// x: (rows, cols), bias: (cols): x[r][c] += bias[c].
void bp_add_bias(const bp_context *ctx, float *x, const float *bias, long rows, long cols);
/// x: (rows, cols) -> out: (cols): out[c] = sum_r x[r][c], or out[c] += that when accumulate.
void bp_sum_columns(const bp_context *ctx,
                    const float *x, long rows, long cols, float *out, int accumulate);

/// Activation kinds (the raw values of the Swift `Activation` enum).
typedef enum { BP_RELU = 0, BP_SIGMOID = 1, BP_TANH = 2 } bp_activation_t;
/// y = f(x) elementwise over n values. y may equal x (in place). f(NaN) = NaN for every kind
/// (relu as torch.relu).
void bp_activation_forward(const bp_context *ctx, int kind, const float *x, float *y, long n);
/// dx = dy * f'(x), written with the forward output y: relu: y > 0 ? dy : 0;
/// sigmoid: dy * y * (1 - y); tanh: dy * (1 - y*y). dx may equal dy.
void bp_activation_backward(const bp_context *ctx,
                            int kind, const float *y, const float *dy, float *dx, long n);

/// x, y: (rows, cols): y[r] = softmax(x[r]) computed with the row max subtracted.
/// A row of all -inf yields a uniform row; a row holding a NaN or +inf is NaN. y may equal x.
void bp_softmax_rows(const bp_context *ctx, const float *x, float *y, long rows, long cols);

/// Fused softmax + cross-entropy with integer labels.
/// logits: (rows, cols), labels: (rows) in 0..<cols.
/// grad[r][c] = (softmax(logits[r])[c] - (c == labels[r])) * scale.
/// Returns sum over rows of -log softmax(logits[r])[labels[r]] (computed as
/// logsumexp - logit, in double for the reduction), not scaled.
double bp_softmax_xent_labels(const bp_context *ctx,
                              const float *logits, const int32_t *labels, long rows, long cols,
                              float *grad, float scale);
/// Same with probability targets: targets (rows, cols), each row summing to 1.
/// grad = (p - t) * scale; returns sum over rows of -sum_c t[c] * log p[c].
double bp_softmax_xent_probs(const bp_context *ctx,
                             const float *logits, const float *targets, long rows, long cols,
                             float *grad, float scale);
/// Squared error: returns sum (y - t)^2 over n values; grad = 2 (y - t) * scale.
double bp_mse(const bp_context *ctx,
              const float *y, const float *t, long n, float *grad, float scale);
/// Binary cross-entropy on logits z with targets t in [0, 1]:
/// returns sum of max(z, 0) - z t + log1p(exp(-|z|)); grad = (sigmoid(z) - t) * scale.
double bp_bce_logits(const bp_context *ctx,
                     const float *z, const float *t, long n, float *grad, float scale);

/// out[r] = index of the largest value of row r (the first one on ties); NaN counts as the
/// largest value, so the first NaN wins (numpy.argmax, torch.argmax).
void bp_argmax_rows(const bp_context *ctx, const float *x, long rows, long cols, int32_t *out);

/// x[i] = value for n values.
void bp_fill(const bp_context *ctx, float *x, float value, long n);
/// dst[i] = src[i] for n values (no overlap).
void bp_copy(const bp_context *ctx, const float *src, float *dst, long n);
/// x[i] *= s.
void bp_scale(const bp_context *ctx, float *x, float s, long n);
/// Returns sum x[i]^2 (accumulated in double).
double bp_sum_squares(const bp_context *ctx, const float *x, long n);
/// y[i] = a[i] * b[i] for n values; y may be a or b.
void bp_multiply(const bp_context *ctx, const float *a, const float *b, float *y, long n);

// ---- Optimizer updates -------------------------------------------------------------------

/// SGD (PyTorch semantics), elementwise over n values:
///   g = grad + weight_decay * param
///   if momentum != 0: v = momentum * v + g; g = nesterov ? g + momentum * v : v
///   param -= lr * g
/// velocity may be NULL when momentum == 0.
void bp_sgd_update(const bp_context *ctx, float *param, const float *grad, float *velocity, long n,
                   float lr, float momentum, float weight_decay, int nesterov);
/// Adam / AdamW (PyTorch semantics), `step` >= 1 is the 1-based step count:
///   if decoupled: param -= lr * weight_decay * param      (AdamW)
///   else:         g = grad + weight_decay * param         (Adam with L2)
///   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
///   param -= lr * (m / (1 - beta1^step)) / (sqrt(v / (1 - beta2^step)) + eps)
void bp_adam_update(const bp_context *ctx,
                    float *param, const float *grad, float *m, float *v, long n,
                    float lr, float beta1, float beta2, float eps, float weight_decay,
                    int decoupled, long step);

#ifdef __cplusplus
}
#endif

#endif  // BACKPROP_KERNELS_H
