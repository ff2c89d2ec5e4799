import Foundation
import Testing
@testable import Backprop

/// Finite-difference checks of the image layers (the method and tolerance of
/// `GradientCheckTests`), PyTorch's semantics for dropout and batch norm, and shapes.
@Suite struct ConvLayerTests {
    let backend = SwiftBackend()

    /// Random values in [−1, 1), kept ≥ 0.05 from 0, for a tensor of `shape`.
    static func random(_ shape: [Int], _ rng: inout SeededGenerator) -> Tensor {
        let t = Tensor(shape: shape)
        let flat = GradientCheckTests.random(1, t.count, &rng)
        t.data.update(from: flat.data, count: t.count)
        return t
    }

    /// Checks dL/dx and every dL/dθ of `model` on input `[batch] + inputShape` for L = Σ y ⊙ R,
    /// computed on `backend` (the reference unless given). `beforeForward` runs before every
    /// forward pass (e.g. to fix a dropout mask).
    func check(_ model: Sequential, inputShape: [Int], batch: Int = 2, seed: UInt64 = 1,
               on backend: (any Backend)? = nil, beforeForward: () -> Void = {}) throws {
        let backend = backend ?? self.backend
        var rng = SeededGenerator(seed: seed)
        let x = Self.random([batch] + inputShape, &rng)
        let outputShape = try model.outputShape(forInputShape: inputShape)
        let r = Self.random([batch] + outputShape, &rng)
        func objective() -> Double {
            beforeForward()
            let y = model.forward(x, backend: backend)
            precondition(y.shape == [batch] + outputShape)
            return (0..<y.count).reduce(0.0) { $0 + Double(y.data[$1]) * Double(r.data[$1]) }
        }
        _ = objective()
        model.zeroGrad()
        let dx = model.backwardToInput(r, backend: backend).copy()
        #expect(dx.shape == x.shape)
        let analytic = model.namedParameters.map { ($0.name, $0.parameter.grad.copy()) }
        let check = GradientCheckTests()
        for i in 0..<x.count {
            let numeric = check.numericDerivative(of: objective, at: x.data + i)
            #expect(GradientCheckTests.close(dx.data[i], numeric), "dL/dx[\(i)]: analytic \(dx.data[i]), numeric \(numeric)")
        }
        for ((name, grad), (_, parameter)) in zip(analytic, model.namedParameters) {
            for i in 0..<parameter.value.count {
                let numeric = check.numericDerivative(of: objective, at: parameter.value.data + i)
                #expect(GradientCheckTests.close(grad.data[i], numeric), "\(name)[\(i)]: analytic \(grad.data[i]), numeric \(numeric)")
            }
        }
    }

    @Test func conv2dPlain() throws { try check(Sequential([Conv2d(2, 3, kernelSize: 3)], seed: 2), inputShape: [2, 5, 4]) }
    @Test func conv2dStrideAndPadding() throws {
        try check(Sequential([Conv2d(2, 3, kernelSize: 3, stride: 2, padding: 1)], seed: 3), inputShape: [2, 5, 5])
    }
    @Test func conv2dOneByOneWithoutBias() throws {
        try check(Sequential([Conv2d(3, 2, kernelSize: 1, bias: false)], seed: 4), inputShape: [3, 3, 2], batch: 1)
    }
    @Test func maxPool() throws { try check(Sequential([MaxPool2d(2)]), inputShape: [2, 4, 5]) }
    @Test func maxPoolOverlapping() throws { try check(Sequential([MaxPool2d(3, stride: 2)]), inputShape: [1, 7, 7]) }
    @Test func avgPool() throws { try check(Sequential([AvgPool2d(2, stride: 1)]), inputShape: [2, 3, 4]) }
    @Test func globalAvgPool() throws { try check(Sequential([GlobalAvgPool2d()]), inputShape: [3, 3, 2]) }
    @Test func flatten() throws { try check(Sequential([Flatten(), Dense(12, 2)], seed: 5), inputShape: [3, 2, 2]) }
    @Test func batchNorm2dTrainingMode() throws {
        let bn = BatchNorm2d(2)
        bn.weight.value.data[0] = 1.5; bn.bias.value.data[1] = -0.5
        try check(Sequential([bn]), inputShape: [2, 3, 3], batch: 3)
    }
    @Test func batchNorm1dTrainingMode() throws {
        // A dense layer before it so the check also covers dx flowing on.
        try check(Sequential([Dense(3, 4), BatchNorm1d(4), Tanh()], seed: 6), inputShape: [3], batch: 5)
    }
    /// Backward after an evaluation-mode forward (a saliency map of a trained model, or
    /// fine-tuning with frozen statistics): the running estimates are constants there, so dx,
    /// dγ and dβ are those of a per-channel affine map; checked on the reference and on `c`,
    /// with running statistics, γ and β away from their initial values.
    @Test func batchNormEvaluationMode() throws {
        let c = try BackendRegistry.make(name: "c", threads: 2, environment: ProcessEnvironment.current)
        // Sequential initializes its layers, so the values are set after it is built.
        func frozen(_ model: Sequential, at index: Int) -> BatchNorm {
            let bn = model.layers[index] as! BatchNorm
            for i in 0..<bn.features {
                bn.runningMean.value.data[i] = 0.3 * Float(i) - 0.2
                bn.runningVariance.value.data[i] = 0.5 + 0.7 * Float(i)
                bn.weight.value.data[i] = 1.5 - 0.4 * Float(i)
                bn.bias.value.data[i] = 0.25 * Float(i) - 0.1
            }
            return bn
        }
        for backend in [self.backend, c] as [any Backend] {
            let images = Sequential([BatchNorm2d(2)])
            _ = frozen(images, at: 0)
            images.eval()
            try check(images, inputShape: [2, 3, 3], batch: 3, on: backend)
            let features = Sequential([Dense(3, 4), BatchNorm1d(4), Tanh()], seed: 6)
            _ = frozen(features, at: 1)
            features.eval()
            try check(features, inputShape: [3], batch: 5, on: backend)
        }
        // The running statistics are constants: an evaluation-mode step leaves them as they were.
        let model = Sequential([BatchNorm1d(2)])
        let bn = frozen(model, at: 0)
        let (mean, variance) = (bn.runningMean.value.scalars, bn.runningVariance.value.scalars)
        #expect(mean == [-0.2, 0.3 - 0.2] && variance == [0.5, 0.5 + 0.7])
        model.eval()
        _ = model.forward(Tensor(shape: [4, 2], repeating: 7), backend: backend)
        _ = model.backwardToInput(Tensor(shape: [4, 2], repeating: 1), backend: backend)
        #expect(bn.runningMean.value.scalars == mean && bn.runningVariance.value.scalars == variance)
        // dβ = Σ dy = 4 per channel; dγ = Σ dy·x̂ = 4 (7 − mean) / sqrt(var + eps).
        #expect(bn.bias.grad.scalars == [4, 4])
        let expected = (0..<2).map { Float(4 * (7 - Double(mean[$0])) / (Double(variance[$0]) + 1e-5).squareRoot()) }
        #expect(zip(bn.weight.grad.scalars, expected).allSatisfy { abs($0 - $1) <= 1e-5 * abs($1) },
                "\(bn.weight.grad.scalars) vs \(expected)")
    }

    @Test func smallCNN() throws {
        let model = Sequential(seed: 7) {
            Conv2d(1, 2, kernelSize: 3, padding: 1); Tanh(); MaxPool2d(2); BatchNorm2d(2)
            Flatten(); Dense(8, 3)
        }
        try check(model, inputShape: [1, 4, 4], batch: 3)
    }

    /// Dropout in training mode with its mask held fixed (the generator re-seeded before each
    /// forward pass): dL/dx is the mask times 1/(1 − p).
    @Test func dropoutTrainingModeWithAFixedMask() throws {
        let dropout = Dropout(0.4)
        let model = Sequential([Dense(6, 5), dropout, Tanh()], seed: 8)
        try check(model, inputShape: [6], batch: 3) {
            var rng = SeededGenerator(seed: 11)
            dropout.initialize(using: &rng)
        }
        // The check is not vacuous: some units were dropped, some kept.
        var rng = SeededGenerator(seed: 11)
        dropout.initialize(using: &rng)
        let y = dropout.forward(Tensor(shape: [3, 5], repeating: 1), backend: backend)
        let dropped = y.scalars.filter { $0 == 0 }.count
        #expect(dropped > 0 && dropped < 15)
    }

    /// The same checks with the C kernels doing the work (im2col, GEMM, col2im, pooling with
    /// argmax, batch-norm statistics), not only the reference.
    @Test func imageLayersOnTheCBackend() throws {
        let c = try BackendRegistry.make(name: "c", threads: 2, environment: ProcessEnvironment.current)
        try check(Sequential([Conv2d(2, 3, kernelSize: 3, stride: 2, padding: 1)], seed: 3), inputShape: [2, 5, 5], on: c)
        let bn = BatchNorm2d(2)
        bn.weight.value.data[0] = 1.5; bn.bias.value.data[1] = -0.5
        try check(Sequential([bn]), inputShape: [2, 3, 3], batch: 3, on: c)
        let model = Sequential(seed: 7) {
            Conv2d(1, 2, kernelSize: 3, padding: 1); Tanh(); MaxPool2d(3, stride: 2); AvgPool2d(1)
            BatchNorm2d(2); Flatten(); Dense(2, 4); BatchNorm1d(4); Sigmoid()
        }
        try check(model, inputShape: [1, 4, 4], batch: 3, on: c)
        try check(Sequential([GlobalAvgPool2d(), Dense(3, 2)], seed: 2), inputShape: [3, 3, 2], on: c)
    }

    @Test func convOutputShapeAndErrors() throws {
        #expect(try Conv2d(1, 6, kernelSize: 5, padding: 2).outputShape(forInputShape: [1, 28, 28]) == [6, 28, 28])
        #expect(try Conv2d(3, 4, kernelSize: 3, stride: 2).outputShape(forInputShape: [3, 7, 8]) == [4, 3, 3])
        #expect(throws: BackpropError.shapeMismatch("expects input shape [3, H, W], got [1, 28, 28]")) {
            _ = try Conv2d(3, 4, kernelSize: 3).outputShape(forInputShape: [1, 28, 28])
        }
        let lenet = try Architecture.build("lenet", inputShape: [1, 28, 28])
        #expect(try lenet.outputShape(forInputShape: [1, 28, 28]) == [10])
        #expect(lenet.parameterCount == 61_706)
    }

    @Test func datasetsCarryTheirSampleShape() throws {
        #expect(try BuiltinDatasets.digits().sampleShape == [1, 8, 8])
        #expect(try Generators.edges(count: 4, seed: 1).sampleShape == [1, 5, 5])
        let flat = try Dataset(features: Tensor(rows: 2, cols: 12), labels: [0, 1])
        #expect(flat.sampleShape == [12])
        let images = try flat.withSampleShape([3, 2, 2])
        #expect(images.sampleShape == [3, 2, 2] && images.subset([1]).sampleShape == [3, 2, 2])
        #expect(throws: BackpropError.shapeMismatch("sample shape [3, 3, 2] does not hold the 12 features of each sample")) {
            _ = try flat.withSampleShape([3, 3, 2])
        }
    }

    @Test func batchNormGradientsAccumulateAcrossTwoBackwardPasses() throws {
        let bn = BatchNorm2d(2)
        let model = Sequential([bn])
        var rng = SeededGenerator(seed: 3)
        let x = Self.random([2, 2, 2, 2], &rng), dy = Self.random([2, 2, 2, 2], &rng)
        model.zeroGrad()
        _ = model.forward(x, backend: backend)
        model.backward(dy, backend: backend)
        let once = bn.weight.gradient + bn.bias.gradient
        _ = model.forward(x, backend: backend)
        model.backward(dy, backend: backend)
        let twice = bn.weight.gradient + bn.bias.gradient
        #expect(zip(once, twice).allSatisfy { abs($0 * 2 - $1) <= 1e-6 })
    }

    @Test func dropoutScalesKeptValuesAndIsIdentityInEvaluation() throws {
        let dropout = Dropout(0.25, seed: 9)
        let x = Tensor(shape: [4, 250], repeating: 2)
        let y = dropout.forward(x, backend: backend).copy()
        let kept = y.scalars.filter { $0 != 0 }
        #expect(kept.allSatisfy { abs($0 - 2 / 0.75) < 1e-6 })
        #expect(abs(Double(kept.count) / 1000 - 0.75) < 0.05)
        let dy = Tensor(shape: [4, 250], repeating: 1)
        let dx = dropout.backward(dy, backend: backend, needsInputGradient: true)
        #expect((0..<1000).allSatisfy { dx.data[$0] == (y.data[$0] == 0 ? 0 : 1 / 0.75) })
        dropout.setMode(.evaluation)
        #expect(dropout.forward(x, backend: backend).scalars == x.scalars)
        // Same seed, same mask.
        let again = Dropout(0.25, seed: 9)
        #expect(again.forward(x, backend: backend).scalars == y.scalars)
    }

    @Test func batchNormRunningStatisticsFollowPyTorch() throws {
        // x over the batch for one feature: [1, 2, 3, 6]: mean 3, biased var 3.5, unbiased 14/3.
        let bn = BatchNorm1d(1)
        let x = try Tensor(shape: [4, 1], values: [1, 2, 3, 6])
        let y = bn.forward(x, backend: backend)
        let invStd = 1 / (3.5 + 1e-5 as Float).squareRoot()
        #expect(abs(y.data[0] - (1 - 3) * invStd) < 1e-5)
        #expect(abs(bn.runningMean.value.data[0] - 0.3) < 1e-6)              // 0.9·0 + 0.1·3
        #expect(abs(bn.runningVariance.value.data[0] - (0.9 + 0.1 * 14 / 3)) < 1e-5)
        bn.setMode(.evaluation)
        let z = bn.forward(x, backend: backend)
        let mean: Float = 0.3, variance: Float = 0.9 + 0.1 * 14 / 3
        #expect(abs(z.data[3] - (6 - mean) / (variance + 1e-5).squareRoot()) < 1e-5)
        #expect(abs(bn.runningMean.value.data[0] - 0.3) < 1e-6)  // evaluation leaves them
    }

    @Test func buffersAreNeverOptimized() throws {
        let bn = BatchNorm1d(2)
        let model = Sequential([Dense(2, 2), bn], seed: 1)
        #expect(model.namedBuffers.map(\.name) == ["layers.1.running_mean", "layers.1.running_var"])
        #expect(!model.namedParameters.contains { $0.name.contains("running") })
        let data = try Dataset(features: Tensor([[1, 2], [3, 4], [5, 7]]), targets: Tensor([[0, 1], [1, 0], [1, 1]]))
        let trainer = Trainer(model: model, loss: .mse(), optimizer: SGD(learningRate: 0.1, weightDecay: 0.5), backend: backend)
        try trainer.trainStep(data)
        let afterOne = bn.runningVariance.value.scalars
        // Weight decay would shrink them; the batch-statistics update is all that moved them.
        bn.setMode(.evaluation)
        _ = model.forward(data.features, backend: backend)
        #expect(bn.runningVariance.value.scalars == afterOne)
    }

    @Test func cnnCheckpointRoundTripsWithPyTorchNamesAndLayouts() throws {
        let text = "conv2d:1:2:3:pad=1,batchnorm2d:2,relu,maxpool2d:2,dropout:0.5,flatten,dense:8:3"
        let model = try Architecture.build(text, seed: 4, inputShape: [1, 4, 4])
        #expect(try Architecture.describe(model) == text)
        let data = try Dataset(features: Tensor(shape: [3, 16], values: (0..<48).map { Float($0 % 7) / 7 }),
                               labels: [0, 1, 2]).withSampleShape([1, 4, 4])
        let trainer = Trainer(model: model, loss: .crossEntropy(), optimizer: SGD(learningRate: 0.1), backend: backend)
        try trainer.trainStep(data)
        let path = TestScratch.file("cnn.safetensors")
        try ModelCheckpoint(model: model, loss: .crossEntropy()).save(to: path)
        let (tensors, _) = try SafeTensors.read(path: path)
        #expect(tensors["layers.0.weight"]?.shape == [2, 1, 3, 3])
        #expect(tensors["layers.0.bias"]?.shape == [2])
        #expect(Set(tensors.keys) == ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
                                      "layers.1.running_mean", "layers.1.running_var", "layers.6.weight", "layers.6.bias"])
        #expect(tensors["layers.6.weight"]?.shape == [3, 8])
        let loaded = try ModelCheckpoint.load(from: path).model
        let x = try Tensor(shape: [3, 1, 4, 4], values: data.features.scalars)
        model.eval()
        loaded.eval()
        #expect(loaded.forward(x, backend: backend).scalars == model.forward(x, backend: backend).scalars)
        #expect((loaded.layers[1] as! BatchNorm2d).runningMean.value.scalars == (model.layers[1] as! BatchNorm2d).runningMean.value.scalars)
        // A checkpoint with an input shape predicts and evaluates flat rows (one flattened image
        // each), leaving the caller's tensor flat.
        let checkpoint = ModelCheckpoint(model: loaded, loss: .crossEntropy(), inputShape: [1, 4, 4])
        let flat = data.features
        let fromRows = try checkpoint.predict(flat, backend: backend)
        #expect(flat.shape == [3, 16])
        #expect(fromRows.probabilities.scalars == (try loaded.predict(x, loss: .crossEntropy(), backend: backend)).probabilities.scalars)
        let flatData = try Dataset(features: flat, labels: [0, 1, 2])
        #expect(try checkpoint.evaluate(flatData, backend: backend).loss == (try loaded.evaluate(data, loss: .crossEntropy(), backend: backend)).loss)
    }

    /// A full checkpoint (Adam's moments) of a CNN: each moment is stored with its parameter's
    /// shape ((out, in, k, k) for a convolution, [C] for biases and batch norm), loads, and the
    /// resumed run takes the same next step as the uninterrupted one.
    @Test func cnnFullCheckpointWithAdamStateLoadsAndResumes() throws {
        let text = "conv2d:1:2:3:pad=1,batchnorm2d:2,relu,maxpool2d:2,flatten,dense:8:4,batchnorm1d:4,dense:4:3"
        let data = try Dataset(features: Tensor(shape: [3, 16], values: (0..<48).map { Float($0 % 5) / 5 }),
                               labels: [0, 1, 2]).withSampleShape([1, 4, 4])
        func trainer() throws -> Trainer {
            Trainer(model: try Architecture.build(text, seed: 4, inputShape: [1, 4, 4]), loss: .crossEntropy(),
                    optimizer: Adam(learningRate: 0.01), backend: backend)
        }
        let original = try trainer()
        try original.trainStep(data)
        let path = try CheckpointTests.temporaryPath("cnn-adam.safetensors")
        try original.save(to: path)
        let (tensors, _) = try SafeTensors.read(path: path)
        #expect(tensors["optimizer.layers.0.weight.exp_avg"]?.shape == [2, 1, 3, 3])
        #expect(tensors["optimizer.layers.0.bias.exp_avg_sq"]?.shape == [2])
        #expect(tensors["optimizer.layers.6.bias.exp_avg"]?.shape == [4])
        #expect(tensors["optimizer.layers.5.weight.exp_avg"]?.shape == [4, 8])  // nn.Linear's (out, in)
        let loaded = try ModelCheckpoint.load(from: path)
        let resumed = Trainer(model: loaded.model, loss: loaded.loss, optimizer: try #require(loaded.optimizer), backend: backend)
        try original.trainStep(data)
        try resumed.trainStep(data)
        for ((name, a), (_, b)) in zip(original.model.namedParameters, resumed.model.namedParameters) {
            #expect(a.value.scalars == b.value.scalars, "\(name)")
        }
    }

    @Test func forgedConvSizesAreFileErrorsBeforeAnyAllocation() throws {
        let path = TestScratch.file("forged.safetensors")
        let weight = Tensor(shape: [2, 1, 3, 3])
        try SafeTensors.write(tensors: [("layers.0.weight", weight), ("layers.0.bias", Tensor(shape: [2]))],
                              metadata: ["format": "backprop-1", "architecture": "conv2d:1:16000000:3", "loss": "mse"],
                              to: path)
        #expect(throws: BackpropError.malformedFile(
            path: path, location: "tensor 'layers.0.weight'",
            message: "shape [2, 1, 3, 3] does not match [16000000, 1, 3, 3] expected by the architecture")) {
            _ = try ModelCheckpoint.load(from: path)
        }
    }
}
