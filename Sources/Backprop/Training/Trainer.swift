/// Where a training run stands: everything besides the weights and optimizer state that is
/// needed to continue it exactly (see ``Trainer/state``).
public struct TrainingState: Sendable, Equatable {
    /// Epochs fully completed.
    public var epochsCompleted = 0
    /// Minibatches completed in the current (unfinished) epoch.
    public var batchesCompleted = 0
    /// Running totals of the current epoch (loss × samples, correct predictions, samples), so
    /// a resumed epoch reports the same averages as an uninterrupted one.
    public var epochLossSum = 0.0
    /// Correct predictions in the current epoch so far.
    public var epochCorrect = 0
    /// Samples seen in the current epoch so far.
    public var epochSeen = 0
    /// The shuffling generator as it was at the start of the current epoch, so the epoch's
    /// order can be drawn again when a run resumes in the middle of it.
    public var epochStartRNG: SeededGenerator
    /// One report per completed epoch.
    public var history: [EpochReport] = []

    /// The state of a run that has not started, shuffling seeded by `seed`.
    public init(seed: UInt64) { epochStartRNG = SeededGenerator(seed: seed) }
}

/// How a call to ``Trainer/fit(_:validation:epochs:batchSize:onBatch:onEpoch:)`` ended.
public enum FitOutcome: Sendable, Equatable {
    /// Every requested epoch ran.
    case completed
    /// ``Trainer/shouldStop`` returned true after a step; ``Trainer/state`` says where.
    case stopped
}

/// Trains a ``Sequential`` with a loss and an optimizer on one backend: epochs of shuffled
/// minibatches, forward, loss gradient, backward, update.
///
/// ``fit(_:validation:epochs:batchSize:onBatch:onEpoch:)`` and ``trainStep(_:)`` put the model in
/// training mode; ``evaluate(_:batchSize:)`` runs in evaluation mode (see ``LayerMode``).
/// Every step starts with the gradients reset (each parameter's next write overwrites), and a
/// parameter no layer wrote in backward gets a zero gradient, never a stale one.
///
/// ```swift
/// let trainer = Trainer(model: model, loss: .crossEntropy(), optimizer: SGD(learningRate: 0.1),
///                       backend: try defaultBackend(), seed: 42)
/// try trainer.fit(train, validation: test, epochs: 20, batchSize: 32)
/// ```
///
/// With a ``Communicator`` of several ranks (``MPICommunicator`` under `mpirun`), each rank
/// computes its part of every minibatch and the gradients are summed across ranks, so N ranks
/// train as one process with the same global `batchSize`; see docs/DISTRIBUTED.md.
public final class Trainer {
    /// The network being trained.
    public let model: Sequential
    /// The loss minimized.
    public let loss: Loss
    /// The update rule, with its state.
    public let optimizer: any Optimizer
    /// The engine every op runs on.
    public let backend: any Backend
    /// When set, gradients are rescaled so their global L2 norm is at most this value.
    public var clipGradNorm: Float?
    /// Checked after every step; returning true ends ``fit(_:validation:epochs:batchSize:onBatch:onEpoch:)`` early with ``FitOutcome/stopped``
    /// at a step boundary (used for Ctrl-C).
    public var shouldStop: (() -> Bool)?
    /// Progress of the run, for checkpoints and resuming.
    public var state: TrainingState
    /// The ranks training together; only rank 0 evaluates `validation` in ``fit(_:validation:epochs:batchSize:onBatch:onEpoch:)``.
    public let communicator: any Communicator

    private let parameters: [(name: String, parameter: Parameter)]
    private var batchFeatures: Tensor?
    /// The sample shape of the data being trained on, kept so a step builds no shape arrays.
    private var batchSampleShape: [Int] = []
    /// The data shape ``trainStep(_:)`` last checked the model against.
    private var checkedSampleShape: [Int] = []
    private var checkedOutputCount = -1
    private var batchTargets: Tensor?
    private var batchLabels: [Int32] = []
    private var predicted: [Int32] = []
    private var outputGrad: Tensor?
    private var lossScratch: Tensor?
    /// 0, 1, 2, ...: the row order of ``trainStep(_:)``'s batch, kept so a step allocates nothing.
    private var identityOrder: [Int] = []
    /// The gradient all-reduce, for more than one rank.
    private let exchange: GradientExchange?

    /// A trainer of `model` (single-process unless `communicator` has several ranks).
    ///
    /// - Parameters:
    ///   - model: the network to train; its parameters are updated in place.
    ///   - loss: the loss to minimize.
    ///   - optimizer: the update rule (its state lives in the optimizer).
    ///   - backend: the engine every op runs on.
    ///   - seed: seeds the minibatch shuffling (weights are seeded by the model).
    ///   - communicator: the ranks to train with, data-parallel; every rank must pass the same
    ///     model, settings, seed and data.
    public init(model: Sequential, loss: Loss, optimizer: any Optimizer, backend: any Backend, seed: UInt64 = 0,
                communicator: any Communicator = SingleProcessCommunicator()) {
        self.model = model
        self.loss = loss
        self.optimizer = optimizer
        self.backend = backend
        self.state = TrainingState(seed: seed)
        self.parameters = model.namedParameters
        self.communicator = communicator
        exchange = communicator.size > 1
            ? GradientExchange(communicator: communicator, parameters: parameters.map(\.parameter)) : nil
    }

    /// Trains until `epochs` epochs are complete in total (a resumed run continues where its
    /// ``state`` says), reporting each batch and epoch.
    ///
    /// - Parameters:
    ///   - train: the training data, shuffled each epoch.
    ///   - validation: evaluated after each epoch for the report's test loss and accuracy.
    ///   - epochs: the total number of epochs (a resumed run counts those already done).
    ///   - batchSize: samples per step (the last batch of an epoch may be smaller).
    ///   - onBatch: called after every step (cheap; throttle any drawing yourself).
    ///   - onEpoch: called after every epoch.
    /// - Throws: ``BackpropError/shapeMismatch(_:)`` when the data does not fit the model,
    ///   ``BackpropError/invalidArgument(_:)`` for a batch size below 1, and
    ///   ``BackpropError/diverged(epoch:batch:loss:)`` when the loss stops being finite (the
    ///   weights are left as they were before that batch), and ``BackpropError/communication(_:)``
    ///   when the ranks of the communicator do not hold the same data, settings or progress.
    @discardableResult
    public func fit(
        _ train: Dataset, validation: Dataset? = nil, epochs: Int, batchSize: Int,
        onBatch: ((BatchReport) -> Void)? = nil, onEpoch: ((EpochReport) -> Void)? = nil
    ) throws -> FitOutcome {
        guard batchSize >= 1 else { throw BackpropError.invalidArgument("batch size must be at least 1, got \(batchSize)") }
        guard epochs >= 0 else { throw BackpropError.invalidArgument("epochs must be non-negative, got \(epochs)") }
        guard train.count > 0 else { throw BackpropError.invalidArgument("the training set is empty") }
        try checkCompatible(train)
        if let validation { try checkCompatible(validation) }
        if let exchange {
            try ReplicaAgreement.check(startFingerprints(train: train, epochs: epochs, batchSize: batchSize),
                                       remedy: "every rank must load the same data and settings (and resume from the same checkpoint)",
                                       communicator: communicator)
            try exchange.broadcastParameters()
        }

        let batches = (train.count + batchSize - 1) / batchSize
        while state.epochsCompleted < epochs {
            model.train()
            batchSampleShape = train.sampleShape
            let epochIndex = state.epochsCompleted
            var rng = state.epochStartRNG
            var order = Array(0..<train.count)
            rng.shuffle(&order)
            let clock = ContinuousClock()
            let start = clock.now
            var lossSum = state.epochLossSum, correct = state.epochCorrect, seen = state.epochSeen
            var batchIndex = state.batchesCompleted
            while batchIndex < batches {
                let lower = batchIndex * batchSize
                let indices = order[lower..<min(lower + batchSize, train.count)]
                let (batchLoss, batchCorrect) = try step(train, indices: indices, epoch: epochIndex, batch: batchIndex)
                lossSum += batchLoss * Double(indices.count)
                correct += batchCorrect
                seen += indices.count
                batchIndex += 1
                state.batchesCompleted = batchIndex
                (state.epochLossSum, state.epochCorrect, state.epochSeen) = (lossSum, correct, seen)
                if let onBatch {
                    let seconds = seconds(since: start, clock: clock)
                    onBatch(BatchReport(
                        epoch: epochIndex + 1, epochs: epochs, batch: batchIndex, batches: batches,
                        loss: lossSum / Double(seen),
                        accuracy: accuracy(correct: correct, seen: seen, data: train),
                        samplesPerSecond: Double(seen) / max(seconds, 1e-9), seconds: seconds))
                }
                if batchIndex < batches, stopRequested() { return .stopped }
            }
            let seconds = seconds(since: start, clock: clock)
            let evaluation = try (communicator.isRoot ? validation : nil).map { try evaluate($0) }
            let report = EpochReport(
                epoch: epochIndex + 1, epochs: epochs,
                trainLoss: lossSum / Double(max(seen, 1)),
                trainAccuracy: accuracy(correct: correct, seen: seen, data: train),
                testLoss: evaluation?.loss, testAccuracy: evaluation?.classification?.accuracy,
                samplesPerSecond: Double(seen) / max(seconds, 1e-9), seconds: seconds)
            state.history.append(report)
            state.epochsCompleted += 1
            state.batchesCompleted = 0
            (state.epochLossSum, state.epochCorrect, state.epochSeen) = (0, 0, 0)
            state.epochStartRNG = rng
            onEpoch?(report)
            if state.epochsCompleted < epochs, stopRequested() { return .stopped }
        }
        if exchange != nil {
            try ReplicaAgreement.check([("weights", weightFingerprint())],
                                       remedy: "the all-reduce did not give every rank the same sums", communicator: communicator)
        }
        return .completed
    }

    /// One optimization step on the samples at `indices`: returns the batch loss and the
    /// number of correct predictions (0 for data without an accuracy).
    /// With several ranks, `indices` is the global batch: this rank computes its shard, and the
    /// gradients, loss and count are summed across ranks before the update.
    /// `countingCorrect: false` skips the argmax when the caller wants only the loss.
    private func step(_ data: Dataset, indices: ArraySlice<Int>, epoch: Int, batch: Int,
                      countingCorrect: Bool = true) throws -> (Double, Int) {
        let local = exchange?.shard(of: indices) ?? indices
        var value = 0.0, correct = 0
        for (_, parameter) in parameters { parameter.discardGrad() }
        if !local.isEmpty {
            let x = gather(data, local)
            let output = model.forward(x, backend: backend)
            let grad = Tensor.reuse(outputGrad, rows: output.rows, cols: output.cols)
            outputGrad = grad
            value = computeLoss(output, data: data, grad: grad)
            if exchange == nil, !value.isFinite { throw BackpropError.diverged(epoch: epoch + 1, batch: batch + 1, loss: value) }
            if countingCorrect { correct = countCorrect(output, data: data) }
            if let share = exchange?.globalShare(of: loss, localRows: local.count, globalRows: indices.count) {
                backend.scale(grad.data, by: Float(share), count: grad.count)
                value *= share
            }
            model.backward(grad, backend: backend)
        }
        // A parameter no layer wrote this step has a zero gradient, never last step's.
        for (_, parameter) in parameters where parameter.gradIsZero { parameter.zeroGrad() }
        if let exchange {
            (value, correct) = try exchange.sum(lossShare: value, correct: correct, stopVote: shouldStop?() == true)
            guard value.isFinite else { throw BackpropError.diverged(epoch: epoch + 1, batch: batch + 1, loss: value) }
        }
        if let clipGradNorm { clipGradients(to: clipGradNorm) }
        optimizer.step(parameters, backend: backend)
        return (value, correct)
    }

    /// One optimization step on a batch you provide (for custom loops); returns the loss.
    /// - Throws: as ``fit(_:validation:epochs:batchSize:onBatch:onEpoch:)``.
    @discardableResult
    public func trainStep(_ batch: Dataset) throws -> Double {
        // Checked once per sample shape and output width, so a steady-state step allocates nothing.
        if batch.sampleShape != checkedSampleShape || batch.outputCount != checkedOutputCount {
            try checkCompatible(batch)
            (checkedSampleShape, checkedOutputCount) = (batch.sampleShape, batch.outputCount)
        }
        model.train()
        batchSampleShape = batch.sampleShape
        if identityOrder.count < batch.count { identityOrder = Array(0..<batch.count) }
        return try step(batch, indices: identityOrder[0..<batch.count], epoch: state.epochsCompleted,
                        batch: state.batchesCompleted, countingCorrect: false).0
    }

    /// ``Sequential/evaluate(_:loss:backend:batchSize:)`` of the trainer's model with its loss
    /// and backend: a convenience, the same evaluation. Runs in evaluation mode
    /// (``fit(_:validation:epochs:batchSize:onBatch:onEpoch:)`` switches back to training).
    public func evaluate(_ data: Dataset, batchSize: Int = 512) throws -> Evaluation {
        try model.evaluate(data, loss: loss, backend: backend, batchSize: batchSize)
    }

    /// Copies the selected rows (and their targets) into the reused batch buffers; a whole batch
    /// in order is not copied.
    // features: (samples, in) -> x: [indices.count] + sample shape
    private func gather(_ data: Dataset, _ indices: ArraySlice<Int>) -> Tensor {
        let width = data.featureCount
        // A whole batch in order (``trainStep(_:)``) whose features already have the shape the
        // network takes is read in place, as `predict` does: layers never write their input.
        let inPlace = indices.count == data.count && data.features.rank == batchSampleShape.count + 1
            && data.features.shape.dropFirst().elementsEqual(batchSampleShape)
            && indices.elementsEqual(0..<data.count)
        let x = inPlace ? data.features : Tensor.reuse(batchFeatures, batch: indices.count, sample: batchSampleShape)
        if !inPlace {
            batchFeatures = x
            for (row, index) in indices.enumerated() {
                (x.data + row * width).update(from: data.features.data + index * width, count: width)
            }
        }
        switch data.targets {
        case .labels(let labels, _):
            if batchLabels.count < indices.count { batchLabels = Array(repeating: 0, count: indices.count) }
            batchLabels.withUnsafeMutableBufferPointer { out in
                for (row, index) in indices.enumerated() { out[row] = labels[index] }
            }
        case .values(let targets):
            let t = Tensor.reuse(batchTargets, rows: indices.count, cols: targets.cols)
            batchTargets = t
            for (row, index) in indices.enumerated() {
                (t.data + row * t.cols).update(from: targets.data + index * t.cols, count: t.cols)
            }
        }
        return x
    }

    private func computeLoss(_ output: Tensor, data: Dataset, grad: Tensor) -> Double {
        switch data.targets {
        case .labels:
            return batchLabels.withUnsafeBufferPointer { labels in
                loss.compute(output: output, labels: labels.baseAddress, targets: nil, grad: grad,
                             scratch: &lossScratch, backend: backend)
            }
        case .values:
            return loss.compute(output: output, labels: nil, targets: batchTargets, grad: grad,
                                scratch: &lossScratch, backend: backend)
        }
    }

    /// Whether ``shouldStop`` asked to stop; with several ranks, whether any rank did at the
    /// last step, so all of them stop at the same step.
    private func stopRequested() -> Bool { exchange?.stopAgreed ?? (shouldStop?() == true) }

    /// The fraction of correct decisions, nil for regression (see ``DecisionRule``).
    private func accuracy(correct: Int, seen: Int, data: Dataset) -> Double? {
        let rule = DecisionRule(loss: loss, data: data)
        guard rule != .regression else { return nil }
        return Double(correct) / Double(max(seen * rule.decisionsPerSample(width: data.outputCount), 1))
    }

    /// Correct decisions in the batch, by the rule ``Sequential/evaluate(_:loss:backend:batchSize:)`` uses.
    private func countCorrect(_ output: Tensor, data: Dataset) -> Int {
        let rule = DecisionRule(loss: loss, data: data)
        var correct = 0
        batchLabels.withUnsafeBufferPointer { labels in
            rule.forEachDecision(output: output, labels: labels.baseAddress, targets: batchTargets?.data,
                                 backend: backend, predicted: &predicted) { if $0 == $1 { correct += 1 } }
        }
        return correct
    }

    /// Scales every gradient by min(1, maxNorm / ‖g‖₂) over all parameters together.
    private func clipGradients(to maxNorm: Float) {
        let total = parameters.reduce(0.0) { $0 + backend.sumOfSquares($1.parameter.grad.data, count: $1.parameter.grad.count) }
        let norm = total.squareRoot()
        guard norm > Double(maxNorm), norm > 0 else { return }
        let factor = Float(Double(maxNorm) / norm)
        for (_, p) in parameters { backend.scale(p.grad.data, by: factor, count: p.grad.count) }
    }

    private func checkCompatible(_ data: Dataset) throws {
        let width = try model.outputShape(forInputShape: data.sampleShape).reduce(1, *)
        guard width == data.outputCount else {
            throw BackpropError.shapeMismatch(
                "the model outputs \(width) values per sample but the data has \(data.outputCount) "
                    + (data.labels != nil ? "classes" : "target columns"))
        }
    }

    private func seconds(since start: ContinuousClock.Instant, clock: ContinuousClock) -> Double {
        let d = clock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}

extension Loss {
    /// Whether one output value means the positive class: logit > 0 for binary cross-entropy,
    /// value > 0.5 otherwise.
    func predictsPositive(_ value: Float) -> Bool {
        kind == .binaryCrossEntropy ? value > 0 : value > 0.5
    }
}
