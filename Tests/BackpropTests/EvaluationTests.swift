import Foundation
import Testing
import Backprop

/// `Evaluation`: a classification (accuracy, confusion matrix) or a regression (loss, mean
/// absolute error), counted by the same rule in `Sequential.evaluate` and the trainer's running
/// accuracy; the three ways in (model, trainer, checkpoint) give the same result.
@Suite struct EvaluationTests {
    let backend = SwiftBackend()

    /// Dense(n → n) with identity weights and zero bias: the output is the input.
    static func identity(_ n: Int) -> Sequential {
        let dense = Dense(n, n)
        let model = Sequential([dense], seed: 0)  // initializes the weights; overwritten here
        for i in 0..<n * n { dense.weight.value.data[i] = i / n == i % n ? 1 : 0 }
        for i in 0..<n { dense.bias.value.data[i] = 0 }
        return model
    }

    @Test func labelsGiveAccuracyAndTheConfusionMatrix() throws {
        // Outputs = inputs; argmax per row [0, 1, 1, 1] against labels [0, 0, 1, 1].
        let x = try Tensor(rows: 4, cols: 2, values: [3, 1, 0, 2, -1, 5, 1, 4])
        let data = try Dataset(features: x, labels: [0, 0, 1, 1], classCount: 2)
        let result = try #require(try Self.identity(2).evaluate(data, loss: .crossEntropy(), backend: backend).classification)
        #expect(result.confusion == [[1, 1], [0, 2]])
        #expect(result.accuracy == 0.75 && result.correct == 3 && result.count == 4)
        #expect(result.precision == [1, 2.0 / 3.0] && result.recall == [0.5, 1] && result.support == [2, 2])
        // Mean softmax cross-entropy of the four rows, by hand.
        let expected = [(3.0, 1.0, 0), (0, 2, 0), (-1, 5, 1), (1, 4, 1)].map { a, b, label -> Double in
            let logSum = log(exp(a) + exp(b))
            return logSum - (label == 0 ? a : b)
        }.reduce(0, +) / 4
        #expect(abs(result.loss - expected) < 1e-6, "\(result.loss) vs \(expected)")
        #expect("\(Evaluation.classification(result))" == "accuracy 0.7500 (3/4) · loss \(String(format: "%.4f", expected))")
    }

    @Test func binaryCrossEntropyOnOneOutputIsAClassificationWithA2x2Matrix() throws {
        // logit = x: predicted [0, 1, 1, 0] against targets [0, 1, 0, 1].
        let data = try Dataset(features: Tensor([[-1], [2], [3], [-0.5]]), targets: Tensor([[0], [1], [0], [1]]))
        let evaluation = try Self.identity(1).evaluate(data, loss: .binaryCrossEntropy(), backend: backend)
        let result = try #require(evaluation.classification)
        #expect(result.confusion == [[1, 1], [1, 1]] && result.accuracy == 0.5)
        // BCE with logits: log(1 + e^z) − t·z, averaged.
        let expected = [(-1.0, 0.0), (2, 1), (3, 0), (-0.5, 1)].map { z, t in log(1 + exp(z)) - t * z }.reduce(0, +) / 4
        #expect(abs(result.loss - expected) < 1e-6, "\(result.loss) vs \(expected)")
        #expect(evaluation.regression == nil)
    }

    @Test func binaryCrossEntropyOnSeveralOutputsCountsEveryValue() throws {
        // Two labels per sample: decisions (t, z > 0) = (1,1) (0,0) | (1,0) (0,1) -> 2 of 4 right.
        let data = try Dataset(features: Tensor([[2, -1], [-3, 4]]), targets: Tensor([[1, 0], [1, 0]]))
        let result = try #require(try Self.identity(2).evaluate(data, loss: .binaryCrossEntropy(), backend: backend)
            .classification)
        #expect(result.confusion == [[1, 1], [1, 1]] && result.accuracy == 0.5 && result.count == 2)
    }

    @Test func mseOnTargetValuesIsARegressionWithTheMeanAbsoluteError() throws {
        let data = try Dataset(features: Tensor([[1], [2], [4]]), targets: Tensor([[1.5], [2], [1]]))
        let evaluation = try Self.identity(1).evaluate(data, loss: .mse(), backend: backend)
        let result = try #require(evaluation.regression)
        #expect(abs(result.loss - (0.25 + 0 + 9) / 3) < 1e-6)
        #expect(abs(result.meanAbsoluteError - (0.5 + 0 + 3) / 3) < 1e-6)
        #expect(result.count == 3 && evaluation.classification == nil)
        #expect("\(evaluation)" == "loss 3.0833 · mean absolute error 1.1667 (3 samples)")
    }

    @Test func mseOnLabelsAndCrossEntropyOnTargetRowsAreClassifications() throws {
        let x = try Tensor(rows: 3, cols: 3, values: [5, 1, 0, 0, 1, 5, 0, 4, 1])
        let labelled = try Dataset(features: x, labels: [0, 1, 1], classCount: 3)
        let onLabels = try #require(try Self.identity(3).evaluate(labelled, loss: .mse(), backend: backend).classification)
        #expect(onLabels.confusion == [[1, 0, 0], [0, 1, 1], [0, 0, 0]])
        // Soft target rows: their argmax [0, 2, 2] is the actual class.
        let soft = try Dataset(features: x, targets: Tensor([[0.7, 0.2, 0.1], [0, 0.4, 0.6], [0.1, 0.3, 0.6]]))
        let onRows = try #require(try Self.identity(3).evaluate(soft, loss: .crossEntropy(), backend: backend).classification)
        #expect(onRows.confusion == [[1, 0, 0], [0, 0, 0], [0, 1, 1]] && onRows.accuracy == 2.0 / 3.0)
    }

    /// A summed loss is the sum over every sample, whatever the batch size (it was multiplied by
    /// each batch's row count).
    @Test func summedLossDoesNotDependOnTheBatchSize() throws {
        let data = try Dataset(features: Tensor([[1], [2], [4], [0]]), targets: Tensor([[1.5], [2], [1], [1]]))
        let model = Self.identity(1)
        let one = try model.evaluate(data, loss: .mse(.sum), backend: backend, batchSize: 1)
        let all = try model.evaluate(data, loss: .mse(.sum), backend: backend, batchSize: 4)
        let three = try model.evaluate(data, loss: .mse(.sum), backend: backend, batchSize: 3)
        #expect(abs(one.loss - 10.25) < 1e-6 && abs(all.loss - 10.25) < 1e-6 && abs(three.loss - 10.25) < 1e-6,
                "\(one.loss) \(all.loss) \(three.loss)")
    }

    /// With a learning rate of 0 the weights do not move, so the running accuracy of an epoch
    /// equals what evaluate counts: the same decisions for labels and for BCE targets, none for
    /// MSE targets.
    @Test(arguments: ["labels", "bce", "bce-multi", "mse"])
    func trainerAccuracyCountsLikeEvaluate(kind: String) throws {
        var rng = SeededGenerator(seed: 3)
        let x = Tensor(rows: 40, cols: 3)
        for i in 0..<x.count { x.data[i] = Float(rng.nextNormal()) }
        let width = kind == "labels" ? 3 : kind == "bce-multi" ? 2 : 1
        let data: Dataset
        switch kind {
        case "labels": data = try Dataset(features: x, labels: (0..<40).map { Int32($0 % 3) }, classCount: 3)
        default:
            let t = Tensor(rows: 40, cols: width)
            for i in 0..<t.count { t.data[i] = rng.nextUnit() > 0.5 ? 1 : 0 }
            data = try Dataset(features: x, targets: t)
        }
        let loss: Loss = kind == "labels" ? .crossEntropy() : kind == "mse" ? .mse() : .binaryCrossEntropy()
        let trainer = Trainer(model: Sequential(seed: 4) { Dense(3, 5); Tanh(); Dense(5, width) }, loss: loss,
                              optimizer: SGD(learningRate: 0), backend: backend, seed: 1)
        try trainer.fit(data, epochs: 1, batchSize: 7)
        let evaluation = try trainer.evaluate(data)
        let report = try #require(trainer.state.history.last)
        if kind == "mse" {
            #expect(report.trainAccuracy == nil && evaluation.classification == nil)
        } else {
            let accuracy = try #require(evaluation.classification?.accuracy)
            #expect(report.trainAccuracy == accuracy, "\(kind): \(String(describing: report.trainAccuracy)) vs \(accuracy)")
        }
    }

    /// The trainer and the checkpoint forward to the model's evaluate; the checkpoint gives flat
    /// samples its saved input shape, in evaluate and in predict.
    @Test func trainerModelAndCheckpointEvaluateAlike() throws {
        var rng = SeededGenerator(seed: 8)
        let x = Tensor(rows: 12, cols: 16)
        for i in 0..<x.count { x.data[i] = Float(rng.nextNormal()) }
        let flat = try Dataset(features: x, labels: (0..<12).map { Int32($0 % 2) }, classCount: 2)
        let shaped = try flat.withSampleShape([1, 4, 4])
        let model = Sequential(seed: 3) { Conv2d(1, 2, kernelSize: 3); ReLU(); Flatten(); Dense(8, 2) }
        let trainer = Trainer(model: model, loss: .crossEntropy(), optimizer: SGD(learningRate: 0.1), backend: backend)
        let direct = try model.evaluate(shaped, loss: .crossEntropy(), backend: backend)
        #expect(try trainer.evaluate(shaped) == direct)
        let checkpoint = ModelCheckpoint(model: model, loss: .crossEntropy(), inputShape: [1, 4, 4])
        #expect(try checkpoint.evaluate(flat, backend: backend) == direct)
        let fromFlat = try checkpoint.predict(x, backend: backend)
        let fromShaped = try model.predict(try Tensor(shape: [12, 1, 4, 4], values: x.scalars), loss: .crossEntropy(),
                                           backend: backend)
        #expect(fromFlat.probabilities.scalars == fromShaped.probabilities.scalars && fromFlat.classes == fromShaped.classes)
        #expect(x.shape == [12, 16])  // the caller's tensor is not reshaped
    }

    /// A binary cross-entropy checkpoint predicts σ(logit), the probability of class 1, and
    /// class 1 exactly when it is above 0.5.
    @Test func binaryCheckpointPredictsSigmoidProbabilities() throws {
        let model = Sequential(seed: 6) { Dense(2, 3); Tanh(); Dense(3, 1) }
        let checkpoint = ModelCheckpoint(model: model, loss: .binaryCrossEntropy())
        let rows: [[Float]] = [[0.5, -1], [2, 3], [-4, 1], [0, 0]]
        let prediction = try checkpoint.predict(rows: rows, backend: backend)
        let logits = try model(try Tensor(rows: 4, cols: 2, values: rows.flatMap { $0 }), backend: backend).scalars
        #expect(prediction.probabilities.shape == [4, 1])
        for (p, z) in zip(prediction.probabilities.scalars, logits) {
            #expect(abs(p - 1 / (1 + exp(-z))) < 1e-6, "\(p) vs σ(\(z))")
        }
        #expect(prediction.classes == prediction.probabilities.scalars.map { $0 > 0.5 ? 1 : 0 })
    }

    @available(*, deprecated, message: "tests the deprecated 0.1 API")
    @Test func deprecatedStructAPIStillWorks() throws {
        let old = Evaluation(loss: 0.5, accuracy: 0.75, count: 4, confusion: [[1, 1], [0, 2]])
        #expect(old.accuracy == 0.75 && old.confusion == [[1, 1], [0, 2]] && old.recall == [0.5, 1])
        #expect(old.classification?.accuracy == 0.75)
        let regression = Evaluation(loss: 0.5, accuracy: nil, count: 4, confusion: nil)
        #expect(regression.accuracy == nil && regression.regression?.loss == 0.5)
    }

    @Test func enumsPrintTheirNames() {
        #expect("\(LayerMode.evaluation)" == "evaluation")
        #expect("\(Reduction.sum)" == "sum")
        #expect("\(Loss.Kind.binaryCrossEntropy)" == "binary-cross-entropy")
        #expect("\(BackpropTrace.Example.xor)" == "xor")
        #expect("\(BackpropTrace.Target.label(2))" == "label 2")
        #expect("\(Dataset.Targets.labels([0, 1, 1], classCount: 2))" == "3 labels of 2 classes")
    }
}
