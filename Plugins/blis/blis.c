// A Backprop plugin that runs GEMM through BLIS (Debian: libblis-dev), with the thread count
// held per instance in a BLIS rntm_t passed to every call (bli_sgemm_ex), never set globally.
// Every other op is left NULL, so the host's C kernels run it.
// Build: cc -shared -fPIC -O2 -I <backprop>/CKernels/include blis.c -lblis -o libbackprop-blis.so
#include <blis.h>
#include <stdio.h>
#include <stdlib.h>

#include "backprop_plugin.h"

struct bp_plugin_instance {
    rntm_t rntm;  // this instance's BLIS runtime settings: its thread count
};

static bp_plugin_instance *create(int threads, char *why, size_t why_size) {
    bp_plugin_instance *self = malloc(sizeof *self);
    if (self == NULL) {
        snprintf(why, why_size, "out of memory");
        return NULL;
    }
    bli_rntm_init(&self->rntm);
    bli_rntm_set_num_threads(threads < 1 ? 1 : threads, &self->rntm);
    return self;
}

static void destroy(bp_plugin_instance *self) { free(self); }

/// C: (m, n) with leading dimension ldc: C = beta C, not reading C when beta == 0.
static void scale_c(long m, long n, float beta, float *c, long ldc) {
    for (long i = 0; i < m; i++) {
        for (long j = 0; j < n; j++) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
    }
}

/// BLIS checks strides even where they are never used (one row): widen them there.
static long lead(long ld, long width) { return ld > width ? ld : (width > 1 ? width : 1); }

// op(A): (m, k), op(B): (k, n) -> C: (m, n), row-major: row stride ld, column stride 1.
static void sgemm(bp_plugin_instance *self, int trans_a, int trans_b, long m, long n, long k,
                  float alpha, const float *a, long lda, const float *b, long ldb, float beta,
                  float *c, long ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0 || alpha == 0.0f) {
        scale_c(m, n, beta, c, ldc);
        return;
    }
    // A is stored (m, k) or, transposed, (k, m); B is stored (k, n) or (n, k).
    long a_width = trans_a ? m : k, b_width = trans_b ? k : n;
    bli_sgemm_ex(trans_a ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE,
                 trans_b ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, m, n, k, &alpha,
                 (float *)a, lead(lda, a_width), 1, (float *)b, lead(ldb, b_width), 1, &beta,
                 c, lead(ldc, n), 1, NULL, &self->rntm);
}

static const bp_plugin table = {
    .abi_version = BP_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(bp_plugin),
    .name = "blis",
    .detail = "BLIS (bli_sgemm_ex, threads per instance)",
    .create = create,
    .destroy = destroy,
    .sgemm = sgemm,
};

const bp_plugin *backprop_plugin(void) { return &table; }
