import Testing
@testable import Backprop

@Suite struct TrainingTests {
    let backend = SwiftBackend()

    static func xorData() throws -> Dataset {
        try Dataset(features: Tensor([[0, 0], [0, 1], [1, 0], [1, 1]]), targets: Tensor([[0], [1], [1], [0]]))
    }

    @Test func xorLearnsWithSigmoidAndMSE() throws {
        let model = Sequential(seed: 7) {
            Dense(2, 4, initializer: .xavierUniform); Sigmoid()
            Dense(4, 1, initializer: .xavierUniform); Sigmoid()
        }
        let data = try Self.xorData()
        let trainer = Trainer(model: model, loss: .mse(), optimizer: SGD(learningRate: 2.0), backend: backend, seed: 1)
        try trainer.fit(data, epochs: 3000, batchSize: 4)
        let out = try model(data.features, backend: backend).scalars
        // Every output on the right side of 0.5 with a margin of 0.3.
        #expect(out[0] < 0.2 && out[3] < 0.2, "\(out)")
        #expect(out[1] > 0.8 && out[2] > 0.8, "\(out)")
        // MSE on target values is a regression: no accuracy, a mean absolute error below the 0.2 margin.
        let regression = try #require(try trainer.evaluate(data).regression)
        #expect(regression.meanAbsoluteError < 0.2 && regression.count == 4, "\(regression)")
    }

    @Test func sameSeedGivesBitIdenticalWeights() throws {
        func run() throws -> [[Float]] {
            var rng = SeededGenerator(seed: 5)
            let x = Tensor(rows: 64, cols: 6)
            for i in 0..<x.count { x.data[i] = Float(rng.nextUnit()) }
            let labels = (0..<64).map { Int32($0 % 3) }
            let data = try Dataset(features: x, labels: labels, classCount: 3)
            let model = Sequential(seed: 11) { Dense(6, 8); ReLU(); Dense(8, 3) }
            let trainer = Trainer(model: model, loss: .crossEntropy(), optimizer: Adam(learningRate: 0.01),
                                  backend: backend, seed: 3)
            try trainer.fit(data, epochs: 3, batchSize: 10)
            return model.namedParameters.map { $0.parameter.value.scalars }
        }
        let first = try run(), second = try run()
        #expect(first.map { $0.map(\.bitPattern) } == second.map { $0.map(\.bitPattern) })
    }

    /// `trainStep` reads a batch whose features already have the network's input shape in place
    /// (no copy): the steps equal, bit for bit, steps on the same batch seen as [2, 3] samples
    /// (which must be copied into that shape), and the batch is left as it was.
    @Test(arguments: TestBackends.available)
    func trainStepReadsAnInOrderBatchInPlaceAndLeavesItUnchanged(name: String) throws {
        let backend = try TestBackends.make(name)
        var rng = SeededGenerator(seed: 9)
        let x = Tensor(rows: 40, cols: 6)
        for i in 0..<x.count { x.data[i] = Float(2 * rng.nextUnit() - 1) }
        let flat = try Dataset(features: x, labels: (0..<40).map { Int32($0 % 3) }, classCount: 3)
        let shaped = try flat.withSampleShape([2, 3])
        let before = x.scalars
        func run(_ data: Dataset) throws -> [[UInt32]] {
            let model = Sequential(seed: 4) { Flatten(); Dense(6, 8); ReLU(); Dense(8, 3) }
            let trainer = Trainer(model: model, loss: .crossEntropy(), optimizer: SGD(learningRate: 0.5),
                                  backend: backend, seed: 2)
            for _ in 0..<3 { try trainer.trainStep(data) }
            return model.namedParameters.map { $0.parameter.value.scalars.map(\.bitPattern) }
        }
        #expect(try run(flat) == run(shaped))
        #expect(x.scalars.map(\.bitPattern) == before.map(\.bitPattern), "trainStep wrote into the batch")
    }

    @Test func mismatchedDataIsAClearError() throws {
        let model = Sequential { Dense(3, 2) }
        let data = try Dataset(features: Tensor(rows: 2, cols: 4), labels: [0, 1])
        let trainer = Trainer(model: model, loss: .crossEntropy(), optimizer: SGD(learningRate: 0.1), backend: backend)
        #expect(throws: BackpropError.shapeMismatch("layer 0 (Dense(3 → 2)): expects input shape [3] (3 features), got [4]")) {
            try trainer.fit(data, epochs: 1, batchSize: 2)
        }
        #expect(throws: BackpropError.invalidArgument("batch size must be at least 1, got 0")) {
            try trainer.fit(data, epochs: 1, batchSize: 0)
        }
    }

    /// On every backend, with each way a loss becomes non-finite: ∞ from overflow (MSE), and NaN
    /// from a NaN feature through ReLU (which must not turn it into 0), sigmoid and the fused
    /// cross-entropy and BCE.
    @Test(arguments: TestBackends.available)
    func divergenceStopsWithEpochAndBatchAndKeepsWeights(name: String) throws {
        let backend = try TestBackends.make(name)
        let data = try Dataset(features: Tensor([[1e30, -1e30], [1e30, 1e30]]), targets: Tensor([[1], [0]]))
        let model = Sequential(seed: 1) { Dense(2, 1) }
        let before = model.namedParameters.map { $0.parameter.value.scalars }
        let trainer = Trainer(model: model, loss: .mse(), optimizer: SGD(learningRate: 1e10), backend: backend)
        #expect {
            try trainer.fit(data, epochs: 5, batchSize: 2)
        } throws: { error in
            guard case BackpropError.diverged(let epoch, let batch, _) = error else { return false }
            return epoch == 1 && batch == 1
        }
        #expect(model.namedParameters.map { $0.parameter.value.scalars } == before)

        // One NaN feature in the one batch of four: the first step stops, weights untouched.
        let nanFeatures = try Tensor([[0.5, 1], [1, 0.25], [.nan, 1], [1, 1]])
        let cases: [(String, Loss, () -> [any Layer], Dataset)] = [
            ("relu + cross-entropy", .crossEntropy(), { [Dense(2, 3), ReLU(), Dense(3, 2)] },
             try Dataset(features: nanFeatures, labels: [0, 1, 0, 1])),
            ("sigmoid + MSE", .mse(), { [Dense(2, 3), Sigmoid(), Dense(3, 1)] },
             try Dataset(features: nanFeatures, targets: Tensor([[0], [1], [0], [1]]))),
            ("tanh + BCE", .binaryCrossEntropy(), { [Dense(2, 3), Tanh(), Dense(3, 1)] },
             try Dataset(features: nanFeatures, targets: Tensor([[0], [1], [0], [1]]))),
        ]
        for (label, loss, layers, data) in cases {
            let model = Sequential(layers(), seed: 2)
            let before = model.namedParameters.map { $0.parameter.value.scalars }
            let trainer = Trainer(model: model, loss: loss, optimizer: Adam(learningRate: 0.01), backend: backend, seed: 1)
            #expect {
                try trainer.fit(data, epochs: 2, batchSize: 4)
            } throws: { error in
                guard case BackpropError.diverged(let epoch, let batch, let loss) = error else { return false }
                return epoch == 1 && batch == 1 && loss.isNaN
            }
            #expect(model.namedParameters.map { $0.parameter.value.scalars } == before, "\(name) \(label): the weights took the NaN step")
        }
    }

    @Test func stoppingAndResumingIsBitIdentical() throws {
        var rng = SeededGenerator(seed: 8)
        let x = Tensor(rows: 50, cols: 4)
        for i in 0..<x.count { x.data[i] = Float(rng.nextNormal()) }
        let data = try Dataset(features: x, labels: (0..<50).map { Int32($0 % 2) })
        func makeTrainer() -> Trainer {
            Trainer(model: Sequential(seed: 4) { Dense(4, 5); Tanh(); Dense(5, 2) }, loss: .crossEntropy(),
                    optimizer: SGD(learningRate: 0.05, momentum: 0.9), backend: backend, seed: 6)
        }
        let straight = makeTrainer()
        try straight.fit(data, epochs: 3, batchSize: 8)

        let interrupted = makeTrainer()
        var steps = 0
        interrupted.shouldStop = { steps += 1; return steps == 10 }  // mid-epoch 2 (7 batches per epoch)
        #expect(try interrupted.fit(data, epochs: 3, batchSize: 8) == .stopped)
        #expect(interrupted.state.epochsCompleted == 1 && interrupted.state.batchesCompleted == 3)
        // Resume into a fresh trainer from the saved pieces, as a checkpoint would.
        let resumed = makeTrainer()
        for (a, b) in zip(resumed.model.namedParameters, interrupted.model.namedParameters) {
            a.parameter.value.data.update(from: b.parameter.value.data, count: b.parameter.value.count)
        }
        try resumed.optimizer.restore(Dictionary(uniqueKeysWithValues: interrupted.optimizer.state.map { ($0.name, $0.tensor) }),
                                      stepCount: interrupted.optimizer.stepCount)
        resumed.state = interrupted.state
        #expect(try resumed.fit(data, epochs: 3, batchSize: 8) == .completed)
        let a = straight.model.namedParameters.map { $0.parameter.value.scalars.map(\.bitPattern) }
        let b = resumed.model.namedParameters.map { $0.parameter.value.scalars.map(\.bitPattern) }
        #expect(a == b)
        #expect(straight.state.history.map(\.trainLoss) == resumed.state.history.map(\.trainLoss))
    }
}
