import Synchronization
import Testing
import Backprop  // not @testable: only what another package sees

/// A wrapper as the docs recommend: every op forwarded by `ForwardingBackend`, GEMM counted.
final class GemmCountingWrapper: ForwardingBackend, @unchecked Sendable {
    private let calls = Atomic<Int>(0)
    var gemms: Int { calls.load(ordering: .relaxed) }

    override var name: String { "gemm-counting" }
    override var detail: String { "counts GEMMs, then \(base.detail)" }

    override func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        calls.add(1, ordering: .relaxed)
        super.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                   b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }
}

/// A wrapper written by hand against `Backend` before the image ops existed: it forwards the
/// 17 dense ops and, without a word from the compiler, every image op runs the reference loops.
final class DenseOnlyWrapper: Backend {
    let base: any Backend
    init(wrapping base: any Backend) { self.base = base }
    var name: String { "dense-only" }
    var detail: String { "forwards the dense ops only" }

    func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
              b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        base.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                  beta: beta, c: c, ldc: ldc)
    }
    func addBias(_ x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, rows: Int, cols: Int) {
        base.addBias(x, bias: bias, rows: rows, cols: cols)
    }
    func sumColumns(_ x: UnsafePointer<Float>, rows: Int, cols: Int, into out: UnsafeMutablePointer<Float>, accumulate: Bool) {
        base.sumColumns(x, rows: rows, cols: cols, into: out, accumulate: accumulate)
    }
    func activationForward(_ kind: Activation, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int) {
        base.activationForward(kind, x: x, y: y, count: count)
    }
    func activationBackward(_ kind: Activation, y: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                            dx: UnsafeMutablePointer<Float>, count: Int) {
        base.activationBackward(kind, y: y, dy: dy, dx: dx, count: count)
    }
    func softmaxRows(_ x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        base.softmaxRows(x, y: y, rows: rows, cols: cols)
    }
    func softmaxCrossEntropy(logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>, rows: Int, cols: Int,
                             grad: UnsafeMutablePointer<Float>, scale: Float) -> Double {
        base.softmaxCrossEntropy(logits: logits, labels: labels, rows: rows, cols: cols, grad: grad, scale: scale)
    }
    func softmaxCrossEntropy(logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, rows: Int, cols: Int,
                             grad: UnsafeMutablePointer<Float>, scale: Float) -> Double {
        base.softmaxCrossEntropy(logits: logits, targets: targets, rows: rows, cols: cols, grad: grad, scale: scale)
    }
    func squaredError(_ y: UnsafePointer<Float>, target: UnsafePointer<Float>, count: Int,
                      grad: UnsafeMutablePointer<Float>, scale: Float) -> Double {
        base.squaredError(y, target: target, count: count, grad: grad, scale: scale)
    }
    func binaryCrossEntropyWithLogits(_ z: UnsafePointer<Float>, target: UnsafePointer<Float>, count: Int,
                                      grad: UnsafeMutablePointer<Float>, scale: Float) -> Double {
        base.binaryCrossEntropyWithLogits(z, target: target, count: count, grad: grad, scale: scale)
    }
    func argmaxRows(_ x: UnsafePointer<Float>, rows: Int, cols: Int, into out: UnsafeMutablePointer<Int32>) {
        base.argmaxRows(x, rows: rows, cols: cols, into: out)
    }
    func fill(_ x: UnsafeMutablePointer<Float>, value: Float, count: Int) { base.fill(x, value: value, count: count) }
    func copy(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count: Int) {
        base.copy(src, to: dst, count: count)
    }
    func scale(_ x: UnsafeMutablePointer<Float>, by s: Float, count: Int) { base.scale(x, by: s, count: count) }
    func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double { base.sumOfSquares(x, count: count) }
    func sgdUpdate(param: UnsafeMutablePointer<Float>, grad: UnsafePointer<Float>, velocity: UnsafeMutablePointer<Float>?,
                   count: Int, learningRate: Float, momentum: Float, weightDecay: Float, nesterov: Bool) {
        base.sgdUpdate(param: param, grad: grad, velocity: velocity, count: count, learningRate: learningRate,
                       momentum: momentum, weightDecay: weightDecay, nesterov: nesterov)
    }
    func adamUpdate(param: UnsafeMutablePointer<Float>, grad: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>,
                    v: UnsafeMutablePointer<Float>, count: Int, learningRate: Float, beta1: Float, beta2: Float,
                    epsilon: Float, weightDecay: Float, decoupled: Bool, step: Int) {
        base.adamUpdate(param: param, grad: grad, m: m, v: v, count: count, learningRate: learningRate, beta1: beta1,
                        beta2: beta2, epsilon: epsilon, weightDecay: weightDecay, decoupled: decoupled, step: step)
    }
}

/// `ForwardingBackend` and `ReferenceFallbacks`, used from outside the module.
@Suite("Forwarding backends and reference fallbacks")
struct ForwardingBackendTests {
    static let imageOps: [VerifiedOp] = [
        .im2col, .col2im, .swapLeadingAxes, .maxPool2dForward, .maxPool2dBackward, .avgPool2dForward,
        .avgPool2dBackward, .addChannelBias, .sumChannels, .batchNormStatistics, .batchNormForward,
        .batchNormBackward, .multiply, .conv2dForward, .conv2dBackwardData, .conv2dBackwardWeight,
    ]

    @Test func aForwardingSubclassOverridesOneOpAndForwardsEveryOther() throws {
        let wrapper = GemmCountingWrapper(wrapping: CBackend(threads: 1))
        #expect(ReferenceFallbacks.ops(of: wrapper) == [], "no op of the wrapper may reach the reference loops")
        #expect(wrapper.gemms == 1, "the probe calls gemm once, through the override")
        let report = try Conformance.run(wrapper)
        #expect(report.passed && report.referenceOps.isEmpty, "\(report.failures)")
        #expect(wrapper.gemms > 100, "training ran through the override")
    }

    @Test func aWrapperThatForgetsOpsIsReportedWithExactlyThoseOps() throws {
        let wrapper = DenseOnlyWrapper(wrapping: CBackend(threads: 1))
        #expect(ReferenceFallbacks.ops(of: wrapper) == Self.imageOps)
        // The answers are still right (the reference is correct), so the report passes, and
        // names every op that runs slowly.
        let report = try Conformance.run(wrapper, training: false)
        #expect(report.passed && report.referenceOps == Self.imageOps, "\(report.failures)")
        // Wrapped once more in a ForwardingBackend: the forgotten ops are still found.
        #expect(ReferenceFallbacks.ops(of: ForwardingBackend(wrapping: wrapper)) == Self.imageOps)
    }

    @Test func theReferenceAndABackendOfDefaultsAreAllReference() {
        #expect(ReferenceFallbacks.ops(of: SwiftBackend()) == VerifiedOp.allCases)
        // CountingBackend (ExternalBackendTests) implements only gemm, through SwiftBackend.
        #expect(ReferenceFallbacks.ops(of: CountingBackend(name: "all-reference")) == VerifiedOp.allCases)
    }
}
