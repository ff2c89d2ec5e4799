// gemm_pack.c: copies blocks of op(A) and op(B) into the contiguous, zero-padded micro-panel
// layout the microkernels stream through, handling both storage orders of each operand.
#include <string.h>

#include "gemm_internal.h"

// op(A)[i0:i0+mc, p0:p0+kc] -> dst: ceil(mc / MR) panels of (kc, MR).
void bp_pack_a(const float *a, long lda, int trans, long i0, long p0, long mc, long kc,
               long mr_tile, float *dst) {
    for (long ir = 0; ir < mc; ir += mr_tile) {
        long mr = mc - ir < mr_tile ? mc - ir : mr_tile;
        float *panel = dst + ir * kc;
        if (trans) {
            // A stored (k, m): the MR values of column p are contiguous.
            for (long p = 0; p < kc; p++) {
                const float *src = a + (p0 + p) * lda + i0 + ir;
                float *out = panel + p * mr_tile;
                for (long i = 0; i < mr; i++) out[i] = src[i];
                for (long i = mr; i < mr_tile; i++) out[i] = 0.0f;
            }
        } else {
            // A stored (m, k): read each row contiguously, scatter with stride MR.
            for (long i = 0; i < mr; i++) {
                const float *src = a + (i0 + ir + i) * lda + p0;
                for (long p = 0; p < kc; p++) panel[p * mr_tile + i] = src[p];
            }
            for (long i = mr; i < mr_tile; i++) {
                for (long p = 0; p < kc; p++) panel[p * mr_tile + i] = 0.0f;
            }
        }
    }
}

// op(B)[p0:p0+kc, j0:j0+nc] -> dst: ceil(nc / NR) panels of (kc, NR).
void bp_pack_b(const float *b, long ldb, int trans, long p0, long j0, long kc, long nc,
               long nr_tile, float *dst) {
    for (long jr = 0; jr < nc; jr += nr_tile) {
        long nr = nc - jr < nr_tile ? nc - jr : nr_tile;
        float *panel = dst + jr * kc;
        if (trans) {
            // B stored (n, k): read each row of B contiguously, scatter with stride NR.
            for (long j = 0; j < nr; j++) {
                const float *src = b + (j0 + jr + j) * ldb + p0;
                for (long p = 0; p < kc; p++) panel[p * nr_tile + j] = src[p];
            }
            for (long j = nr; j < nr_tile; j++) {
                for (long p = 0; p < kc; p++) panel[p * nr_tile + j] = 0.0f;
            }
        } else {
            // B stored (k, n): NR contiguous values per row p.
            for (long p = 0; p < kc; p++) {
                const float *src = b + (p0 + p) * ldb + j0 + jr;
                float *out = panel + p * nr_tile;
                if (nr == nr_tile) {
                    memcpy(out, src, (size_t)nr_tile * sizeof(float));
                } else {
                    for (long j = 0; j < nr; j++) out[j] = src[j];
                    for (long j = nr; j < nr_tile; j++) out[j] = 0.0f;
                }
            }
        }
    }
}
