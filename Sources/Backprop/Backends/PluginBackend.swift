import CKernels

/// A backend from a C plugin (see `CKernels/include/backprop_plugin.h` and docs/PLUGINS.md):
/// each op runs the plugin's function when its slot is set, else the host's C kernels
/// (a ``CBackend`` with the same thread count), never the Swift reference.
///
/// Built by the factory ``BackendPlugins/load(path:)`` registers; one plugin instance per
/// backend instance, destroyed with it.
public final class PluginBackend: Backend, @unchecked Sendable {
    // @unchecked: the table and instance are written once in init; the plugin contract says
    // one instance is used from one thread at a time, as for every Backend.
    /// The plugin's `name` field.
    public let name: String
    /// The plugin's `detail`, the thread count, the path and which ops are native.
    public let detail: String
    /// The shared library the plugin came from.
    public let path: String
    /// The ops the plugin implements itself (C slot names, e.g. `sgemm`), in table order.
    public let nativeOps: [String]
    /// The ops the host's C kernels run for it (NULL slots).
    public let hostOps: [String]
    /// Runs every op whose slot is NULL.
    public let host: CBackend

    private let table: bp_plugin
    private let instance: OpaquePointer

    init(table: bp_plugin, path: String, threads: Int, environment: [String: String]) throws {
        let name = String(cString: table.name)
        var why = [CChar](repeating: 0, count: 512)
        if let probe = table.probe, probe(&why, why.count) <= 0 {
            throw BackpropError.backendUnavailable(
                name: name, reason: "plugin \(path) says it cannot run here: \(Self.text(why, or: "no reason given"))")
        }
        guard let instance = table.create(Int32(clamping: threads), &why, why.count) else {
            throw BackpropError.backendUnavailable(
                name: name, reason: "plugin \(path) failed to create an instance: \(Self.text(why, or: "no reason given"))")
        }
        self.instance = instance
        self.table = table
        self.name = name
        self.path = path
        host = CBackend(threads: threads, simd: try SIMDLevel.resolve(environment: environment))
        let slots = Self.slots(of: table)
        nativeOps = slots.filter(\.native).map(\.name)
        hostOps = slots.filter { !$0.native }.map(\.name)
        let own = nativeOps.isEmpty ? "none" : nativeOps.joined(separator: " ")
        detail = "\(String(cString: table.detail)), \(threads) thread\(threads == 1 ? "" : "s"); plugin \(path); "
            + "native ops: \(own); \(hostOps.count) other ops on the host's C kernels (\(host.simdLevel))"
    }

    deinit { table.destroy(instance) }

    private static func text(_ buffer: [CChar], or fallback: String) -> String {
        let message = String(cString: buffer + [0])
        return message.isEmpty ? fallback : message
    }

    /// Every op slot of the table, in order, with whether the plugin filled it.
    static func slots(of t: bp_plugin) -> [(name: String, native: Bool)] {
        [("sgemm", t.sgemm != nil), ("add_bias", t.add_bias != nil), ("sum_columns", t.sum_columns != nil),
         ("activation_forward", t.activation_forward != nil), ("activation_backward", t.activation_backward != nil),
         ("softmax_rows", t.softmax_rows != nil), ("softmax_xent_labels", t.softmax_xent_labels != nil),
         ("softmax_xent_probs", t.softmax_xent_probs != nil), ("mse", t.mse != nil),
         ("bce_logits", t.bce_logits != nil), ("argmax_rows", t.argmax_rows != nil), ("fill", t.fill != nil),
         ("copy", t.copy != nil), ("scale", t.scale != nil), ("sum_squares", t.sum_squares != nil),
         ("sgd_update", t.sgd_update != nil), ("adam_update", t.adam_update != nil)]
    }

    // op(A): (m, k), op(B): (k, n) -> C: (m, n)
    public func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard let f = table.sgemm else {
            return host.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                             b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        }
        f(instance, transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }

    public func addBias(_ x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, rows: Int, cols: Int) {
        guard let f = table.add_bias else { return host.addBias(x, bias: bias, rows: rows, cols: cols) }
        f(instance, x, bias, rows, cols)
    }

    public func sumColumns(
        _ x: UnsafePointer<Float>, rows: Int, cols: Int,
        into out: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        guard let f = table.sum_columns else {
            return host.sumColumns(x, rows: rows, cols: cols, into: out, accumulate: accumulate)
        }
        f(instance, x, rows, cols, out, accumulate ? 1 : 0)
    }

    public func activationForward(
        _ kind: Activation, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int
    ) {
        guard let f = table.activation_forward else { return host.activationForward(kind, x: x, y: y, count: count) }
        f(instance, kind.rawValue, x, y, count)
    }

    public func activationBackward(
        _ kind: Activation, y: UnsafePointer<Float>, dy: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>, count: Int
    ) {
        guard let f = table.activation_backward else {
            return host.activationBackward(kind, y: y, dy: dy, dx: dx, count: count)
        }
        f(instance, kind.rawValue, y, dy, dx, count)
    }

    public func softmaxRows(_ x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        guard let f = table.softmax_rows else { return host.softmaxRows(x, y: y, rows: rows, cols: cols) }
        f(instance, x, y, rows, cols)
    }

    public func softmaxCrossEntropy(
        logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>, rows: Int, cols: Int,
        grad: UnsafeMutablePointer<Float>, scale: Float
    ) -> Double {
        guard let f = table.softmax_xent_labels else {
            return host.softmaxCrossEntropy(logits: logits, labels: labels, rows: rows, cols: cols, grad: grad, scale: scale)
        }
        return f(instance, logits, labels, rows, cols, grad, scale)
    }

    public func softmaxCrossEntropy(
        logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, rows: Int, cols: Int,
        grad: UnsafeMutablePointer<Float>, scale: Float
    ) -> Double {
        guard let f = table.softmax_xent_probs else {
            return host.softmaxCrossEntropy(logits: logits, targets: targets, rows: rows, cols: cols, grad: grad, scale: scale)
        }
        return f(instance, logits, targets, rows, cols, grad, scale)
    }

    public func squaredError(
        _ y: UnsafePointer<Float>, target: UnsafePointer<Float>, count: Int,
        grad: UnsafeMutablePointer<Float>, scale: Float
    ) -> Double {
        guard let f = table.mse else { return host.squaredError(y, target: target, count: count, grad: grad, scale: scale) }
        return f(instance, y, target, count, grad, scale)
    }

    public func binaryCrossEntropyWithLogits(
        _ z: UnsafePointer<Float>, target: UnsafePointer<Float>, count: Int,
        grad: UnsafeMutablePointer<Float>, scale: Float
    ) -> Double {
        guard let f = table.bce_logits else {
            return host.binaryCrossEntropyWithLogits(z, target: target, count: count, grad: grad, scale: scale)
        }
        return f(instance, z, target, count, grad, scale)
    }

    public func argmaxRows(_ x: UnsafePointer<Float>, rows: Int, cols: Int, into out: UnsafeMutablePointer<Int32>) {
        guard let f = table.argmax_rows else { return host.argmaxRows(x, rows: rows, cols: cols, into: out) }
        f(instance, x, rows, cols, out)
    }

    public func fill(_ x: UnsafeMutablePointer<Float>, value: Float, count: Int) {
        guard let f = table.fill else { return host.fill(x, value: value, count: count) }
        f(instance, x, value, count)
    }

    public func copy(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count: Int) {
        guard let f = table.copy else { return host.copy(src, to: dst, count: count) }
        f(instance, src, dst, count)
    }

    public func scale(_ x: UnsafeMutablePointer<Float>, by s: Float, count: Int) {
        guard let f = table.scale else { return host.scale(x, by: s, count: count) }
        f(instance, x, s, count)
    }

    public func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double {
        guard let f = table.sum_squares else { return host.sumOfSquares(x, count: count) }
        return f(instance, x, count)
    }

    public func sgdUpdate(
        param: UnsafeMutablePointer<Float>, grad: UnsafePointer<Float>,
        velocity: UnsafeMutablePointer<Float>?, count: Int,
        learningRate: Float, momentum: Float, weightDecay: Float, nesterov: Bool
    ) {
        guard let f = table.sgd_update else {
            return host.sgdUpdate(param: param, grad: grad, velocity: velocity, count: count, learningRate: learningRate,
                                  momentum: momentum, weightDecay: weightDecay, nesterov: nesterov)
        }
        f(instance, param, grad, velocity, count, learningRate, momentum, weightDecay, nesterov ? 1 : 0)
    }

    public func adamUpdate(
        param: UnsafeMutablePointer<Float>, grad: UnsafePointer<Float>,
        m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, count: Int,
        learningRate: Float, beta1: Float, beta2: Float, epsilon: Float,
        weightDecay: Float, decoupled: Bool, step: Int
    ) {
        guard let f = table.adam_update else {
            return host.adamUpdate(param: param, grad: grad, m: m, v: v, count: count, learningRate: learningRate,
                                   beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
                                   decoupled: decoupled, step: step)
        }
        f(instance, param, grad, m, v, count, learningRate, beta1, beta2, epsilon, weightDecay, decoupled ? 1 : 0, step)
    }
}

// The image primitives: the host's C kernels (the plugin table has no slots for them yet).
extension PluginBackend {
    public func im2col(_ x: UnsafePointer<Float>, batch: Int, window: Window2d, col: UnsafeMutablePointer<Float>) {
        host.im2col(x, batch: batch, window: window, col: col)
    }

    public func col2im(_ col: UnsafePointer<Float>, batch: Int, window: Window2d, dx: UnsafeMutablePointer<Float>) {
        host.col2im(col, batch: batch, window: window, dx: dx)
    }

    public func swapLeadingAxes(_ x: UnsafePointer<Float>, a: Int, b: Int, inner: Int, y: UnsafeMutablePointer<Float>) {
        host.swapLeadingAxes(x, a: a, b: b, inner: inner, y: y)
    }

    public func maxPool2dForward(
        _ x: UnsafePointer<Float>, planes: Int, window: Window2d,
        y: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>
    ) {
        host.maxPool2dForward(x, planes: planes, window: window, y: y, argmax: argmax)
    }

    public func maxPool2dBackward(
        _ dy: UnsafePointer<Float>, argmax: UnsafePointer<Int32>, planes: Int, window: Window2d,
        dx: UnsafeMutablePointer<Float>
    ) {
        host.maxPool2dBackward(dy, argmax: argmax, planes: planes, window: window, dx: dx)
    }

    public func avgPool2dForward(_ x: UnsafePointer<Float>, planes: Int, window: Window2d, y: UnsafeMutablePointer<Float>) {
        host.avgPool2dForward(x, planes: planes, window: window, y: y)
    }

    public func avgPool2dBackward(_ dy: UnsafePointer<Float>, planes: Int, window: Window2d, dx: UnsafeMutablePointer<Float>) {
        host.avgPool2dBackward(dy, planes: planes, window: window, dx: dx)
    }

    public func addChannelBias(_ x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int) {
        host.addChannelBias(x, bias: bias, batch: batch, channels: channels, spatial: spatial)
    }

    public func sumChannels(
        _ x: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
        into out: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        host.sumChannels(x, batch: batch, channels: channels, spatial: spatial, into: out, accumulate: accumulate)
    }

    public func batchNormStatistics(
        _ x: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
        mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>
    ) {
        host.batchNormStatistics(x, batch: batch, channels: channels, spatial: spatial, mean: mean, variance: variance)
    }

    public func batchNormForward(
        _ x: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
        mean: UnsafePointer<Float>, variance: UnsafePointer<Float>, epsilon: Float,
        gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
        xhat: UnsafeMutablePointer<Float>?, y: UnsafeMutablePointer<Float>
    ) {
        host.batchNormForward(x, batch: batch, channels: channels, spatial: spatial, mean: mean, variance: variance,
                                     epsilon: epsilon, gamma: gamma, beta: beta, xhat: xhat, y: y)
    }

    public func batchNormBackward(
        _ dy: UnsafePointer<Float>, xhat: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
        variance: UnsafePointer<Float>, epsilon: Float, gamma: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>?, dgamma: UnsafeMutablePointer<Float>, dbeta: UnsafeMutablePointer<Float>,
        accumulate: Bool
    ) {
        host.batchNormBackward(dy, xhat: xhat, batch: batch, channels: channels, spatial: spatial,
                                      variance: variance, epsilon: epsilon, gamma: gamma, dx: dx, dgamma: dgamma,
                                      dbeta: dbeta, accumulate: accumulate)
    }

    public func multiply(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        host.multiply(a, b, into: y, count: count)
    }
}
