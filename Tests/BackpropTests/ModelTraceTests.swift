import Foundation
import Testing
@testable import Backprop

/// `backprop trace --model`: the user's own saved network, one input, step by step.
@Suite struct ModelTraceTests {
    let backend = SwiftBackend()

    func weights(_ seed: UInt64) -> Sequential {
        Sequential(seed: seed) { Dense(3, 4); Tanh(); Dense(4, 3) }
    }

    /// Mean cross-entropy of one row through `model`, in Double where it matters.
    func loss(_ model: Sequential, _ x: [Float], label: Int32) throws -> Double {
        let z = model.forward(try Tensor(rows: 1, cols: x.count, values: x), backend: backend)
        let grad = Tensor(rows: 1, cols: z.cols)
        var scratch: Tensor?
        var labels = [label]
        return Loss.crossEntropy().compute(output: z, labels: &labels, targets: nil, grad: grad, scratch: &scratch,
                                           backend: backend)
    }

    @Test func weightGradientsMatchFiniteDifferences() throws {
        let input: [Float] = [0.5, -1.25, 2]
        let trace = try BackpropTrace.run(model: ModelCheckpoint(model: weights(7), loss: .crossEntropy()),
                                          input: input, target: .label(2), learningRate: 0.05)
        let traced = try #require(trace.step("backward.0")?.value("dL/dW0"))
        #expect((traced.rows, traced.cols) == (3, 4))
        // Central differences on a fresh copy of the same weights (the trace stepped its own copy).
        let probe = weights(7)
        let w = (probe.layers[0] as! Dense).weight.value
        let h: Float = 1e-2
        for index in [0, 5, 11] {
            let saved = w.data[index]
            w.data[index] = saved + h
            let up = try loss(probe, input, label: 2)
            w.data[index] = saved - h
            let down = try loss(probe, input, label: 2)
            w.data[index] = saved
            let numeric = (up - down) / Double(2 * h)
            #expect(abs(Double(traced.values[index]) - numeric) < 1e-3, "dW0[\(index)]: \(traced.values[index]) vs \(numeric)")
        }
        // The loss step and the update: the same sample's loss goes down.
        #expect(abs(Double(try #require(trace.step("loss")?.value("L")).scalar) - (try loss(weights(7), input, label: 2))) < 1e-6)
        #expect(trace.lossAfter < trace.lossBefore)
        #expect(trace.steps.map(\.id) == ["input", "forward.0", "forward.1", "forward.2", "loss",
                                          "backward.2", "backward.1", "backward.0", "update"])
    }

    @Test func theSavedNormalizationIsAppliedToTheRawRow() throws {
        let features = try Tensor(rows: 2, cols: 3, values: [10, 0, -4, 30, 2, 4])
        let normalizer = Normalizer(fitting: .standardize, to: features)
        let checkpoint = ModelCheckpoint(model: weights(1), loss: .crossEntropy(), normalizer: normalizer)
        let trace = try BackpropTrace.run(model: checkpoint, input: [10, 0, -4])
        let x = try #require(trace.step("input")?.value("x"))
        #expect(x.values == (try normalizer.apply(to: try Tensor(rows: 1, cols: 3, values: [10, 0, -4]))).scalars)
        // No label: the model's own prediction is the target, and the trace says so.
        #expect(trace.step("loss")?.notes.first?.contains("own prediction") == true)
    }

    final class Doubler: Layer {
        var summary: String { "Doubler" }
        func outputShape(forInputShape shape: [Int]) throws -> [Int] { shape }
        func forward(_ x: Tensor, backend: any Backend) -> Tensor { x }
        func backward(_ dy: Tensor, backend: any Backend, needsInputGradient: Bool) -> Tensor { dy }
    }

    @Test func clearErrorsForWhatCannotBeTraced() throws {
        let custom = ModelCheckpoint(model: Sequential([Dense(3, 3), Doubler()]), loss: .crossEntropy())
        #expect(throws: BackpropError.invalidArgument(
            "trace --model walks dense networks (dense, relu, sigmoid, tanh and softmax layers); "
                + "layer 1, Doubler, cannot be traced yet")) {
            try BackpropTrace.run(model: custom, input: [1, 2, 3])
        }
        let classifier = ModelCheckpoint(model: weights(2), loss: .crossEntropy())
        #expect(throws: BackpropError.invalidArgument("label 3 is not a class of this model (0 to 2)")) {
            try BackpropTrace.run(model: classifier, input: [1, 2, 3], target: .label(3))
        }
        #expect(throws: BackpropError.self) { try BackpropTrace.run(model: classifier, input: [1, 2]) }
        let regression = ModelCheckpoint(model: weights(2), loss: .mse())
        #expect(throws: BackpropError.invalidArgument("an MSE model needs target values to trace the loss (3 of them)")) {
            try BackpropTrace.run(model: regression, input: [1, 2, 3])
        }
        let traced = try BackpropTrace.run(model: regression, input: [1, 2, 3], target: .values([0, 1, 0]))
        #expect(traced.lossAfter < traced.lossBefore)
    }

    @Test func theCommandTracesASavedModelAndRejectsBadRows() throws {
        let dir = try CLITests.temporaryDirectory()
        let train = try CLITests.run(["train", "--dataset", "xor", "--save", "xor.safetensors", "--quiet",
                                      "--backend", "swift"], in: dir)
        #expect(train.status == 0, "\(train.stderr)")
        let trace = try CLITests.run(["trace", "--model", "xor.safetensors", "--input", "1,0", "--label", "1"], in: dir)
        #expect(trace.status == 0, "\(trace.stderr)")
        #expect(trace.stdout.hasPrefix("Your model: one input through"))
        #expect(trace.stdout.contains("Step 1. The input row") && trace.stdout.contains("dL/dW0"))
        let bad = try CLITests.run(["trace", "--model", "xor.safetensors", "--input", "1,zero"], in: dir)
        #expect(bad.status == 2)
        #expect(bad.stderr == "error: --input: value 2 ('zero') is not a finite number\n")
        let orphan = try CLITests.run(["trace", "--label", "1"], in: dir)
        #expect(orphan.status == 2)
        #expect(orphan.stderr.contains("go with --model FILE"))
    }
}
