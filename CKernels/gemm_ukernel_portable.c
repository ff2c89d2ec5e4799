// gemm_ukernel_portable.c: the plain-C SGEMM microkernel (any CPU), a 4 x 8 register tile.
//
// Written as fixed-size loops over a small accumulator array so the compiler keeps it in
// registers and vectorizes the NR loop with the baseline SIMD of the target (SSE2 on x86-64).
#include "gemm_internal.h"

enum { PORTABLE_MR = 4, PORTABLE_NR = 8, PORTABLE_KC = 256, PORTABLE_NC = 512, PORTABLE_MC = 128 };

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

static const bp_gemm_config config = {
    ukernel_portable, PORTABLE_MR, PORTABLE_NR, PORTABLE_MC, PORTABLE_KC, PORTABLE_NC,
};

const bp_gemm_config *bp_gemm_config_portable(void) { return &config; }
