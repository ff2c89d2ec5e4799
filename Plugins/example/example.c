// The smallest honest Backprop plugin: GEMM and one image op (the per-channel bias of a
// convolution) with plain loops, every other op left NULL, so the host's C kernels run them. Build: cc -shared -fPIC -O2 -I <backprop>/CKernels/include
// example.c -o libbackprop-example.so. The walk-through is docs/PLUGINS.md.
#include <stdlib.h>

#include "backprop_plugin.h"

// Per-instance state: only the thread count (this plugin is single-threaded, so unused).
struct bp_plugin_instance {
    int threads;
};

static bp_plugin_instance *create(int threads, char *why, size_t why_size) {
    (void)why, (void)why_size;
    bp_plugin_instance *self = malloc(sizeof *self);
    if (self != NULL) self->threads = threads;
    return self;
}

static void destroy(bp_plugin_instance *self) { free(self); }

// C = alpha op(A) op(B) + beta C; op(A): (m, k), op(B): (k, n), C: (m, n), all row-major.
static void sgemm(bp_plugin_instance *self, int trans_a, int trans_b, long m, long n, long k,
                  float alpha, const float *a, long lda, const float *b, long ldb, float beta,
                  float *c, long ldc) {
    (void)self;
    for (long i = 0; i < m; i++) {
        for (long j = 0; j < n; j++) {
            float sum = 0.0f;
            // alpha == 0 must not read A or B (BLAS: C = beta·C even if A or B hold NaN).
            for (long p = 0; p < k && alpha != 0.0f; p++) {
                float x = trans_a ? a[p * lda + i] : a[i * lda + p];
                float y = trans_b ? b[j * ldb + p] : b[p * ldb + j];
                sum += x * y;
            }
            // beta == 0 must not read C (it may hold NaN).
            float scaled = alpha == 0.0f ? 0.0f : alpha * sum;
            c[i * ldc + j] = beta == 0.0f ? scaled : scaled + beta * c[i * ldc + j];
        }
    }
}

// x: (batch, channels, spatial) += bias: (channels), the bias of a convolution's output.
static void add_channel_bias(bp_plugin_instance *self, float *x, const float *bias, long batch,
                             long channels, long spatial) {
    (void)self;
    for (long n = 0; n < batch; n++) {
        for (long c = 0; c < channels; c++) {
            float *plane = x + (n * channels + c) * spatial;
            for (long s = 0; s < spatial; s++) plane[s] += bias[c];
        }
    }
}

static const bp_plugin table = {
    .abi_version = BP_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(bp_plugin),
    .name = "example",
    .detail = "example plugin: plain-loop GEMM and channel bias",
    .create = create,
    .destroy = destroy,
    .sgemm = sgemm,
    .add_channel_bias = add_channel_bias,  // an op appended by ABI version 2
};

const bp_plugin *backprop_plugin(void) { return &table; }
