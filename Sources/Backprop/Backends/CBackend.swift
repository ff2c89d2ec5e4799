import CKernels

/// The `c` backend: the C kernels in `CKernels/` (BLIS-style SGEMM, vectorized softmax,
/// activations and optimizer updates), with AVX-512 or AVX2 chosen at run time and threads from
/// libomp when the package's `OpenMP` trait is on (the default).
///
/// The thread count and SIMD level are process-wide settings of the C library; `init(threads:)`
/// sets the thread count. Results for a given input do not depend on the thread count.
public final class CBackend: Backend {
    public let name = "c"

    /// For example "C kernels, avx512, 2 threads (OpenMP)".
    public var detail: String {
        let count = threads
        let threading = bp_has_openmp() != 0 ? "OpenMP" : "built without OpenMP"
        return "C kernels, \(simdLevel), \(count) thread\(count == 1 ? "" : "s") (\(threading))"
    }

    /// The number of threads the kernels use (1 when built without the `OpenMP` trait).
    public var threads: Int { Int(bp_num_threads()) }

    /// The SIMD level in use: "avx512", "avx2" or "portable".
    public var simdLevel: String { String(cString: bp_simd_level_name(bp_simd_level())) }

    /// - Parameter threads: the number of threads the kernels use from now on (values below 1
    ///   mean 1); nil keeps the current setting (BACKPROP_NUM_THREADS, else OMP_NUM_THREADS,
    ///   else the number of online cores).
    public init(threads: Int? = nil) {
        if let threads { bp_set_num_threads(Int32(clamping: threads)) }
    }

    // op(A): (m, k), op(B): (k, n) -> C: (m, n)
    public func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        bp_sgemm(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }

    public func addBias(_ x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, rows: Int, cols: Int) {
        bp_add_bias(x, bias, rows, cols)
    }

    public func sumColumns(
        _ x: UnsafePointer<Float>, rows: Int, cols: Int,
        into out: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        bp_sum_columns(x, rows, cols, out, accumulate ? 1 : 0)
    }

    public func activationForward(
        _ kind: Activation, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int
    ) {
        bp_activation_forward(kind.rawValue, x, y, count)
    }

    public func activationBackward(
        _ kind: Activation, y: UnsafePointer<Float>, dy: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>, count: Int
    ) {
        bp_activation_backward(kind.rawValue, y, dy, dx, count)
    }

    public func softmaxRows(_ x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        bp_softmax_rows(x, y, rows, cols)
    }

    public func softmaxCrossEntropy(
        logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>, rows: Int, cols: Int,
        grad: UnsafeMutablePointer<Float>, scale: Float
    ) -> Double {
        bp_softmax_xent_labels(logits, labels, rows, cols, grad, scale)
    }

    public func softmaxCrossEntropy(
        logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, rows: Int, cols: Int,
        grad: UnsafeMutablePointer<Float>, scale: Float
    ) -> Double {
        bp_softmax_xent_probs(logits, targets, rows, cols, grad, scale)
    }

    public func squaredError(
        _ y: UnsafePointer<Float>, target: UnsafePointer<Float>, count: Int,
        grad: UnsafeMutablePointer<Float>, scale: Float
    ) -> Double {
        bp_mse(y, target, count, grad, scale)
    }

    public func binaryCrossEntropyWithLogits(
        _ z: UnsafePointer<Float>, target: UnsafePointer<Float>, count: Int,
        grad: UnsafeMutablePointer<Float>, scale: Float
    ) -> Double {
        bp_bce_logits(z, target, count, grad, scale)
    }

    public func argmaxRows(_ x: UnsafePointer<Float>, rows: Int, cols: Int, into out: UnsafeMutablePointer<Int32>) {
        bp_argmax_rows(x, rows, cols, out)
    }

    public func fill(_ x: UnsafeMutablePointer<Float>, value: Float, count: Int) {
        bp_fill(x, value, count)
    }

    public func copy(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count: Int) {
        bp_copy(src, dst, count)
    }

    public func scale(_ x: UnsafeMutablePointer<Float>, by s: Float, count: Int) {
        bp_scale(x, s, count)
    }

    public func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double {
        bp_sum_squares(x, count)
    }

    public func sgdUpdate(
        param: UnsafeMutablePointer<Float>, grad: UnsafePointer<Float>,
        velocity: UnsafeMutablePointer<Float>?, count: Int,
        learningRate: Float, momentum: Float, weightDecay: Float, nesterov: Bool
    ) {
        bp_sgd_update(param, grad, velocity, count, learningRate, momentum, weightDecay, nesterov ? 1 : 0)
    }

    public func adamUpdate(
        param: UnsafeMutablePointer<Float>, grad: UnsafePointer<Float>,
        m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, count: Int,
        learningRate: Float, beta1: Float, beta2: Float, epsilon: Float,
        weightDecay: Float, decoupled: Bool, step: Int
    ) {
        bp_adam_update(param, grad, m, v, count, learningRate, beta1, beta2, epsilon,
                       weightDecay, decoupled ? 1 : 0, step)
    }
}
