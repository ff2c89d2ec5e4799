// backprop_plugin.h: the contract between Backprop and a backend plugin (a shared library).
//
// This header is all a plugin needs: it includes nothing of Backprop's and only <stddef.h>
// and <stdint.h>. A plugin exports one function,
//
//     const bp_plugin *backprop_plugin(void);      // BP_PLUGIN_ENTRY
//
// returning a pointer to a table that lives as long as the library (a static const struct).
// Backprop loads the library with dlopen (`--plugin PATH`, BACKPROP_PLUGIN_PATH, or
// `BackendPlugins.load(path:)` in Swift), checks the table and registers a backend under the
// plugin's name. docs/PLUGINS.md explains the rules and walks through Plugins/example.
//
// Versioning. `abi_version` is BP_PLUGIN_ABI_VERSION as the plugin saw it. Each version only
// appends op slots to the previous one (version 2 appended the image ops after adam_update,
// version 3 the direct convolution after multiply),
// so an older table is a prefix of this one: the host accepts every version from
// BP_PLUGIN_ABI_OLDEST to BP_PLUGIN_ABI_VERSION, reads only `struct_size` bytes (sizeof(bp_plugin)
// as the plugin was compiled) and treats every slot past them as NULL (the host's C kernels).
// A version newer than the host's, older than BP_PLUGIN_ABI_OLDEST, or a table smaller than its
// version's size is refused with one error naming the path. A change that is not an append
// (a new argument, a new meaning) would raise BP_PLUGIN_ABI_OLDEST to the new version.
//
// Ownership. Every pointer in the table and every string the plugin returns belong to the
// plugin and must stay valid until the library is unloaded (Backprop never unloads it).
// Matrices passed to an op belong to the caller and are valid only during the call.
//
// Threading. `create` receives the thread count the user chose (>= 1); the plugin owns its
// threads and keeps the count per instance, never in globals. The host calls the ops of one
// instance from one thread at a time; different instances may be used from different threads
// at the same time.
//
// Semantics. Every op has exactly the semantics of the matching function of the C kernels
// (CKernels/include/backprop_kernels.h, backprop_spatial.h and backprop_conv.h, the same names
// without `bp_`) and of the Swift
// `Backend` protocol: row-major float32, leading dimensions >= the row width, beta == 0 never
// reads C, sizes of 0 are no-ops. A NULL op slot means "run the host's C kernels for this op"
// (with the same thread count), never the slow Swift reference; `backprop backends` and
// `backprop verify` list which ops are the plugin's own.
#ifndef BACKPROP_PLUGIN_H
#define BACKPROP_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The ABI version this header describes: 1 had the dense ops, 2 appended the image ops,
/// 3 appended the direct convolution.
#define BP_PLUGIN_ABI_VERSION 3u
/// The oldest version a host built from this header still loads (its table is a prefix).
#define BP_PLUGIN_ABI_OLDEST 1u
/// The name of the function every plugin exports.
#define BP_PLUGIN_ENTRY "backprop_plugin"

/// A plugin's per-instance state (its thread count, its library handles); opaque to the host.
typedef struct bp_plugin_instance bp_plugin_instance;

/// A sliding window over one (channels, height, width) sample, as `bp_window2d` of
/// backprop_spatial.h (same fields, same order). Output size per axis:
/// out = (in + 2 padding - kernel) / stride + 1.
typedef struct bp_plugin_window2d {
    long channels, height, width;
    long kernel_h, kernel_w;
    long stride, padding;
} bp_plugin_window2d;

typedef struct bp_plugin {
    // ---- Header: never moves -------------------------------------------------------------
    /// BP_PLUGIN_ABI_VERSION.
    uint32_t abi_version;
    /// sizeof(bp_plugin).
    uint32_t struct_size;
    /// The registry name (`--backend NAME`): required, non-empty, no spaces or commas, and not
    /// the name of a built-in or already registered backend.
    const char *name;
    /// One line for humans (library, version). Required.
    const char *detail;

    /// Optional. Whether the plugin can run on this machine: a score > 0 means yes (higher is
    /// better); 0 means no, and the plugin writes why (with how to fix it) into `why`, a
    /// buffer of `why_size` bytes. NULL means always available.
    int (*probe)(char *why, size_t why_size);
    /// Required. A new instance using at most `threads` threads (>= 1), or NULL with the reason
    /// written into `why`.
    bp_plugin_instance *(*create)(int threads, char *why, size_t why_size);
    /// Required. Frees an instance made by `create`.
    void (*destroy)(bp_plugin_instance *instance);

    // ---- Ops: each may be NULL (the host's C kernels run it) -----------------------------
    /// C = alpha op(A) op(B) + beta C; op(A): (m, k), op(B): (k, n), C: (m, n).
    void (*sgemm)(bp_plugin_instance *self, int trans_a, int trans_b, long m, long n, long k,
                  float alpha, const float *a, long lda, const float *b, long ldb, float beta,
                  float *c, long ldc);
    /// x: (rows, cols) += bias: (cols) on every row.
    void (*add_bias)(bp_plugin_instance *self, float *x, const float *bias, long rows, long cols);
    /// out: (cols) = (accumulate ? out : 0) + column sums of x: (rows, cols).
    void (*sum_columns)(bp_plugin_instance *self, const float *x, long rows, long cols, float *out,
                        int accumulate);
    /// y = f(x) over n values, kind 0 relu, 1 sigmoid, 2 tanh; y may equal x.
    void (*activation_forward)(bp_plugin_instance *self, int kind, const float *x, float *y, long n);
    /// dx = dy f'(x) written with the forward output y; dx may equal dy.
    void (*activation_backward)(bp_plugin_instance *self, int kind, const float *y, const float *dy,
                                float *dx, long n);
    /// y[r] = softmax(x[r]) with the row max subtracted; x, y: (rows, cols); y may equal x.
    void (*softmax_rows)(bp_plugin_instance *self, const float *x, float *y, long rows, long cols);
    /// Fused softmax + cross-entropy, labels: (rows); returns the unscaled summed loss.
    double (*softmax_xent_labels)(bp_plugin_instance *self, const float *logits, const int32_t *labels,
                                  long rows, long cols, float *grad, float scale);
    /// Same with probability targets: (rows, cols).
    double (*softmax_xent_probs)(bp_plugin_instance *self, const float *logits, const float *targets,
                                 long rows, long cols, float *grad, float scale);
    /// Returns sum (y - t)^2; grad = 2 (y - t) scale.
    double (*mse)(bp_plugin_instance *self, const float *y, const float *t, long n, float *grad,
                  float scale);
    /// Binary cross-entropy on logits; grad = (sigmoid(z) - t) scale.
    double (*bce_logits)(bp_plugin_instance *self, const float *z, const float *t, long n,
                         float *grad, float scale);
    /// out[r] = index of the largest value of row r (the first on ties).
    void (*argmax_rows)(bp_plugin_instance *self, const float *x, long rows, long cols, int32_t *out);
    void (*fill)(bp_plugin_instance *self, float *x, float value, long n);
    void (*copy)(bp_plugin_instance *self, const float *src, float *dst, long n);
    void (*scale)(bp_plugin_instance *self, float *x, float s, long n);
    double (*sum_squares)(bp_plugin_instance *self, const float *x, long n);
    /// SGD with PyTorch semantics; velocity may be NULL when momentum == 0.
    void (*sgd_update)(bp_plugin_instance *self, float *param, const float *grad, float *velocity,
                       long n, float lr, float momentum, float weight_decay, int nesterov);
    /// Adam / AdamW with PyTorch semantics; step >= 1.
    void (*adam_update)(bp_plugin_instance *self, float *param, const float *grad, float *m, float *v,
                        long n, float lr, float beta1, float beta2, float eps, float weight_decay,
                        int decoupled, long step);

    // ---- Ops appended by version 2: images (NCHW), as backprop_spatial.h -------------------
    /// x: (N, C, H, W) -> col: (C kh kw, N outH outW); zeros in the padding.
    void (*im2col)(bp_plugin_instance *self, const float *x, long batch, const bp_plugin_window2d *w,
                   float *col);
    /// col: (C kh kw, N outH outW) -> dx: (N, C, H, W), the adjoint of im2col (overwrites dx).
    void (*col2im)(bp_plugin_instance *self, const float *col, long batch, const bp_plugin_window2d *w,
                   float *dx);
    /// x: (a, b, inner) -> y: (b, a, inner); no overlap.
    void (*swap_leading_axes)(bp_plugin_instance *self, const float *x, long a, long b, long inner, float *y);
    /// x: (planes, H, W) -> y, argmax: (planes, outH, outW); argmax is the index in its plane
    /// (iy W + ix) of the first maximum, NaN winning.
    void (*maxpool2d_forward)(bp_plugin_instance *self, const float *x, long planes,
                              const bp_plugin_window2d *w, float *y, int32_t *argmax);
    /// dy, argmax: (planes, outH, outW) -> dx: (planes, H, W) (overwrites dx; overlaps add).
    void (*maxpool2d_backward)(bp_plugin_instance *self, const float *dy, const int32_t *argmax,
                               long planes, const bp_plugin_window2d *w, float *dx);
    /// x: (planes, H, W) -> y: (planes, outH, outW), the mean over kh kw (padding counts as 0).
    void (*avgpool2d_forward)(bp_plugin_instance *self, const float *x, long planes,
                              const bp_plugin_window2d *w, float *y);
    /// dy: (planes, outH, outW) -> dx: (planes, H, W) (overwrites dx).
    void (*avgpool2d_backward)(bp_plugin_instance *self, const float *dy, long planes,
                               const bp_plugin_window2d *w, float *dx);
    /// x: (N, C, S) += bias: (C).
    void (*add_channel_bias)(bp_plugin_instance *self, float *x, const float *bias, long batch,
                             long channels, long spatial);
    /// out: (C) = (accumulate ? out : 0) + sums over (n, s) of x: (N, C, S), summed in double.
    void (*sum_channels)(bp_plugin_instance *self, const float *x, long batch, long channels,
                         long spatial, float *out, int accumulate);
    /// x: (N, C, S) -> mean, variance (biased): (C), computed in double.
    void (*batchnorm_statistics)(bp_plugin_instance *self, const float *x, long batch, long channels,
                                 long spatial, float *mean, float *variance);
    /// y = gamma (x - mean) / sqrt(var + eps) + beta per channel; xhat (may be NULL) gets the
    /// normalized x. x, xhat, y: (N, C, S); mean, variance, gamma, beta: (C).
    void (*batchnorm_forward)(bp_plugin_instance *self, const float *x, long batch, long channels,
                              long spatial, const float *mean, const float *variance, float epsilon,
                              const float *gamma, const float *beta, float *xhat, float *y);
    /// Batch-statistics backward; dx may be NULL (skipped). dgamma, dbeta: (C), (+)= per
    /// `accumulate`.
    void (*batchnorm_backward)(bp_plugin_instance *self, const float *dy, const float *xhat, long batch,
                               long channels, long spatial, const float *variance, float epsilon,
                               const float *gamma, float *dx, float *dgamma, float *dbeta, int accumulate);
    /// y[i] = a[i] b[i] for n values; y may be a or b.
    void (*multiply)(bp_plugin_instance *self, const float *a, const float *b, float *y, long n);

    // ---- Ops appended by version 3: direct convolution, as backprop_conv.h -----------------
    // A plugin that fills conv2d_forward is asked for the direct convolution (Conv2d calls
    // these three instead of im2col + sgemm); the other two slots may still be NULL (host).
    /// x: (N, C, H, W), weight: (K, C, kh, kw), bias: (K) or NULL -> y: (N, K, outH, outW).
    void (*conv2d_forward)(bp_plugin_instance *self, const float *x, long batch, const bp_plugin_window2d *w,
                           const float *weight, const float *bias, long out_channels, float *y);
    /// dy: (N, K, outH, outW), weight: (K, C, kh, kw) -> dx: (N, C, H, W) (overwrites dx).
    void (*conv2d_backward_data)(bp_plugin_instance *self, const float *dy, long batch,
                                 const bp_plugin_window2d *w, const float *weight, long out_channels, float *dx);
    /// x: (N, C, H, W), dy: (N, K, outH, outW) -> dweight: (K, C, kh, kw) and, when dbias is
    /// not NULL, dbias: (K) = Σ dy over (n, oy, ox); each adds when its accumulate flag is set.
    void (*conv2d_backward_weight)(bp_plugin_instance *self, const float *x, const float *dy, long batch,
                                   const bp_plugin_window2d *w, long out_channels, float *dweight,
                                   int accumulate, float *dbias, int accumulate_bias);
} bp_plugin;

/// The type of the exported BP_PLUGIN_ENTRY function.
typedef const bp_plugin *(*bp_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif  // BACKPROP_PLUGIN_H
