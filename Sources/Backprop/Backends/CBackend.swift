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

// The image primitives through CKernels/spatial.c.
extension CBackend {
    /// The kernels' per-call settings: this backend's SIMD level and threads.
    private var context: bp_context { bp_context(simd_level: bp_simd_level(), threads: bp_num_threads()) }

    public func im2col(_ x: UnsafePointer<Float>, batch: Int, window: Window2d, col: UnsafeMutablePointer<Float>) {
        var ctx = context, w = window.kernelWindow
        bp_im2col(&ctx, x, batch, &w, col)
    }

    public func col2im(_ col: UnsafePointer<Float>, batch: Int, window: Window2d, dx: UnsafeMutablePointer<Float>) {
        var ctx = context, w = window.kernelWindow
        bp_col2im(&ctx, col, batch, &w, dx)
    }

    public func swapLeadingAxes(_ x: UnsafePointer<Float>, a: Int, b: Int, inner: Int, y: UnsafeMutablePointer<Float>) {
        var ctx = context
        bp_swap_leading_axes(&ctx, x, a, b, inner, y)
    }

    public func maxPool2dForward(
        _ x: UnsafePointer<Float>, planes: Int, window: Window2d,
        y: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>
    ) {
        var ctx = context, w = window.kernelWindow
        bp_maxpool2d_forward(&ctx, x, planes, &w, y, argmax)
    }

    public func maxPool2dBackward(
        _ dy: UnsafePointer<Float>, argmax: UnsafePointer<Int32>, planes: Int, window: Window2d,
        dx: UnsafeMutablePointer<Float>
    ) {
        var ctx = context, w = window.kernelWindow
        bp_maxpool2d_backward(&ctx, dy, argmax, planes, &w, dx)
    }

    public func avgPool2dForward(_ x: UnsafePointer<Float>, planes: Int, window: Window2d, y: UnsafeMutablePointer<Float>) {
        var ctx = context, w = window.kernelWindow
        bp_avgpool2d_forward(&ctx, x, planes, &w, y)
    }

    public func avgPool2dBackward(_ dy: UnsafePointer<Float>, planes: Int, window: Window2d, dx: UnsafeMutablePointer<Float>) {
        var ctx = context, w = window.kernelWindow
        bp_avgpool2d_backward(&ctx, dy, planes, &w, dx)
    }

    public func addChannelBias(_ x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int) {
        var ctx = context
        bp_add_channel_bias(&ctx, x, bias, batch, channels, spatial)
    }

    public func sumChannels(
        _ x: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
        into out: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        var ctx = context
        bp_sum_channels(&ctx, x, batch, channels, spatial, out, accumulate ? 1 : 0)
    }

    public func batchNormStatistics(
        _ x: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
        mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>
    ) {
        var ctx = context
        bp_batchnorm_statistics(&ctx, x, batch, channels, spatial, mean, variance)
    }

    public func batchNormForward(
        _ x: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
        mean: UnsafePointer<Float>, variance: UnsafePointer<Float>, epsilon: Float,
        gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
        xhat: UnsafeMutablePointer<Float>?, y: UnsafeMutablePointer<Float>
    ) {
        var ctx = context
        bp_batchnorm_forward(&ctx, x, batch, channels, spatial, mean, variance, epsilon, gamma, beta, xhat, y)
    }

    public func batchNormBackward(
        _ dy: UnsafePointer<Float>, xhat: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
        variance: UnsafePointer<Float>, epsilon: Float, gamma: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>?, dgamma: UnsafeMutablePointer<Float>, dbeta: UnsafeMutablePointer<Float>,
        accumulate: Bool
    ) {
        var ctx = context
        bp_batchnorm_backward(&ctx, dy, xhat, batch, channels, spatial, variance, epsilon, gamma, dx, dgamma, dbeta,
                              accumulate ? 1 : 0)
    }
}

extension Window2d {
    /// The C kernels' description of this window.
    var kernelWindow: bp_window2d {
        bp_window2d(channels: channels, height: height, width: width, kernel_h: kernelHeight, kernel_w: kernelWidth,
                    stride: stride, padding: padding)
    }
}
