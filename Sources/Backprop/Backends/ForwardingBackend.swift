/// A backend that forwards every op to another one: the base class for a wrapper that changes
/// or observes only some ops (counting GEMMs, logging, timing, replacing one kernel).
///
/// A wrapper written directly against ``Backend`` compiles even when it forgets an op, because
/// every requirement has a default: the Swift reference loops. That op then runs slowly with no
/// warning. Subclassing `ForwardingBackend` instead forwards every op by construction, and the
/// subclass overrides only what it changes:
///
/// ```swift
/// final class CountingBackend: ForwardingBackend {
///     let gemms = Atomic<Int>(0)
///     override var name: String { "counting" }
///     override func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
///                        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
///                        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
///         gemms.add(1, ordering: .relaxed)
///         super.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
///                    b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
///     }
/// }
/// let backend = CountingBackend(wrapping: CBackend(threads: 2))
/// ```
///
/// ``ReferenceFallbacks/ops(of:)`` (and `backprop verify`, `backprop backends --ops`) lists the
/// ops of any backend that reach the reference loops. A `ForwardingBackend` is not a
/// ``FusedGEMMBackend`` even when its base is: the dense layers then call `gemm`, `addBias` and
/// the activations separately, so an override of `gemm` sees every GEMM.
///
/// A subclass must keep the `Sendable` promise: state it adds must be safe to share (atomics,
/// locks, or constants), as the base's is.
open class ForwardingBackend: Backend, @unchecked Sendable {
    /// The backend every op is forwarded to.
    public let base: any Backend

    /// A backend that runs every op on `base` until a subclass overrides it.
    /// - Parameter base: the backend that runs every op the subclass does not override.
    public init(wrapping base: any Backend) {
        self.base = base
    }

    /// The base's name; override it to register the wrapper under its own name.
    open var name: String { base.name }
    /// The base's detail; override it to say what the wrapper adds.
    open var detail: String { base.detail }

    open func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        base.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                  b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }

    open func addBias(_ x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, rows: Int, cols: Int) {
        base.addBias(x, bias: bias, rows: rows, cols: cols)
    }

    open func sumColumns(
        _ x: UnsafePointer<Float>, rows: Int, cols: Int,
        into out: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        base.sumColumns(x, rows: rows, cols: cols, into: out, accumulate: accumulate)
    }

    open func activationForward(
        _ kind: Activation, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int
    ) {
        base.activationForward(kind, x: x, y: y, count: count)
    }

    open func activationBackward(
        _ kind: Activation, y: UnsafePointer<Float>, dy: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>, count: Int
    ) {
        base.activationBackward(kind, y: y, dy: dy, dx: dx, count: count)
    }

    open func softmaxRows(_ x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        base.softmaxRows(x, y: y, rows: rows, cols: cols)
    }

    open func softmaxCrossEntropy(
        logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>, rows: Int, cols: Int,
        grad: UnsafeMutablePointer<Float>, scale: Float
    ) -> Double {
        base.softmaxCrossEntropy(logits: logits, labels: labels, rows: rows, cols: cols, grad: grad, scale: scale)
    }

    open func softmaxCrossEntropy(
        logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, rows: Int, cols: Int,
        grad: UnsafeMutablePointer<Float>, scale: Float
    ) -> Double {
        base.softmaxCrossEntropy(logits: logits, targets: targets, rows: rows, cols: cols, grad: grad, scale: scale)
    }

    open func squaredError(
        _ y: UnsafePointer<Float>, target: UnsafePointer<Float>, count: Int,
        grad: UnsafeMutablePointer<Float>, scale: Float
    ) -> Double {
        base.squaredError(y, target: target, count: count, grad: grad, scale: scale)
    }

    open func binaryCrossEntropyWithLogits(
        _ z: UnsafePointer<Float>, target: UnsafePointer<Float>, count: Int,
        grad: UnsafeMutablePointer<Float>, scale: Float
    ) -> Double {
        base.binaryCrossEntropyWithLogits(z, target: target, count: count, grad: grad, scale: scale)
    }

    open func argmaxRows(_ x: UnsafePointer<Float>, rows: Int, cols: Int, into out: UnsafeMutablePointer<Int32>) {
        base.argmaxRows(x, rows: rows, cols: cols, into: out)
    }

    open func fill(_ x: UnsafeMutablePointer<Float>, value: Float, count: Int) {
        base.fill(x, value: value, count: count)
    }

    open func copy(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count: Int) {
        base.copy(src, to: dst, count: count)
    }

    open func scale(_ x: UnsafeMutablePointer<Float>, by s: Float, count: Int) {
        base.scale(x, by: s, count: count)
    }

    open func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double {
        base.sumOfSquares(x, count: count)
    }

    open func im2col(_ x: UnsafePointer<Float>, batch: Int, window: Window2d, col: UnsafeMutablePointer<Float>) {
        base.im2col(x, batch: batch, window: window, col: col)
    }

    open func col2im(_ col: UnsafePointer<Float>, batch: Int, window: Window2d, dx: UnsafeMutablePointer<Float>) {
        base.col2im(col, batch: batch, window: window, dx: dx)
    }

    open func maxPool2dForward(
        _ x: UnsafePointer<Float>, planes: Int, window: Window2d,
        y: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>
    ) {
        base.maxPool2dForward(x, planes: planes, window: window, y: y, argmax: argmax)
    }

    open func maxPool2dBackward(
        _ dy: UnsafePointer<Float>, argmax: UnsafePointer<Int32>, planes: Int, window: Window2d,
        dx: UnsafeMutablePointer<Float>
    ) {
        base.maxPool2dBackward(dy, argmax: argmax, planes: planes, window: window, dx: dx)
    }

    open func avgPool2dForward(_ x: UnsafePointer<Float>, planes: Int, window: Window2d, y: UnsafeMutablePointer<Float>) {
        base.avgPool2dForward(x, planes: planes, window: window, y: y)
    }

    open func avgPool2dBackward(_ dy: UnsafePointer<Float>, planes: Int, window: Window2d, dx: UnsafeMutablePointer<Float>) {
        base.avgPool2dBackward(dy, planes: planes, window: window, dx: dx)
    }

    open func swapLeadingAxes(_ x: UnsafePointer<Float>, a: Int, b: Int, inner: Int, y: UnsafeMutablePointer<Float>) {
        base.swapLeadingAxes(x, a: a, b: b, inner: inner, y: y)
    }

    open func addChannelBias(_ x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int) {
        base.addChannelBias(x, bias: bias, batch: batch, channels: channels, spatial: spatial)
    }

    open func sumChannels(
        _ x: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
        into out: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        base.sumChannels(x, batch: batch, channels: channels, spatial: spatial, into: out, accumulate: accumulate)
    }

    open func batchNormStatistics(
        _ x: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
        mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>
    ) {
        base.batchNormStatistics(x, batch: batch, channels: channels, spatial: spatial, mean: mean, variance: variance)
    }

    open func batchNormForward(
        _ x: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
        mean: UnsafePointer<Float>, variance: UnsafePointer<Float>, epsilon: Float,
        gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
        xhat: UnsafeMutablePointer<Float>?, y: UnsafeMutablePointer<Float>
    ) {
        base.batchNormForward(x, batch: batch, channels: channels, spatial: spatial, mean: mean, variance: variance,
                              epsilon: epsilon, gamma: gamma, beta: beta, xhat: xhat, y: y)
    }

    open func batchNormBackward(
        _ dy: UnsafePointer<Float>, xhat: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
        variance: UnsafePointer<Float>, epsilon: Float, gamma: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>?, dgamma: UnsafeMutablePointer<Float>, dbeta: UnsafeMutablePointer<Float>,
        accumulate: Bool
    ) {
        base.batchNormBackward(dy, xhat: xhat, batch: batch, channels: channels, spatial: spatial, variance: variance,
                               epsilon: epsilon, gamma: gamma, dx: dx, dgamma: dgamma, dbeta: dbeta,
                               accumulate: accumulate)
    }

    open func multiply(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        base.multiply(a, b, into: y, count: count)
    }

    open var prefersDirectConvolution: Bool { base.prefersDirectConvolution }

    open func conv2dForward(
        _ x: UnsafePointer<Float>, batch: Int, window: Window2d, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, outChannels: Int, y: UnsafeMutablePointer<Float>
    ) {
        base.conv2dForward(x, batch: batch, window: window, weight: weight, bias: bias, outChannels: outChannels, y: y)
    }

    open func conv2dBackwardData(
        _ dy: UnsafePointer<Float>, batch: Int, window: Window2d, weight: UnsafePointer<Float>,
        outChannels: Int, dx: UnsafeMutablePointer<Float>
    ) {
        base.conv2dBackwardData(dy, batch: batch, window: window, weight: weight, outChannels: outChannels, dx: dx)
    }

    open func conv2dBackwardWeight(
        _ x: UnsafePointer<Float>, dy: UnsafePointer<Float>, batch: Int, window: Window2d,
        outChannels: Int, into dweight: UnsafeMutablePointer<Float>, accumulate: Bool,
        bias dbias: UnsafeMutablePointer<Float>?, accumulateBias: Bool
    ) {
        base.conv2dBackwardWeight(x, dy: dy, batch: batch, window: window, outChannels: outChannels,
                                      into: dweight, accumulate: accumulate, bias: dbias, accumulateBias: accumulateBias)
    }

    open func sgdUpdate(
        param: UnsafeMutablePointer<Float>, grad: UnsafePointer<Float>,
        velocity: UnsafeMutablePointer<Float>?, count: Int,
        learningRate: Float, momentum: Float, weightDecay: Float, nesterov: Bool
    ) {
        base.sgdUpdate(param: param, grad: grad, velocity: velocity, count: count, learningRate: learningRate,
                       momentum: momentum, weightDecay: weightDecay, nesterov: nesterov)
    }

    open func adamUpdate(
        param: UnsafeMutablePointer<Float>, grad: UnsafePointer<Float>,
        m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, count: Int,
        learningRate: Float, beta1: Float, beta2: Float, epsilon: Float,
        weightDecay: Float, decoupled: Bool, step: Int
    ) {
        base.adamUpdate(param: param, grad: grad, m: m, v: v, count: count, learningRate: learningRate,
                        beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
                        decoupled: decoupled, step: step)
    }
}
