// gemm_skinny_body.h: the SGEMM path for a C of a few rows (batch-1 inference: x (1, 784)
// times W (784, 256)), on vectors (a body for simd_instantiate.h).
//
// Packing B would copy all of it to use each element m times; the narrow kernel would compute
// 8 rows to keep 1. Here each row of C is computed alone: op(A)[i, p] is broadcast and
// BP_SKINNY_VECTORS vectors of the untransposed B row p (read in place) are multiply-added into
// as many accumulators; columns past the last full block use masked vectors.

#ifndef BP_SKINNY_VECTORS
#define BP_SKINNY_VECTORS 4
#endif

/// C[0:m, j0:j1] = alpha * op(A)[0:m, :] * B[:, j0:j1] + beta * C, where op(A)[i, p] =
/// a[i * rsa + p * csa] and B is stored (k, n) with row stride ldb. C is not read when beta == 0.
static void BP_FN(gemm_skinny_cols)(long m, long k, const float *a, long rsa, long csa,
                                    const float *b, long ldb, float *c, long ldc,
                                    float alpha, float beta, long j0, long j1) {
    V va = VSET1(alpha), vb = VSET1(beta);
    for (long i = 0; i < m; i++) {
        const float *arow = a + i * rsa;
        float *crow = c + i * ldc;
        for (long j = j0; j < j1; j += BP_SKINNY_VECTORS * VW) {
            // Lanes in use per vector of this block (0 for vectors past j1).
            long lanes[BP_SKINNY_VECTORS];
            for (int q = 0; q < BP_SKINNY_VECTORS; q++) {
                long left = j1 - j - q * VW;
                lanes[q] = left <= 0 ? 0 : left < VW ? left : VW;
            }
            V acc[BP_SKINNY_VECTORS];
            for (int q = 0; q < BP_SKINNY_VECTORS; q++) acc[q] = VSET1(0.0f);
            if (lanes[BP_SKINNY_VECTORS - 1] == VW) {
                for (long p = 0; p < k; p++) {
                    V av = VSET1(arow[p * csa]);
                    const float *brow = b + p * ldb + j;
#pragma clang loop unroll(full)
                    for (int q = 0; q < BP_SKINNY_VECTORS; q++) acc[q] = VFMA(av, VLOAD(brow + q * VW), acc[q]);
                }
            } else {
                for (long p = 0; p < k; p++) {
                    V av = VSET1(arow[p * csa]);
                    const float *brow = b + p * ldb + j;
                    for (int q = 0; q < BP_SKINNY_VECTORS && lanes[q] > 0; q++) {
                        V bv = lanes[q] == VW ? VLOAD(brow + q * VW) : VLOADN(brow + q * VW, lanes[q], 0.0f);
                        acc[q] = VFMA(av, bv, acc[q]);
                    }
                }
            }
            for (int q = 0; q < BP_SKINNY_VECTORS && lanes[q] > 0; q++) {
                float *out = crow + j + q * VW;
                V t = VMUL(va, acc[q]);
                if (beta != 0.0f) t = VFMA(vb, lanes[q] == VW ? VLOAD(out) : VLOADN(out, lanes[q], 0.0f), t);
                if (lanes[q] == VW) {
                    VSTORE(out, t);
                } else {
                    VSTOREN(out, t, lanes[q]);
                }
            }
        }
    }
}
