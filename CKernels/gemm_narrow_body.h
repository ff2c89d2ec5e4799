// gemm_narrow_body.h: the SGEMM path for a narrow C (n <= VW, e.g. an output layer with 10
// classes), on vectors (a body for simd_instantiate.h).
//
// The general microkernel would waste most of its NR lanes and pay for packing A. Here op(A)
// is read in place through strides, each row of op(B) is one (masked) vector load, and one
// vector per row of C accumulates: blocks of NARROW_MR rows, NARROW_MR independent FMA chains.

#ifndef BP_NARROW_MR
#define BP_NARROW_MR 8
#endif

/// C[r0:r1, 0:n] = alpha * op(A)[r0:r1, :] * Bp + beta * C, where op(A)[i, p] =
/// a[i * rsa + p * csa] (rsa, csa = lda, 1 when A is stored (m, k); 1, lda when stored (k, m)),
/// row p of op(B) is bp + p * ldb: n <= VW values, or VW values (zero past n) when `full`
/// (a packed B). C is not read when beta == 0.
static void BP_FN(gemm_narrow_rows)(long k, long n, const float *a, long rsa, long csa,
                                    const float *bp, long ldb, int full, float *c, long ldc,
                                    float alpha, float beta, long r0, long r1) {
    for (long i = r0; i < r1; i += BP_NARROW_MR) {
        long mr = r1 - i < BP_NARROW_MR ? r1 - i : BP_NARROW_MR;
        // Rows past the edge re-read the last valid row (in bounds) and are never stored.
        long offset[BP_NARROW_MR];
        for (int r = 0; r < BP_NARROW_MR; r++) offset[r] = (i + (r < mr ? r : mr - 1)) * rsa;
        V acc[BP_NARROW_MR];
        for (int r = 0; r < BP_NARROW_MR; r++) acc[r] = VSET1(0.0f);
        const float *ap = a;
        if (full || n == VW) {
            for (long p = 0; p < k; p++) {
                V b = VLOAD(bp + p * ldb);
#pragma clang loop unroll(full)
                for (int r = 0; r < BP_NARROW_MR; r++) acc[r] = VFMA(VSET1(ap[offset[r]]), b, acc[r]);
                ap += csa;
            }
        } else {
            // Lanes past n load as 0 and are never stored.
            for (long p = 0; p < k; p++) {
                V b = VLOADN(bp + p * ldb, n, 0.0f);
#pragma clang loop unroll(full)
                for (int r = 0; r < BP_NARROW_MR; r++) acc[r] = VFMA(VSET1(ap[offset[r]]), b, acc[r]);
                ap += csa;
            }
        }
        V va = VSET1(alpha), vb = VSET1(beta);
        for (long r = 0; r < mr; r++) {
            float *row = c + (i + r) * ldc;
            V t = VMUL(va, acc[r]);
            if (beta != 0.0f) t = VFMA(vb, n == VW ? VLOAD(row) : VLOADN(row, n, 0.0f), t);
            if (n == VW) {
                VSTORE(row, t);
            } else {
                VSTOREN(row, t, n);
            }
        }
    }
}

#ifndef BP_NARROW2_MR
#define BP_NARROW2_MR 6
#endif

/// gemm_narrow_rows for VW < n <= 2 VW (AVX2's 10-class output layer): two vectors per row of C,
/// blocks of BP_NARROW2_MR rows, so each broadcast of A feeds two FMAs (12 accumulators).
/// Same arguments and per-element arithmetic as gemm_narrow_rows; `full` means each row of op(B)
/// holds 2 VW values (zero past n).
static void BP_FN(gemm_narrow2_rows)(long k, long n, const float *a, long rsa, long csa,
                                     const float *bp, long ldb, int full, float *c, long ldc,
                                     float alpha, float beta, long r0, long r1) {
    long n2 = n - VW;  // lanes used in the second vector, 1..VW
    for (long i = r0; i < r1; i += BP_NARROW2_MR) {
        long mr = r1 - i < BP_NARROW2_MR ? r1 - i : BP_NARROW2_MR;
        // Rows past the edge re-read the last valid row (in bounds) and are never stored.
        long offset[BP_NARROW2_MR];
        for (int r = 0; r < BP_NARROW2_MR; r++) offset[r] = (i + (r < mr ? r : mr - 1)) * rsa;
        V acc0[BP_NARROW2_MR], acc1[BP_NARROW2_MR];
        for (int r = 0; r < BP_NARROW2_MR; r++) acc0[r] = acc1[r] = VSET1(0.0f);
        const float *ap = a;
        if (full || n2 == VW) {
            for (long p = 0; p < k; p++) {
                V b0 = VLOAD(bp + p * ldb), b1 = VLOAD(bp + p * ldb + VW);
#pragma clang loop unroll(full)
                for (int r = 0; r < BP_NARROW2_MR; r++) {
                    V av = VSET1(ap[offset[r]]);
                    acc0[r] = VFMA(av, b0, acc0[r]);
                    acc1[r] = VFMA(av, b1, acc1[r]);
                }
                ap += csa;
            }
        } else {
            // Lanes past n load as 0 and are never stored.
            for (long p = 0; p < k; p++) {
                V b0 = VLOAD(bp + p * ldb), b1 = VLOADN(bp + p * ldb + VW, n2, 0.0f);
#pragma clang loop unroll(full)
                for (int r = 0; r < BP_NARROW2_MR; r++) {
                    V av = VSET1(ap[offset[r]]);
                    acc0[r] = VFMA(av, b0, acc0[r]);
                    acc1[r] = VFMA(av, b1, acc1[r]);
                }
                ap += csa;
            }
        }
        V va = VSET1(alpha), vb = VSET1(beta);
        for (long r = 0; r < mr; r++) {
            float *row = c + (i + r) * ldc;
            V t0 = VMUL(va, acc0[r]), t1 = VMUL(va, acc1[r]);
            if (beta != 0.0f) {
                t0 = VFMA(vb, VLOAD(row), t0);
                t1 = VFMA(vb, n2 == VW ? VLOAD(row + VW) : VLOADN(row + VW, n2, 0.0f), t1);
            }
            VSTORE(row, t0);
            if (n2 == VW) {
                VSTORE(row + VW, t1);
            } else {
                VSTOREN(row + VW, t1, n2);
            }
        }
    }
}
