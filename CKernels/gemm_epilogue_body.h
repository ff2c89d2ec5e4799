// gemm_epilogue_body.h: what a fused GEMM does to a finished tile of C while it is still in
// L1 (a body for simd_instantiate.h). It reuses the activation ranges of activations_body.h,
// whose masked tails give every element the same arithmetic wherever a range is cut, so a fused
// GEMM is bit-identical to bp_sgemm followed by bp_add_bias and bp_activation_forward (or
// bp_activation_backward) for any tiling and thread count.
#include "activations_body.h"

// C[i0:i1, j0:j1], row stride ldc:
//   forward:  C = f(C + bias)            (bias (n) may be NULL; activation < 0: none)
//   backward: C = C * f'(y), with y the forward output, row stride ldy (mask_y != NULL)
static void BP_FN(gemm_epilogue_tile)(const bp_gemm_epilogue *epi, float *c, long ldc,
                                      long i0, long i1, long j0, long j1) {
    long width = j1 - j0;
    if (width <= 0) return;
    if (ldc == width && (epi->mask_y == NULL || epi->ldy == width)) {
        // Whole rows of a C without padding: one range of (i1 - i0) * width values, so a narrow C
        // (the 25-8-2 network's 8 columns) runs in full vectors rather than a masked one per row.
        float *block = c + i0 * ldc;
        if (epi->bias != NULL) {
            for (long i = 0; i < i1 - i0; i++) {
                for (long j = 0; j < width; j++) block[i * width + j] += epi->bias[j];
            }
        }
        long count = (i1 - i0) * width;
        if (epi->mask_y != NULL) {
            BP_FN(activation_backward_range)(epi->activation, epi->mask_y + i0 * epi->ldy, block, block, 0, count);
        } else if (epi->activation >= 0) {
            BP_FN(activation_forward_range)(epi->activation, block, block, 0, count);
        }
        return;
    }
    int relu_or_none = epi->mask_y != NULL ? epi->activation == BP_RELU
                                           : (epi->activation == BP_RELU || epi->activation < 0);
    if (width % VW == 0 && relu_or_none) {
        // Whole vectors (every full tile of the microkernel) with ReLU or no activation: the
        // bias and the activation (or the mask) in registers, one pass over each row. The same
        // add and max (or select) as the ranges below, so the result is bit-identical.
        V zero = VSET1(0.0f);
        for (long i = i0; i < i1; i++) {
            float *row = c + i * ldc + j0;
            const float *y = epi->mask_y != NULL ? epi->mask_y + i * epi->ldy + j0 : NULL;
            for (long j = 0; j < width; j += VW) {
                V v = VLOAD(row + j);
                if (epi->bias != NULL) v = VADD(v, VLOAD(epi->bias + j0 + j));
                if (y != NULL) {
                    v = VSELECT_GT(VLOAD(y + j), zero, v, zero);
                } else if (epi->activation == BP_RELU) {
                    v = VMAX(zero, v);
                }
                VSTORE(row + j, v);
            }
        }
        return;
    }
    for (long i = i0; i < i1; i++) {
        float *row = c + i * ldc + j0;
        if (epi->bias != NULL) {
            const float *bias = epi->bias + j0;
            for (long j = 0; j < width; j++) row[j] += bias[j];
        }
        if (epi->mask_y != NULL) {
            BP_FN(activation_backward_range)(epi->activation, epi->mask_y + i * epi->ldy + j0, row, row, 0, width);
        } else if (epi->activation >= 0) {
            BP_FN(activation_forward_range)(epi->activation, row, row, 0, width);
        }
    }
}
