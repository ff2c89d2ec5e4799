import CKernels

/// The `c` backend: the C kernels in `CKernels/` (BLIS-style SGEMM, vectorized softmax,
/// activations and optimizer updates), with AVX-512 or AVX2 chosen at run time and threads from
/// libomp when the package's `OpenMP` trait is on (the default).
///
/// Each instance owns its settings (a `bp_context` passed to every kernel call), so two
/// instances with different thread counts or SIMD levels can be used side by side in one
/// process. Results for a given input do not depend on the thread count.
// @unchecked: the only stored state is the context, written once in init and read-only after.
public final class CBackend: Backend, @unchecked Sendable {
    public let name = "c"

    /// The settings every kernel call receives (read-only after init).
    private let context: UnsafeMutablePointer<bp_context>

    /// For example "C kernels, avx512, 2 threads (OpenMP)".
    public var detail: String {
        let count = threads
        let threading = bp_has_openmp() != 0 ? "OpenMP" : "built without OpenMP"
        return "C kernels, \(simdLevel), \(count) thread\(count == 1 ? "" : "s") (\(threading))"
    }

    /// The most threads a kernel call uses, as the kernels read it from this instance's context
    /// (1 when built without the `OpenMP` trait).
    public var threads: Int { Int(bp_context_threads(context)) }

    /// The SIMD level the kernels run at for this instance: "avx512", "avx2" or "portable".
    public var simdLevel: String { String(cString: bp_simd_level_name(bp_context_simd_level(context))) }

    /// A C-kernel backend with an explicit thread count and SIMD level (no environment read).
    ///
    /// - Parameters:
    ///   - threads: the most threads a kernel uses (values below 1 mean 1); nil means every
    ///     online core. The environment is not read here: ``init(threads:simd:environment:)``
    ///     and ``BackendRegistry`` apply `BACKPROP_NUM_THREADS` and `OMP_NUM_THREADS`.
    ///   - simd: the SIMD level (lowered to what the CPU supports); nil means the best one.
    public init(threads: Int? = nil, simd: SIMDLevel? = nil) {
        context = .allocate(capacity: 1)
        context.initialize(to: bp_context(
            simd_level: (simd ?? .supported).rawValue,
            threads: Int32(clamping: max(1, threads ?? ThreadSettings.activeCores))))
    }

    /// Like ``init(threads:simd:)``, with nil settings resolved from `environment` by
    /// ``ThreadSettings/resolve(_:environment:)`` and ``SIMDLevel/resolve(_:environment:)``.
    /// - Throws: ``BackpropError/invalidArgument(_:)`` for a bad count or variable.
    public convenience init(
        threads: Int?, simd: SIMDLevel? = nil, environment: [String: String]
    ) throws {
        self.init(
            threads: try ThreadSettings.resolve(threads, environment: environment),
            simd: try SIMDLevel.resolve(simd, environment: environment))
    }

    deinit { context.deallocate() }

    /// Calls `body` with this instance's kernel context (for tests and diagnostics).
    func withContext<R>(_ body: (UnsafePointer<bp_context>) throws -> R) rethrows -> R {
        try body(context)
    }

    // op(A): (m, k), op(B): (k, n) -> C: (m, n)
    public func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        bp_sgemm(context, transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }

    public func addBias(_ x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, rows: Int, cols: Int) {
        bp_add_bias(context, x, bias, rows, cols)
    }

    public func sumColumns(
        _ x: UnsafePointer<Float>, rows: Int, cols: Int,
        into out: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        bp_sum_columns(context, x, rows, cols, out, accumulate ? 1 : 0)
    }

    public func activationForward(
        _ kind: Activation, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int
    ) {
        bp_activation_forward(context, kind.rawValue, x, y, count)
    }

    public func activationBackward(
        _ kind: Activation, y: UnsafePointer<Float>, dy: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>, count: Int
    ) {
        bp_activation_backward(context, kind.rawValue, y, dy, dx, count)
    }

    public func softmaxRows(_ x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        bp_softmax_rows(context, x, y, rows, cols)
    }

    public func softmaxCrossEntropy(
        logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>, rows: Int, cols: Int,
        grad: UnsafeMutablePointer<Float>, scale: Float
    ) -> Double {
        bp_softmax_xent_labels(context, logits, labels, rows, cols, grad, scale)
    }

    public func softmaxCrossEntropy(
        logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, rows: Int, cols: Int,
        grad: UnsafeMutablePointer<Float>, scale: Float
    ) -> Double {
        bp_softmax_xent_probs(context, logits, targets, rows, cols, grad, scale)
    }

    public func squaredError(
        _ y: UnsafePointer<Float>, target: UnsafePointer<Float>, count: Int,
        grad: UnsafeMutablePointer<Float>, scale: Float
    ) -> Double {
        bp_mse(context, y, target, count, grad, scale)
    }

    public func binaryCrossEntropyWithLogits(
        _ z: UnsafePointer<Float>, target: UnsafePointer<Float>, count: Int,
        grad: UnsafeMutablePointer<Float>, scale: Float
    ) -> Double {
        bp_bce_logits(context, z, target, count, grad, scale)
    }

    public func argmaxRows(_ x: UnsafePointer<Float>, rows: Int, cols: Int, into out: UnsafeMutablePointer<Int32>) {
        bp_argmax_rows(context, x, rows, cols, out)
    }

    public func fill(_ x: UnsafeMutablePointer<Float>, value: Float, count: Int) {
        bp_fill(context, x, value, count)
    }

    public func copy(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count: Int) {
        bp_copy(context, src, dst, count)
    }

    public func scale(_ x: UnsafeMutablePointer<Float>, by s: Float, count: Int) {
        bp_scale(context, x, s, count)
    }

    public func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double {
        bp_sum_squares(context, x, count)
    }

    public func sgdUpdate(
        param: UnsafeMutablePointer<Float>, grad: UnsafePointer<Float>,
        velocity: UnsafeMutablePointer<Float>?, count: Int,
        learningRate: Float, momentum: Float, weightDecay: Float, nesterov: Bool
    ) {
        bp_sgd_update(context, param, grad, velocity, count, learningRate, momentum, weightDecay, nesterov ? 1 : 0)
    }

    public func adamUpdate(
        param: UnsafeMutablePointer<Float>, grad: UnsafePointer<Float>,
        m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, count: Int,
        learningRate: Float, beta1: Float, beta2: Float, epsilon: Float,
        weightDecay: Float, decoupled: Bool, step: Int
    ) {
        bp_adam_update(context, param, grad, m, v, count, learningRate, beta1, beta2, epsilon,
                       weightDecay, decoupled ? 1 : 0, step)
    }
}

// The image primitives through CKernels/spatial.c.
extension CBackend {
    public func im2col(_ x: UnsafePointer<Float>, batch: Int, window: Window2d, col: UnsafeMutablePointer<Float>) {
        var w = window.kernelWindow
        bp_im2col(context, x, batch, &w, col)
    }

    public func col2im(_ col: UnsafePointer<Float>, batch: Int, window: Window2d, dx: UnsafeMutablePointer<Float>) {
        var w = window.kernelWindow
        bp_col2im(context, col, batch, &w, dx)
    }

    public func swapLeadingAxes(_ x: UnsafePointer<Float>, a: Int, b: Int, inner: Int, y: UnsafeMutablePointer<Float>) {
        bp_swap_leading_axes(context, x, a, b, inner, y)
    }

    public func maxPool2dForward(
        _ x: UnsafePointer<Float>, planes: Int, window: Window2d,
        y: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>
    ) {
        var w = window.kernelWindow
        bp_maxpool2d_forward(context, x, planes, &w, y, argmax)
    }

    public func maxPool2dBackward(
        _ dy: UnsafePointer<Float>, argmax: UnsafePointer<Int32>, planes: Int, window: Window2d,
        dx: UnsafeMutablePointer<Float>
    ) {
        var w = window.kernelWindow
        bp_maxpool2d_backward(context, dy, argmax, planes, &w, dx)
    }

    public func avgPool2dForward(_ x: UnsafePointer<Float>, planes: Int, window: Window2d, y: UnsafeMutablePointer<Float>) {
        var w = window.kernelWindow
        bp_avgpool2d_forward(context, x, planes, &w, y)
    }

    public func avgPool2dBackward(_ dy: UnsafePointer<Float>, planes: Int, window: Window2d, dx: UnsafeMutablePointer<Float>) {
        var w = window.kernelWindow
        bp_avgpool2d_backward(context, dy, planes, &w, dx)
    }

    public func addChannelBias(_ x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int) {
        bp_add_channel_bias(context, x, bias, batch, channels, spatial)
    }

    public func sumChannels(
        _ x: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
        into out: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        bp_sum_channels(context, x, batch, channels, spatial, out, accumulate ? 1 : 0)
    }

    public func batchNormStatistics(
        _ x: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
        mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>
    ) {
        bp_batchnorm_statistics(context, x, batch, channels, spatial, mean, variance)
    }

    public func batchNormForward(
        _ x: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
        mean: UnsafePointer<Float>, variance: UnsafePointer<Float>, epsilon: Float,
        gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
        xhat: UnsafeMutablePointer<Float>?, y: UnsafeMutablePointer<Float>
    ) {
        bp_batchnorm_forward(context, x, batch, channels, spatial, mean, variance, epsilon, gamma, beta, xhat, y)
    }

    public func batchNormBackward(
        _ dy: UnsafePointer<Float>, xhat: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
        variance: UnsafePointer<Float>, epsilon: Float, gamma: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>?, dgamma: UnsafeMutablePointer<Float>, dbeta: UnsafeMutablePointer<Float>,
        accumulate: Bool
    ) {
        bp_batchnorm_backward(context, dy, xhat, batch, channels, spatial, variance, epsilon, gamma, dx, dgamma, dbeta,
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
