// gemm_epilogue.c: dispatch of the fused GEMM write-back (see gemm_epilogue_body.h).
#define BP_SIMD_BODY "gemm_epilogue_body.h"
#include "gemm_internal.h"
#include "simd_instantiate.h"

void bp_gemm_epilogue_apply(int level, const bp_gemm_epilogue *epi, float *c, long ldc,
                            long i0, long i1, long j0, long j1) {
    if (epi == NULL) return;
    BP_DISPATCH(level, gemm_epilogue_tile)(epi, c, ldc, i0, i1, j0, j1);
}
