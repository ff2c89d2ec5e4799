/// The conformance kit: every op check of ``OpVerifier`` plus a short end-to-end training run
/// compared with the reference. `backprop verify` runs it on the command line; a backend in
/// another package runs it in its own tests:
///
/// ```swift
/// let report = try Conformance.run(MyBackend())
/// #expect(report.passed, "\(report.failures)")
/// ```
public enum Conformance {
    /// Runs the op checks and the training comparison on `backend`.
    /// - Throws: only if the bundled digits cannot be read (a broken install).
    public static func run(
        _ backend: any Backend, verifier: OpVerifier = OpVerifier(), ops: [VerifiedOp] = VerifiedOp.allCases,
        training: Bool = true
    ) throws -> ConformanceReport {
        let records = verifier.verify(backend, ops: ops)
        let comparison = training ? try compareTraining(backend) : nil
        return ConformanceReport(
            backend: backend.name, ops: records, training: comparison,
            referenceOps: backend is SwiftBackend ? [] : ReferenceFallbacks.ops(of: backend))
    }

    /// Trains 64-32-10 (ReLU, cross-entropy, SGD with momentum 0.9, lr 0.05, batch 32) for
    /// `epochs` epochs on the bundled digits (80/20 split, scaled to [0, 1]) on `backend` and
    /// on ``SwiftBackend`` with the same seeds, and compares the two runs.
    public static func compareTraining(_ backend: any Backend, epochs: Int = 3) throws -> TrainingComparison {
        let digits = try BuiltinDatasets.digits()
        let (rawTrain, rawTest) = try digits.split(testFraction: 0.2, seed: 0)
        let scale = Normalizer(fitting: .scale, to: rawTrain.features)
        let train = try scale.apply(to: rawTrain), test = try scale.apply(to: rawTest)
        func fit(_ engine: any Backend) throws -> (losses: [Double], accuracy: Double) {
            let model = Sequential(seed: 1) { Dense(64, 32); ReLU(); Dense(32, 10) }
            let trainer = Trainer(
                model: model, loss: .crossEntropy(), optimizer: SGD(learningRate: 0.05, momentum: 0.9),
                backend: engine, seed: 2)
            try trainer.fit(train, validation: test, epochs: epochs, batchSize: 32)
            return (trainer.state.history.map(\.trainLoss), trainer.state.history.last?.testAccuracy ?? 0)
        }
        let reference = try fit(SwiftBackend())
        let run = try fit(backend)
        return TrainingComparison(
            backend: backend.name, losses: run.losses, referenceLosses: reference.losses,
            accuracy: run.accuracy, referenceAccuracy: reference.accuracy)
    }
}

/// How a backend trained compared with the reference (see ``Conformance/compareTraining(_:epochs:)``).
public struct TrainingComparison: Sendable, Equatable, Codable {
    /// The backend's registry name.
    public let backend: String
    /// Mean training loss per epoch on the backend and on the reference.
    public let losses: [Double]
    /// The same on ``SwiftBackend``.
    public let referenceLosses: [Double]
    /// Test accuracy after the last epoch, in 0...1.
    public let accuracy: Double
    /// The same on ``SwiftBackend``.
    public let referenceAccuracy: Double

    /// Every epoch's loss within 1e-3 relative of the reference's (1e-4 for the first two,
    /// before float32 rounding differences grow) and the accuracy within 0.5 points.
    public var pass: Bool { failure == nil }

    /// Why the comparison fails, as one line; nil when it passes.
    public var failure: String? {
        if losses.count != referenceLosses.count { return "trained \(losses.count) epochs, the reference \(referenceLosses.count)" }
        for (epoch, (loss, want)) in zip(losses, referenceLosses).enumerated() {
            let tolerance = epoch < 2 ? 1e-4 : 1e-3
            if !(abs(loss - want) <= tolerance * abs(want)) {
                return "epoch \(epoch + 1) loss \(loss) vs reference \(want) (allowed relative \(tolerance))"
            }
        }
        if !(abs(accuracy - referenceAccuracy) <= 0.005) {
            return "accuracy \(accuracy) vs reference \(referenceAccuracy) (allowed 0.005)"
        }
        return nil
    }
}

/// The result of ``Conformance/run(_:verifier:ops:training:)``.
public struct ConformanceReport: Sendable {
    /// The backend's registry name.
    public let backend: String
    /// One record per op checked.
    public let ops: [VerificationRecord]
    /// The training comparison, nil when it was not run.
    public let training: TrainingComparison?
    /// The ops that run on the Swift reference loops instead of the backend's own code
    /// (``ReferenceFallbacks/ops(of:)``; empty for ``SwiftBackend``, which is the reference).
    /// Not a failure, since the results are right, but each is slow: a wrapper that forgot to
    /// forward an op, or a backend that predates it.
    public let referenceOps: [VerifiedOp]

    /// True when every op and the training comparison pass.
    public var passed: Bool { failures.isEmpty }

    /// One line per failure, naming the op (or `training`) and the worst case.
    public var failures: [String] {
        var lines = ops.filter { !$0.pass }.map {
            "\($0.backend) \($0.op.rawValue): error \($0.worstRatio) × tolerance at \($0.worstCase)"
        }
        if let failure = training?.failure { lines.append("\(backend) training: \(failure)") }
        return lines
    }
}
