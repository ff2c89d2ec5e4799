import Foundation
import Testing
import Backprop

/// The three-call path of a library user: train, save from the trainer, load and predict on
/// raw features (the saved normalization and output activation applied by the checkpoint).
@Suite struct CheckpointPredictionTests {
    let backend = SwiftBackend()

    /// Raw features far from [0, 1], so forgetting the normalizer changes the answer.
    static func rawData(rows: Int, seed: UInt64) throws -> Dataset {
        var rng = SeededGenerator(seed: seed)
        let x = Tensor(rows: rows, cols: 3)
        var labels = [Int32]()
        for r in 0..<rows {
            let a = Float(rng.nextNormal()), b = Float(rng.nextNormal())
            x.data[r * 3] = 1000 + 50 * a
            x.data[r * 3 + 1] = -20 + 3 * b
            x.data[r * 3 + 2] = 7
            labels.append(a + b > 0 ? 1 : (a > b ? 2 : 0))
        }
        return try Dataset(features: x, labels: labels, classCount: 3)
    }

    @Test func loadedCheckpointPredictsOnRawFeaturesLikeTheTrainedModel() throws {
        let data = try Self.rawData(rows: 60, seed: 4)
        let normalizer = Normalizer(fitting: .standardize, to: data)
        let model = Sequential(seed: 1) { Dense(3, 8); Tanh(); Dense(8, 3) }
        let trainer = Trainer(model: model, loss: .crossEntropy(), optimizer: SGD(learningRate: 0.2),
                              backend: backend, seed: 2)
        try trainer.fit(try normalizer.apply(to: data), epochs: 20, batchSize: 10)

        let path = try CheckpointTests.temporaryPath("model.safetensors")
        try trainer.save(to: path, normalizer: normalizer)
        let loaded = try ModelCheckpoint.load(from: path)
        #expect(loaded.classCount == 3)
        #expect(loaded.loss == .crossEntropy())
        #expect(loaded.optimizer != nil && loaded.trainingState?.epochsCompleted == 20)

        let raw = try loaded.predict(data.features, backend: backend)
        let expected = try model.predict(try normalizer.apply(to: data.features), loss: .crossEntropy(),
                                         backend: backend)
        #expect(raw.probabilities.scalars == expected.probabilities.scalars)
        #expect(raw.classes == expected.classes)
        // Softmax rows: probabilities in [0, 1] that sum to 1.
        for r in 0..<data.count {
            let row = (0..<3).map { raw.probabilities.data[r * 3 + $0] }
            #expect(row.allSatisfy { $0 >= 0 && $0 <= 1 })
            #expect(abs(row.reduce(0, +) - 1) < 1e-5)
        }
        // Without the normalizer the same model answers differently: the checkpoint applied it.
        let unnormalized = try model.predict(data.features, loss: .crossEntropy(), backend: backend)
        #expect(unnormalized.probabilities.scalars != raw.probabilities.scalars)

        let evaluation = try loaded.evaluate(data, backend: backend)
        let direct = try trainer.evaluate(try normalizer.apply(to: data))
        #expect(evaluation.loss == direct.loss)
        #expect(evaluation.classification?.accuracy == direct.classification?.accuracy)
        #expect((evaluation.classification?.accuracy ?? 0) > 0.8)
    }

    @Test func rowsPredictLikeATensorAndRaggedRowsAreRefused() throws {
        let model = Sequential(seed: 5) { Dense(2, 1) }
        let checkpoint = ModelCheckpoint(model: model, loss: .binaryCrossEntropy())
        let fromRows = try checkpoint.predict(rows: [[0.5, -1], [2, 3]], backend: backend)
        let fromTensor = try checkpoint.predict(try Tensor(rows: 2, cols: 2, values: [0.5, -1, 2, 3]), backend: backend)
        #expect(fromRows.probabilities.scalars == fromTensor.probabilities.scalars)
        #expect(fromRows.classes?.count == 2)
        #expect(throws: BackpropError.self) { try checkpoint.predict(rows: [[1, 2], [3]], backend: backend) }
        #expect(throws: BackpropError.self) { try checkpoint.predict(rows: [[1, 2, 3]], backend: backend) }
    }

    @Test func trainerCheckpointInfersTheClassCountFromTheLoss() throws {
        let binary = Trainer(model: Sequential(seed: 1) { Dense(4, 1) }, loss: .binaryCrossEntropy(),
                             optimizer: SGD(learningRate: 0.1), backend: backend)
        #expect(try binary.checkpoint().classCount == 2)
        let regression = Trainer(model: Sequential(seed: 1) { Dense(4, 2) }, loss: .mse(),
                                 optimizer: SGD(learningRate: 0.1), backend: backend)
        #expect(try regression.checkpoint().classCount == nil)
        let classes = Trainer(model: Sequential(seed: 1) { Dense(4, 6); ReLU(); Dense(6, 5) }, loss: .crossEntropy(),
                              optimizer: Adam(), backend: backend)
        #expect(try classes.checkpoint().classCount == 5)
    }

    @Test func predictedClassesCompareWithLabelsAndEnumsPrintTheirNames() throws {
        let data = try Self.rawData(rows: 30, seed: 9)
        let model = Sequential(seed: 2) { Dense(3, 3) }
        let prediction = try model.predict(data.features, loss: .crossEntropy(), backend: backend)
        let classes: [Int32] = try #require(prediction.classes)
        let labels: [Int32] = try #require(data.labels)
        let correct = zip(classes, labels).filter { $0 == $1 }.count
        #expect((0...30).contains(correct))
        #expect("\(Normalization.standardize)" == "standardize")
        #expect("\(TargetKind.values)" == "values")
        #expect("\(Initializer.heUniform)" == "heUniform")
        #expect("\(FitOutcome.stopped)" == "stopped")
        #expect("\(CSV.LabelColumn.index(-1))" == "column -1 (from the end)")
        #expect("\(CSV.LabelColumn.name("y"))" == "column 'y'")
    }
}
