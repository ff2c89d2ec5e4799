import Synchronization

/// GEMM through OpenBLAS's `cblas_sgemm`; every other op through a delegate backend.
///
/// OpenBLAS is loaded at run time (see `OpenBLASLoader`), so this type exists on every
/// machine; its initializer throws ``BackpropError/backendUnavailable(name:reason:)`` where
/// the library is missing. OpenBLAS and the delegate get the same thread count, so their
/// threads never oversubscribe the cores.
public final class OpenBLASBackend: Backend {
    public let name = "openblas"
    /// The OpenBLAS build, the thread count and the backend that runs the non-GEMM ops.
    public let detail: String
    /// The number of threads OpenBLAS uses for each GEMM.
    public let threads: Int
    /// Runs every op except GEMM: softmax, activations, losses, optimizer updates.
    public let elementwise: any Backend
    private let library: OpenBLASLibrary

    /// Loads OpenBLAS and sets its thread count.
    /// - Parameter threads: threads for OpenBLAS and the delegate; nil resolves it with
    ///   ``ThreadSettings/resolve(_:environment:)`` (`BACKPROP_NUM_THREADS`, `OMP_NUM_THREADS`, cores).
    /// - Throws: ``BackpropError/backendUnavailable(name:reason:)`` without OpenBLAS (the reason
    ///   says how to install it); ``BackpropError/invalidArgument(_:)`` for a bad thread count.
    public convenience init(threads: Int? = nil) throws {
        try self.init(threads: threads, environment: ProcessEnvironment.current)
    }

    /// Like ``init(threads:)``, reading the environment variables from `environment`.
    public init(threads: Int?, environment: [String: String]) throws {
        let resolved = try ThreadSettings.resolve(threads, environment: environment)
        let library: OpenBLASLibrary
        switch OpenBLASLoader.load(environment: environment) {
        case .failure(let failure):
            throw BackpropError.backendUnavailable(name: "openblas", reason: failure.reason)
        case .success(let loaded):
            library = loaded
        }
        OpenBLASBackend.libraryLock.withLock { _ in library.setNumThreads(Int32(clamping: resolved)) }
        self.library = library
        self.threads = resolved
        elementwise = CBackend(threads: resolved, simd: try SIMDLevel.resolve(environment: environment))
        detail = "\(library.config), \(resolved) thread\(resolved == 1 ? "" : "s"); "
            + "other ops on the \(elementwise.name) backend (\(elementwise.detail))"
    }

    // op(A): (m, k), op(B): (k, n) -> C: (m, n)
    public func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if m == 0 || n == 0 { return }
        if k == 0 || alpha == 0 {
            // C = beta · C. cblas would also do this, but its argument checks reject lda = 0,
            // which is legal here when A has no columns; beta == 0 overwrites without reading C.
            scaleRows(c, rows: m, cols: n, ldc: ldc, beta: beta)
            return
        }
        // cblas requires ld >= max(1, stored width) even for a matrix of one row, where the
        // leading dimension is never used; the protocol does not, so widen it there.
        let aLead = leadingDimension(lda, storedRows: transA ? k : m, width: transA ? m : k, "lda")
        let bLead = leadingDimension(ldb, storedRows: transB ? n : k, width: transB ? k : n, "ldb")
        let cLead = leadingDimension(ldc, storedRows: m, width: n, "ldc")
        precondition(max(m, n, k, aLead, bLead, cLead) <= Int(Int32.max),
                     "gemm sizes exceed OpenBLAS's 32-bit integers: m \(m), n \(n), k \(k)")
        // The thread count is this instance's, but OpenBLAS (0.3.21, as Debian ships it) keeps
        // one count and one thread pool per process and has no per-call or per-thread setting.
        // So GEMMs through OpenBLAS take turns, each setting its own count first: the lock
        // guards OpenBLAS's global, not one of Backprop's (the C kernels have none), and also
        // keeps two concurrent GEMMs from oversubscribing the cores.
        Self.libraryLock.withLock { _ in
            if library.getNumThreads() != Int32(clamping: threads) {
                library.setNumThreads(Int32(clamping: threads))
            }
            library.sgemm(
                OpenBLASLibrary.rowMajor,
                transA ? OpenBLASLibrary.transpose : OpenBLASLibrary.noTranspose,
                transB ? OpenBLASLibrary.transpose : OpenBLASLibrary.noTranspose,
                Int32(m), Int32(n), Int32(k),
                alpha, a, Int32(aLead), b, Int32(bLead),
                beta, c, Int32(cLead))
        }
    }

    /// Serializes every call into OpenBLAS in this process.
    private static let libraryLock = Mutex<Void>(())

    /// The thread count OpenBLAS holds now (global to the process).
    var libraryThreads: Int { Self.libraryLock.withLock { _ in Int(library.getNumThreads()) } }

    /// C: (rows, cols) with leading dimension ldc: C = beta · C, not reading C when beta == 0.
    private func scaleRows(_ c: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ldc: Int, beta: Float) {
        if beta == 1 { return }
        for i in 0..<rows {
            let row = c + i * ldc
            if beta == 0 {
                row.update(repeating: 0, count: cols)
            } else {
                for j in 0..<cols { row[j] *= beta }
            }
        }
    }

    /// The leading dimension to pass to cblas for a stored (storedRows, width) matrix.
    private func leadingDimension(_ ld: Int, storedRows: Int, width: Int, _ label: String) -> Int {
        precondition(storedRows <= 1 || ld >= width,
                     "\(label) \(ld) is smaller than the row width \(width)")
        return max(ld, width, 1)
    }

    // Every other op is the delegate's; forwarding each one explicitly keeps the protocol's
    // reference defaults from being picked up by accident.

    public func addBias(_ x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, rows: Int, cols: Int) {
        elementwise.addBias(x, bias: bias, rows: rows, cols: cols)
    }

    public func sumColumns(
        _ x: UnsafePointer<Float>, rows: Int, cols: Int,
        into out: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        elementwise.sumColumns(x, rows: rows, cols: cols, into: out, accumulate: accumulate)
    }

    public func activationForward(
        _ kind: Activation, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int
    ) {
        elementwise.activationForward(kind, x: x, y: y, count: count)
    }

    public func activationBackward(
        _ kind: Activation, y: UnsafePointer<Float>, dy: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>, count: Int
    ) {
        elementwise.activationBackward(kind, y: y, dy: dy, dx: dx, count: count)
    }

    public func softmaxRows(_ x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        elementwise.softmaxRows(x, y: y, rows: rows, cols: cols)
    }

    public func softmaxCrossEntropy(
        logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>, rows: Int, cols: Int,
        grad: UnsafeMutablePointer<Float>, scale: Float
    ) -> Double {
        elementwise.softmaxCrossEntropy(
            logits: logits, labels: labels, rows: rows, cols: cols, grad: grad, scale: scale)
    }

    public func softmaxCrossEntropy(
        logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, rows: Int, cols: Int,
        grad: UnsafeMutablePointer<Float>, scale: Float
    ) -> Double {
        elementwise.softmaxCrossEntropy(
            logits: logits, targets: targets, rows: rows, cols: cols, grad: grad, scale: scale)
    }

    public func squaredError(
        _ y: UnsafePointer<Float>, target: UnsafePointer<Float>, count: Int,
        grad: UnsafeMutablePointer<Float>, scale: Float
    ) -> Double {
        elementwise.squaredError(y, target: target, count: count, grad: grad, scale: scale)
    }

    public func binaryCrossEntropyWithLogits(
        _ z: UnsafePointer<Float>, target: UnsafePointer<Float>, count: Int,
        grad: UnsafeMutablePointer<Float>, scale: Float
    ) -> Double {
        elementwise.binaryCrossEntropyWithLogits(z, target: target, count: count, grad: grad, scale: scale)
    }

    public func argmaxRows(_ x: UnsafePointer<Float>, rows: Int, cols: Int, into out: UnsafeMutablePointer<Int32>) {
        elementwise.argmaxRows(x, rows: rows, cols: cols, into: out)
    }

    public func fill(_ x: UnsafeMutablePointer<Float>, value: Float, count: Int) {
        elementwise.fill(x, value: value, count: count)
    }

    public func copy(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count: Int) {
        elementwise.copy(src, to: dst, count: count)
    }

    public func scale(_ x: UnsafeMutablePointer<Float>, by s: Float, count: Int) {
        elementwise.scale(x, by: s, count: count)
    }

    public func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double {
        elementwise.sumOfSquares(x, count: count)
    }

    public func sgdUpdate(
        param: UnsafeMutablePointer<Float>, grad: UnsafePointer<Float>,
        velocity: UnsafeMutablePointer<Float>?, count: Int,
        learningRate: Float, momentum: Float, weightDecay: Float, nesterov: Bool
    ) {
        elementwise.sgdUpdate(
            param: param, grad: grad, velocity: velocity, count: count,
            learningRate: learningRate, momentum: momentum, weightDecay: weightDecay, nesterov: nesterov)
    }

    public func adamUpdate(
        param: UnsafeMutablePointer<Float>, grad: UnsafePointer<Float>,
        m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, count: Int,
        learningRate: Float, beta1: Float, beta2: Float, epsilon: Float,
        weightDecay: Float, decoupled: Bool, step: Int
    ) {
        elementwise.adamUpdate(
            param: param, grad: grad, m: m, v: v, count: count,
            learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
            weightDecay: weightDecay, decoupled: decoupled, step: step)
    }
}

// The image primitives: the C kernels, as for every non-GEMM op.
extension OpenBLASBackend {
    public func im2col(_ x: UnsafePointer<Float>, batch: Int, window: Window2d, col: UnsafeMutablePointer<Float>) {
        elementwise.im2col(x, batch: batch, window: window, col: col)
    }

    public func col2im(_ col: UnsafePointer<Float>, batch: Int, window: Window2d, dx: UnsafeMutablePointer<Float>) {
        elementwise.col2im(col, batch: batch, window: window, dx: dx)
    }

    public func swapLeadingAxes(_ x: UnsafePointer<Float>, a: Int, b: Int, inner: Int, y: UnsafeMutablePointer<Float>) {
        elementwise.swapLeadingAxes(x, a: a, b: b, inner: inner, y: y)
    }

    public func maxPool2dForward(
        _ x: UnsafePointer<Float>, planes: Int, window: Window2d,
        y: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>
    ) {
        elementwise.maxPool2dForward(x, planes: planes, window: window, y: y, argmax: argmax)
    }

    public func maxPool2dBackward(
        _ dy: UnsafePointer<Float>, argmax: UnsafePointer<Int32>, planes: Int, window: Window2d,
        dx: UnsafeMutablePointer<Float>
    ) {
        elementwise.maxPool2dBackward(dy, argmax: argmax, planes: planes, window: window, dx: dx)
    }

    public func avgPool2dForward(_ x: UnsafePointer<Float>, planes: Int, window: Window2d, y: UnsafeMutablePointer<Float>) {
        elementwise.avgPool2dForward(x, planes: planes, window: window, y: y)
    }

    public func avgPool2dBackward(_ dy: UnsafePointer<Float>, planes: Int, window: Window2d, dx: UnsafeMutablePointer<Float>) {
        elementwise.avgPool2dBackward(dy, planes: planes, window: window, dx: dx)
    }

    public func addChannelBias(_ x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int) {
        elementwise.addChannelBias(x, bias: bias, batch: batch, channels: channels, spatial: spatial)
    }

    public func sumChannels(
        _ x: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
        into out: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        elementwise.sumChannels(x, batch: batch, channels: channels, spatial: spatial, into: out, accumulate: accumulate)
    }

    public func batchNormStatistics(
        _ x: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
        mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>
    ) {
        elementwise.batchNormStatistics(x, batch: batch, channels: channels, spatial: spatial, mean: mean, variance: variance)
    }

    public func batchNormForward(
        _ x: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
        mean: UnsafePointer<Float>, variance: UnsafePointer<Float>, epsilon: Float,
        gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
        xhat: UnsafeMutablePointer<Float>?, y: UnsafeMutablePointer<Float>
    ) {
        elementwise.batchNormForward(x, batch: batch, channels: channels, spatial: spatial, mean: mean, variance: variance,
                                     epsilon: epsilon, gamma: gamma, beta: beta, xhat: xhat, y: y)
    }

    public func batchNormBackward(
        _ dy: UnsafePointer<Float>, xhat: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
        variance: UnsafePointer<Float>, epsilon: Float, gamma: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>?, dgamma: UnsafeMutablePointer<Float>, dbeta: UnsafeMutablePointer<Float>,
        accumulate: Bool
    ) {
        elementwise.batchNormBackward(dy, xhat: xhat, batch: batch, channels: channels, spatial: spatial,
                                      variance: variance, epsilon: epsilon, gamma: gamma, dx: dx, dgamma: dgamma,
                                      dbeta: dbeta, accumulate: accumulate)
    }

    public func multiply(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        elementwise.multiply(a, b, into: y, count: count)
    }

    // The direct convolution: the C kernels too (Conv2d still runs im2col + OpenBLAS's GEMM here,
    // since prefersDirectConvolution stays false).
    public func conv2dForward(
        _ x: UnsafePointer<Float>, batch: Int, window: Window2d, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, outChannels: Int, y: UnsafeMutablePointer<Float>
    ) {
        elementwise.conv2dForward(x, batch: batch, window: window, weight: weight, bias: bias,
                                  outChannels: outChannels, y: y)
    }

    public func conv2dBackwardData(
        _ dy: UnsafePointer<Float>, batch: Int, window: Window2d, weight: UnsafePointer<Float>,
        outChannels: Int, dx: UnsafeMutablePointer<Float>
    ) {
        elementwise.conv2dBackwardData(dy, batch: batch, window: window, weight: weight, outChannels: outChannels, dx: dx)
    }

    public func conv2dBackwardWeight(
        _ x: UnsafePointer<Float>, dy: UnsafePointer<Float>, batch: Int, window: Window2d,
        outChannels: Int, into dweight: UnsafeMutablePointer<Float>, accumulate: Bool,
        bias dbias: UnsafeMutablePointer<Float>?, accumulateBias: Bool
    ) {
        elementwise.conv2dBackwardWeight(x, dy: dy, batch: batch, window: window, outChannels: outChannels,
                                         into: dweight, accumulate: accumulate, bias: dbias, accumulateBias: accumulateBias)
    }
}
