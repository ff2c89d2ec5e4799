import Synchronization

/// Records, while ``ReferenceFallbacks/ops(of:)`` probes a backend, which ops reach the
/// reference loops (the `Backend` protocol's default implementations call ``note(_:)``).
/// Outside a probe no recorder is bound and a note costs one task-local read.
enum ReferenceUse {
    /// The ops noted on this thread (task) while bound; nil outside a probe.
    @TaskLocal static var recorder: Recorder?

    final class Recorder: Sendable {
        let ops = Mutex<Set<VerifiedOp>>([])
    }

    /// Called first by every reference implementation with its op (and, for a loss, the op of
    /// its returned value). No allocation unless a recorder is bound.
    @inline(__always)
    static func note(_ op: VerifiedOp, _ also: VerifiedOp? = nil) {
        guard let recorder else { return }
        recorder.ops.withLock { ops in
            ops.insert(op)
            if let also { ops.insert(also) }
        }
    }
}

/// Which ops of a backend run on the Swift reference loops instead of its own code, so that a
/// missing override never goes unnoticed.
///
/// Every ``Backend`` requirement has a default implementation: the reference loops of
/// ``SwiftBackend``. A backend that does not implement an op (a wrapper that forgets to forward
/// one, or a backend written before the op existed) still compiles and still gives the right
/// answers, only slowly. ``ops(of:)`` finds those ops by calling each one once on tiny inputs and
/// watching which calls reach the reference loops, at any depth (a wrapper around a wrapper
/// that forgot an op is caught too). `backprop verify` and `backprop backends --ops` print it.
///
/// ```swift
/// let missing = ReferenceFallbacks.ops(of: MyWrapper(wrapping: CBackend()))
/// // [] when every op is forwarded; ForwardingBackend forwards every op by construction.
/// ```
public enum ReferenceFallbacks {
    /// The ops (in ``VerifiedOp`` order) whose call on `backend` runs the reference loops; every
    /// op for ``SwiftBackend`` itself. An op that a backend hands to another thread is not seen.
    public static func ops(of backend: any Backend) -> [VerifiedOp] {
        let recorder = ReferenceUse.Recorder()
        ReferenceUse.$recorder.withValue(recorder) { callEveryOp(backend) }
        let used = recorder.ops.withLock { $0 }
        return VerifiedOp.allCases.filter(used.contains)
    }

    /// Calls every requirement of `backend` once on tiny valid inputs (2×2 matrices, a 2×2
    /// image with a 1×1 window). The results are thrown away.
    private static func callEveryOp(_ backend: any Backend) {
        // Every buffer has room for the largest call below (16 floats); values in [0.1, 0.9].
        let p = (0..<8).map { i in
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: 16)
            for j in 0..<16 { buffer[j] = Float((i + j) % 9 + 1) / 10 }
            return buffer
        }
        defer { p.forEach { $0.deallocate() } }
        var indices = [Int32](repeating: 0, count: 16)
        let window = Window2d(channels: 1, height: 2, width: 2, kernelHeight: 1, kernelWidth: 1)
        do {
            let (a, b, c, d, e, f, g, h) = (p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7])
            backend.gemm(transA: false, transB: false, m: 2, n: 2, k: 2, alpha: 1, a: a, lda: 2, b: b, ldb: 2,
                         beta: 0, c: c, ldc: 2)
            backend.addBias(c, bias: a, rows: 2, cols: 2)
            backend.sumColumns(a, rows: 2, cols: 2, into: c, accumulate: false)
            for kind in Activation.allCases {
                backend.activationForward(kind, x: a, y: c, count: 4)
                backend.activationBackward(kind, y: c, dy: b, dx: d, count: 4)
            }
            backend.softmaxRows(a, y: c, rows: 2, cols: 2)
            indices.withUnsafeBufferPointer { labels in
                _ = backend.softmaxCrossEntropy(logits: a, labels: labels.baseAddress!, rows: 2, cols: 2, grad: c, scale: 1)
            }
            backend.softmaxRows(b, y: d, rows: 2, cols: 2)  // probability targets
            _ = backend.softmaxCrossEntropy(logits: a, targets: d, rows: 2, cols: 2, grad: c, scale: 1)
            _ = backend.squaredError(a, target: b, count: 4, grad: c, scale: 1)
            _ = backend.binaryCrossEntropyWithLogits(a, target: b, count: 4, grad: c, scale: 1)
            indices.withUnsafeMutableBufferPointer { backend.argmaxRows(a, rows: 2, cols: 2, into: $0.baseAddress!) }
            backend.fill(c, value: 0.5, count: 4)
            backend.copy(a, to: c, count: 4)
            backend.scale(c, by: 2, count: 4)
            _ = backend.sumOfSquares(a, count: 4)
            backend.sgdUpdate(param: c, grad: a, velocity: d, count: 4, learningRate: 0.1, momentum: 0.9,
                              weightDecay: 0, nesterov: false)
            backend.adamUpdate(param: c, grad: a, m: d, v: e, count: 4, learningRate: 0.1, beta1: 0.9, beta2: 0.999,
                               epsilon: 1e-8, weightDecay: 0, decoupled: false, step: 1)
            // x: (1, 1, 2, 2) -> col: (1, 4)
            backend.im2col(a, batch: 1, window: window, col: c)
            backend.col2im(c, batch: 1, window: window, dx: d)
            backend.swapLeadingAxes(a, a: 2, b: 2, inner: 1, y: c)
            indices.withUnsafeMutableBufferPointer { argmax in
                backend.maxPool2dForward(a, planes: 1, window: window, y: c, argmax: argmax.baseAddress!)
                backend.maxPool2dBackward(b, argmax: argmax.baseAddress!, planes: 1, window: window, dx: d)
            }
            backend.avgPool2dForward(a, planes: 1, window: window, y: c)
            backend.avgPool2dBackward(b, planes: 1, window: window, dx: d)
            // x: (N 1, C 2, S 2)
            backend.addChannelBias(c, bias: a, batch: 1, channels: 2, spatial: 2)
            backend.sumChannels(a, batch: 1, channels: 2, spatial: 2, into: c, accumulate: false)
            backend.batchNormStatistics(a, batch: 1, channels: 2, spatial: 2, mean: c, variance: d)
            backend.batchNormForward(a, batch: 1, channels: 2, spatial: 2, mean: c, variance: d, epsilon: 1e-5,
                                     gamma: b, beta: b, xhat: e, y: f)
            backend.batchNormBackward(b, xhat: e, batch: 1, channels: 2, spatial: 2, variance: d, epsilon: 1e-5,
                                      gamma: b, dx: g, dgamma: h, dbeta: c, accumulate: false)
            backend.multiply(a, b, into: c, count: 4)
            // x: (1, 1, 2, 2), weight: (1, 1, 1, 1) -> y: (1, 1, 2, 2)
            backend.conv2dForward(a, batch: 1, window: window, weight: b, bias: b, outChannels: 1, y: c)
            backend.conv2dBackwardData(b, batch: 1, window: window, weight: a, outChannels: 1, dx: d)
            backend.conv2dBackwardWeight(a, dy: b, batch: 1, window: window, outChannels: 1, into: e,
                                         accumulate: false, bias: f, accumulateBias: false)
        }
    }
}
