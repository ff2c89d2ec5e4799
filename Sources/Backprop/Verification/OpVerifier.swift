/// Runs every primitive op of a backend and of ``SwiftBackend`` (the reference) on the same
/// seeded random inputs, and measures how far apart the results are.
///
/// The cases cover sizes 1 to 1000 in every dimension (a sparse covering by default, the full
/// grid with `thorough`), every GEMM transpose, several alpha/beta values, leading dimensions
/// larger than the row width, unaligned pointers, in-place calls where the protocol allows
/// them, and guard cells that catch writes outside a buffer. Tolerances are in
/// ``VerifiedOp/tolerance``. Used by the equivalence tests and by `backprop verify`.
public struct OpVerifier: Sendable {
    /// Runs the full size grid instead of the sparse covering (minutes instead of seconds).
    public var thorough: Bool
    /// The seed of every random input; the same seed gives the same cases.
    public var seed: UInt64

    /// A verifier with the sparse covering of sizes and a fixed default seed.
    public init(thorough: Bool = false, seed: UInt64 = 0x5EED_BAC4) {
        self.thorough = thorough
        self.seed = seed
    }

    /// One record per op in `ops`, in the order of `VerifiedOp.allCases`.
    public func verify(_ backend: any Backend, ops: [VerifiedOp] = VerifiedOp.allCases) -> [VerificationRecord] {
        let run = VerificationRun(
            backend: backend, plan: VerificationPlan(thorough: thorough), seed: seed, ops: Set(ops))
        for check in VerificationRun.checks where check.ops.contains(where: run.wanted.contains) {
            check.run(run)
        }
        return VerifiedOp.allCases.compactMap { op in
            guard run.wanted.contains(op), let meter = run.meters[op] else { return nil }
            return meter.record(backend: backend.name, op: op)
        }
    }
}

/// The state of one ``OpVerifier/verify(_:ops:)`` call; the checks are its extensions.
final class VerificationRun {
    let backend: any Backend
    let reference = SwiftBackend()
    let plan: VerificationPlan
    let seed: UInt64
    let wanted: Set<VerifiedOp>
    private(set) var meters: [VerifiedOp: ErrorMeter] = [:]

    init(backend: any Backend, plan: VerificationPlan, seed: UInt64, ops: Set<VerifiedOp>) {
        self.backend = backend
        self.plan = plan
        self.seed = seed
        self.wanted = ops
    }

    /// A group of ops measured together (a loss and its gradient come from one call).
    struct Check: Sendable {
        let ops: [VerifiedOp]
        let run: @Sendable (VerificationRun) -> Void
    }

    static let checks: [Check] = [
        Check(ops: [.gemm]) { $0.checkGemm() },
        Check(ops: [.addBias]) { $0.checkAddBias() },
        Check(ops: [.sumColumns]) { $0.checkSumColumns() },
        Check(ops: [.reluForward, .sigmoidForward, .tanhForward,
                    .reluBackward, .sigmoidBackward, .tanhBackward]) { $0.checkActivations() },
        Check(ops: [.softmaxRows]) { $0.checkSoftmaxRows() },
        Check(ops: [.softmaxCrossEntropyLabels, .softmaxCrossEntropyLabelsLoss]) { $0.checkCrossEntropyLabels() },
        Check(ops: [.softmaxCrossEntropyTargets, .softmaxCrossEntropyTargetsLoss]) { $0.checkCrossEntropyTargets() },
        Check(ops: [.squaredError, .squaredErrorLoss]) { $0.checkSquaredError() },
        Check(ops: [.binaryCrossEntropy, .binaryCrossEntropyLoss]) { $0.checkBinaryCrossEntropy() },
        Check(ops: [.argmaxRows]) { $0.checkArgmaxRows() },
        Check(ops: [.fill, .copy, .scale, .sumOfSquares]) { $0.checkBufferOps() },
        Check(ops: [.sgdUpdate]) { $0.checkSGD() },
        Check(ops: [.adamUpdate]) { $0.checkAdam() },
        Check(ops: [.im2col, .col2im, .swapLeadingAxes]) { $0.checkPatches() },
        Check(ops: [.maxPool2dForward, .maxPool2dBackward, .avgPool2dForward, .avgPool2dBackward]) { $0.checkPooling() },
        Check(ops: [.addChannelBias, .sumChannels, .multiply]) { $0.checkChannelOps() },
        Check(ops: [.batchNormStatistics, .batchNormForward, .batchNormBackward]) { $0.checkBatchNorm() },
        Check(ops: [.conv2dForward, .conv2dBackwardData, .conv2dBackwardWeight]) { $0.checkConvolution() },
    ]

    /// A fresh meter with the op's tolerance.
    func meter(_ op: VerifiedOp) -> ErrorMeter {
        ErrorMeter(tolerance: op.tolerance)
    }

    func store(_ meter: ErrorMeter, for op: VerifiedOp) {
        meters[op] = meter
    }

    /// A generator for one check, independent of which other checks run.
    func generator(_ label: String) -> SeededGenerator {
        // FNV-1a of the label: stable across runs, unlike `hashValue`.
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in label.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return SeededGenerator(seed: seed ^ hash)
    }
}

extension ErrorMeter {
    /// Compares every element of two buffers with `allowed(i)` and requires their guard
    /// cells to be untouched. `nanExpected`: the inputs hold NaN or ∞ on purpose, so NaN in
    /// the reference is the specified answer (see ``compare(_:_:allowed:nanExpected:)``).
    mutating func compare(
        _ result: Scratch<Float>, _ reference: Scratch<Float>, nanExpected: Bool = false,
        allowed: (Int) -> Double
    ) {
        for i in 0..<reference.count {
            compare(Double(result[i]), Double(reference[i]), allowed: allowed(i), nanExpected: nanExpected)
        }
        requireGuards(result)
    }

    /// Compares two buffers with the op's plain tolerance.
    mutating func compare(_ result: Scratch<Float>, _ reference: Scratch<Float>, nanExpected: Bool = false) {
        let tolerance = self.tolerance
        compare(result, reference, nanExpected: nanExpected) {
            reference[$0].isFinite ? tolerance.allowed(reference: Double(reference[$0])) : 0
        }
    }

    /// Counts a write outside the buffer as an infinite error.
    mutating func requireGuards<T>(_ buffer: Scratch<T>) {
        if !buffer.guardsIntact { compare(.infinity, 0, allowed: 0) }
    }
}
