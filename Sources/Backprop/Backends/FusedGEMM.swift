import CKernels

/// A backend that can finish a dense layer's GEMM in the write-back of each tile of C (bias,
/// activation, or the activation's derivative as a mask) instead of separate passes over C.
///
/// Optional: layers check for it and otherwise call ``Backend/gemm(transA:transB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)``,
/// ``Backend/addBias(_:bias:rows:cols:)``, ``Backend/sumColumns(_:rows:cols:into:accumulate:)``
/// and the activation kernels in turn. A conforming backend must give exactly the results of
/// that sequence of its own calls.
public protocol FusedGEMMBackend: Backend {
    /// C = f(op(A)·op(B) + bias): `gemm` with alpha 1 and beta 0, then `addBias` (when `bias` is
    /// given), then `activationForward` (when `activation` is given). Shapes as in `gemm`;
    /// bias: (n).
    func gemmBiasActivation(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        bias: UnsafePointer<Float>?, activation: Activation?,
        c: UnsafeMutablePointer<Float>, ldc: Int)

    /// C = (op(A)·op(B)) · f'(y): `gemm` with alpha 1 and beta 0, then
    /// `activationBackward(kind, y: y, dy: c, dx: c)`. y: (m, n) with row stride `ldy`, the
    /// activation's forward output.
    func gemmActivationBackward(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        activation: Activation, y: UnsafePointer<Float>, ldy: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int)

    /// A dense layer's weight and bias gradients in one call: C = op(A)·B + beta·C (`gemm` with
    /// alpha 1, B not transposed), then `sumColumns(b, rows: k, cols: n, into: sums,
    /// accumulate:)`. B: (k, n), contiguous; sums: (n). Has a default: those two calls.
    func gemmSummingColumns(
        transA: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, beta: Float,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        sums: UnsafeMutablePointer<Float>, accumulate: Bool)
}

extension FusedGEMMBackend {
    /// `gemm`, then `sumColumns` of B: the definition, for a backend with nothing faster.
    public func gemmSummingColumns(
        transA: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, beta: Float,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        sums: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        gemm(transA: transA, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: n,
             beta: beta, c: c, ldc: ldc)
        sumColumns(b, rows: k, cols: n, into: sums, accumulate: accumulate)
    }
}

extension CBackend: FusedGEMMBackend {
    // op(A): (m, k), op(B): (k, n) -> C: (m, n) = f(op(A)·op(B) + bias)
    public func gemmBiasActivation(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        bias: UnsafePointer<Float>?, activation: Activation?,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        withContext { context in
            bp_sgemm_bias_activation(context, Int32(BP_GEMM_AUTO.rawValue), transA ? 1 : 0, transB ? 1 : 0,
                                     m, n, k, a, lda, b, ldb, bias, activation?.rawValue ?? -1, c, ldc)
        }
    }

    // op(A): (m, k), op(B): (k, n), y: (m, n) -> C: (m, n) = (op(A)·op(B)) · f'(y)
    public func gemmActivationBackward(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        activation: Activation, y: UnsafePointer<Float>, ldy: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        withContext { context in
            bp_sgemm_activation_backward(context, Int32(BP_GEMM_AUTO.rawValue), transA ? 1 : 0, transB ? 1 : 0,
                                         m, n, k, a, lda, b, ldb, activation.rawValue, y, ldy, c, ldc)
        }
    }

    // op(A): (m, k), B: (k, n) -> C: (m, n) = op(A)·B + beta·C, sums: (n) (+)= Σ_rows B
    public func gemmSummingColumns(
        transA: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, beta: Float,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        sums: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        withContext { context in
            bp_sgemm_column_sums(context, Int32(BP_GEMM_AUTO.rawValue), transA ? 1 : 0, m, n, k, a, lda, b,
                                 beta, c, ldc, sums, accumulate ? 1 : 0)
        }
    }
}
