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
        detail = "\(String(cString: table.detail)), \(threads) thread\(threads == 1 ? "" : "s"); plugin \(path) "
            + "(ABI \(table.abi_version)); "
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
         ("sgd_update", t.sgd_update != nil), ("adam_update", t.adam_update != nil),
         // Version 2: the image ops (NULL in a version-1 table).
         ("im2col", t.im2col != nil), ("col2im", t.col2im != nil), ("swap_leading_axes", t.swap_leading_axes != nil),
         ("maxpool2d_forward", t.maxpool2d_forward != nil), ("maxpool2d_backward", t.maxpool2d_backward != nil),
         ("avgpool2d_forward", t.avgpool2d_forward != nil), ("avgpool2d_backward", t.avgpool2d_backward != nil),
         ("add_channel_bias", t.add_channel_bias != nil), ("sum_channels", t.sum_channels != nil),
         ("batchnorm_statistics", t.batchnorm_statistics != nil), ("batchnorm_forward", t.batchnorm_forward != nil),
         ("batchnorm_backward", t.batchnorm_backward != nil), ("multiply", t.multiply != nil),
         // Version 3: the direct convolution (NULL in older tables).
         ("conv2d_forward", t.conv2d_forward != nil), ("conv2d_backward_data", t.conv2d_backward_data != nil),
         ("conv2d_backward_weight", t.conv2d_backward_weight != nil)]
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

// The image primitives (slots appended by ABI version 2): the plugin's function, else the host's.
extension PluginBackend {
    public func im2col(_ x: UnsafePointer<Float>, batch: Int, window: Window2d, col: UnsafeMutablePointer<Float>) {
        guard let f = table.im2col else { return host.im2col(x, batch: batch, window: window, col: col) }
        var w = window.pluginWindow
        f(instance, x, batch, &w, col)
    }

    public func col2im(_ col: UnsafePointer<Float>, batch: Int, window: Window2d, dx: UnsafeMutablePointer<Float>) {
        guard let f = table.col2im else { return host.col2im(col, batch: batch, window: window, dx: dx) }
        var w = window.pluginWindow
        f(instance, col, batch, &w, dx)
    }

    public func swapLeadingAxes(_ x: UnsafePointer<Float>, a: Int, b: Int, inner: Int, y: UnsafeMutablePointer<Float>) {
        guard let f = table.swap_leading_axes else { return host.swapLeadingAxes(x, a: a, b: b, inner: inner, y: y) }
        f(instance, x, a, b, inner, y)
    }

    public func maxPool2dForward(
        _ x: UnsafePointer<Float>, planes: Int, window: Window2d,
        y: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>
    ) {
        guard let f = table.maxpool2d_forward else {
            return host.maxPool2dForward(x, planes: planes, window: window, y: y, argmax: argmax)
        }
        var w = window.pluginWindow
        f(instance, x, planes, &w, y, argmax)
    }

    public func maxPool2dBackward(
        _ dy: UnsafePointer<Float>, argmax: UnsafePointer<Int32>, planes: Int, window: Window2d,
        dx: UnsafeMutablePointer<Float>
    ) {
        guard let f = table.maxpool2d_backward else {
            return host.maxPool2dBackward(dy, argmax: argmax, planes: planes, window: window, dx: dx)
        }
        var w = window.pluginWindow
        f(instance, dy, argmax, planes, &w, dx)
    }

    public func avgPool2dForward(_ x: UnsafePointer<Float>, planes: Int, window: Window2d, y: UnsafeMutablePointer<Float>) {
        guard let f = table.avgpool2d_forward else { return host.avgPool2dForward(x, planes: planes, window: window, y: y) }
        var w = window.pluginWindow
        f(instance, x, planes, &w, y)
    }

    public func avgPool2dBackward(_ dy: UnsafePointer<Float>, planes: Int, window: Window2d, dx: UnsafeMutablePointer<Float>) {
        guard let f = table.avgpool2d_backward else { return host.avgPool2dBackward(dy, planes: planes, window: window, dx: dx) }
        var w = window.pluginWindow
        f(instance, dy, planes, &w, dx)
    }

    public func addChannelBias(_ x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int) {
        guard let f = table.add_channel_bias else {
            return host.addChannelBias(x, bias: bias, batch: batch, channels: channels, spatial: spatial)
        }
        f(instance, x, bias, batch, channels, spatial)
    }

    public func sumChannels(
        _ x: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
        into out: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        guard let f = table.sum_channels else {
            return host.sumChannels(x, batch: batch, channels: channels, spatial: spatial, into: out, accumulate: accumulate)
        }
        f(instance, x, batch, channels, spatial, out, accumulate ? 1 : 0)
    }

    public func batchNormStatistics(
        _ x: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
        mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>
    ) {
        guard let f = table.batchnorm_statistics else {
            return host.batchNormStatistics(x, batch: batch, channels: channels, spatial: spatial, mean: mean, variance: variance)
        }
        f(instance, x, batch, channels, spatial, mean, variance)
    }

    public func batchNormForward(
        _ x: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
        mean: UnsafePointer<Float>, variance: UnsafePointer<Float>, epsilon: Float,
        gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
        xhat: UnsafeMutablePointer<Float>?, y: UnsafeMutablePointer<Float>
    ) {
        guard let f = table.batchnorm_forward else {
            return host.batchNormForward(x, batch: batch, channels: channels, spatial: spatial, mean: mean,
                                         variance: variance, epsilon: epsilon, gamma: gamma, beta: beta, xhat: xhat, y: y)
        }
        f(instance, x, batch, channels, spatial, mean, variance, epsilon, gamma, beta, xhat, y)
    }

    public func batchNormBackward(
        _ dy: UnsafePointer<Float>, xhat: UnsafePointer<Float>, batch: Int, channels: Int, spatial: Int,
        variance: UnsafePointer<Float>, epsilon: Float, gamma: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>?, dgamma: UnsafeMutablePointer<Float>, dbeta: UnsafeMutablePointer<Float>,
        accumulate: Bool
    ) {
        guard let f = table.batchnorm_backward else {
            return host.batchNormBackward(dy, xhat: xhat, batch: batch, channels: channels, spatial: spatial,
                                          variance: variance, epsilon: epsilon, gamma: gamma, dx: dx, dgamma: dgamma,
                                          dbeta: dbeta, accumulate: accumulate)
        }
        f(instance, dy, xhat, batch, channels, spatial, variance, epsilon, gamma, dx, dgamma, dbeta, accumulate ? 1 : 0)
    }

    public func multiply(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        guard let f = table.multiply else { return host.multiply(a, b, into: y, count: count) }
        f(instance, a, b, y, count)
    }

    // Version 3: the direct convolution. A plugin that fills conv2d_forward asks for it; one
    // that does not prefers it exactly when the host does (its NULL slots run on the host).
    public var prefersDirectConvolution: Bool { table.conv2d_forward != nil || host.prefersDirectConvolution }

    // x: (N, C, H, W) -> y: (N, K, outH, outW)
    public func conv2dForward(
        _ x: UnsafePointer<Float>, batch: Int, window: Window2d, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, outChannels: Int, y: UnsafeMutablePointer<Float>
    ) {
        guard let f = table.conv2d_forward else {
            return host.conv2dForward(x, batch: batch, window: window, weight: weight, bias: bias,
                                      outChannels: outChannels, y: y)
        }
        var w = window.pluginWindow
        f(instance, x, batch, &w, weight, bias, outChannels, y)
    }

    // dy: (N, K, outH, outW) -> dx: (N, C, H, W)
    public func conv2dBackwardData(
        _ dy: UnsafePointer<Float>, batch: Int, window: Window2d, weight: UnsafePointer<Float>,
        outChannels: Int, dx: UnsafeMutablePointer<Float>
    ) {
        guard let f = table.conv2d_backward_data else {
            return host.conv2dBackwardData(dy, batch: batch, window: window, weight: weight,
                                           outChannels: outChannels, dx: dx)
        }
        var w = window.pluginWindow
        f(instance, dy, batch, &w, weight, outChannels, dx)
    }

    // x: (N, C, H, W), dy: (N, K, outH, outW) -> dweight: (K, C, kh, kw), dbias: (K)
    public func conv2dBackwardWeight(
        _ x: UnsafePointer<Float>, dy: UnsafePointer<Float>, batch: Int, window: Window2d,
        outChannels: Int, into dweight: UnsafeMutablePointer<Float>, accumulate: Bool,
        bias dbias: UnsafeMutablePointer<Float>?, accumulateBias: Bool
    ) {
        guard let f = table.conv2d_backward_weight else {
            return host.conv2dBackwardWeight(x, dy: dy, batch: batch, window: window, outChannels: outChannels,
                                             into: dweight, accumulate: accumulate, bias: dbias,
                                             accumulateBias: accumulateBias)
        }
        var w = window.pluginWindow
        f(instance, x, dy, batch, &w, outChannels, dweight, accumulate ? 1 : 0, dbias, accumulateBias ? 1 : 0)
    }
}

extension Window2d {
    /// The plugin ABI's description of this window (the fields of `bp_window2d`).
    var pluginWindow: bp_plugin_window2d {
        bp_plugin_window2d(channels: channels, height: height, width: width, kernel_h: kernelHeight,
                           kernel_w: kernelWidth, stride: stride, padding: padding)
    }
}
