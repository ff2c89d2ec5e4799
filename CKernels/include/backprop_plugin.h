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
// Versioning. `abi_version` is BP_PLUGIN_ABI_VERSION as the plugin saw it; the host refuses a
// version it does not know (older or newer). Within one version, new op slots are only ever
// appended, and `struct_size` (sizeof(bp_plugin) as the plugin was compiled) tells the host
// which slots exist: a table smaller than version 1's is refused, a larger one is accepted
// and its unknown tail ignored.
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
// (CKernels/include/backprop_kernels.h, the same names without `bp_`) and of the Swift
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

/// The ABI version this header describes.
#define BP_PLUGIN_ABI_VERSION 1u
/// The name of the function every plugin exports.
#define BP_PLUGIN_ENTRY "backprop_plugin"

/// A plugin's per-instance state (its thread count, its library handles); opaque to the host.
typedef struct bp_plugin_instance bp_plugin_instance;

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
} bp_plugin;

/// The type of the exported BP_PLUGIN_ENTRY function.
typedef const bp_plugin *(*bp_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif  // BACKPROP_PLUGIN_H
