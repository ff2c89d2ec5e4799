// gemm_ukernel_portable.c: the plain-C SGEMM microkernel (any CPU), a 4 x 8 register tile.
//
// Written as fixed-size loops over a small accumulator array so the compiler keeps it in
// registers and vectorizes the NR loop with the baseline SIMD of the target (SSE2 on x86-64).
#include "gemm_internal.h"

// The register tile; block sizes come from the caches (gemm_blocks.c) through the shares below
// (32 KB L1, 1 MB L2 -> KC 256, NC 512, MC 128).
enum { PORTABLE_MR = 4, PORTABLE_NR = 8 };

static void ukernel_portable(long kc, const float *restrict ap, const float *restrict bp,
                             float *restrict c, long ldc, float alpha, float beta, long mr, long nr) {
    float acc[PORTABLE_MR][PORTABLE_NR] = {{0}};
    for (long p = 0; p < kc; p++) {
        for (int i = 0; i < PORTABLE_MR; i++) {
            float a = ap[i];
            for (int j = 0; j < PORTABLE_NR; j++) acc[i][j] += a * bp[j];
        }
        ap += PORTABLE_MR;
        bp += PORTABLE_NR;
    }
    // One write-back for full and edge tiles keeps the rounding identical for both.
    bp_gemm_store_edge(&acc[0][0], PORTABLE_NR, c, ldc, mr, nr, alpha, beta);
}

static const bp_ukernel_info info = {
    ukernel_portable, PORTABLE_MR, PORTABLE_NR, .a_panel_l1 = 0.125, .b_block_l2 = 0.5, .a_block_l2 = 0.125,
    .b_panel_l1 = 0.5,
};

const bp_ukernel_info *bp_ukernel_portable(void) { return &info; }
