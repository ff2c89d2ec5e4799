import Backprop
import Foundation
import Testing

// The worked example of the DocC article "Writing a layer" (Sources/Backprop/Backprop.docc/
// WritingALayer.md). The code between the two markers is the article's code block, word for
// word; scripts/check-docs fails when they differ, and the tests below check the layer.

// BEGIN WritingALayer.md
/// Mean-only batch normalization of [N, F] features: y = (x − μ)·γ + β per feature, where μ is
/// the batch mean in training mode (the running mean moves toward it) and the running mean in
/// evaluation mode. γ and β are trained; the running mean is a buffer, saved but never trained.
final class MeanCenter: Layer {
    let features: Int
    let momentum: Float
    let weight: Parameter      // γ: [F], ones
    let bias: Parameter        // β: [F], zeros
    let runningMean: Buffer    // [F], zeros
    private var mode = LayerMode.training
    private var lastForwardTrained = true
    private var centered: Tensor?    // x − μ, [N, F]
    private var output: Tensor?      // y, [N, F]
    private var inputGrad: Tensor?   // dx, [N, F]
    private var mean: [Float]        // μ, [F]
    private var dyMean: [Float]      // mean of dy over the batch, [F]
    private var weightGrad: [Float]  // Σ_n dy·(x − μ), [F]

    init(_ features: Int, momentum: Float = 0.1) {
        self.features = features
        self.momentum = momentum
        weight = Parameter(name: "weight", value: Tensor(shape: [features], repeating: 1))
        bias = Parameter(name: "bias", value: Tensor(shape: [features]))
        runningMean = Buffer(name: "running_mean", value: Tensor(shape: [features]))
        mean = Array(repeating: 0, count: features)
        dyMean = Array(repeating: 0, count: features)
        weightGrad = Array(repeating: 0, count: features)
    }

    var summary: String { "MeanCenter(\(features))" }
    var parameters: [Parameter] { [weight, bias] }
    var buffers: [Buffer] { [runningMean] }

    func outputShape(forInputShape shape: [Int]) throws -> [Int] {
        guard shape == [features] else {
            throw BackpropError.shapeMismatch("\(summary) takes samples of shape [\(features)], got \(shape)")
        }
        return shape
    }

    func setMode(_ mode: LayerMode) { self.mode = mode }

    // x: [N, F] -> y: [N, F]
    func forward(_ x: Tensor, backend: any Backend) -> Tensor {
        let n = x.rows, f = features
        let running = runningMean.value.data
        lastForwardTrained = mode == .training
        if lastForwardTrained {
            for j in 0..<f { mean[j] = 0 }
            for i in 0..<n { for j in 0..<f { mean[j] += x.data[i * f + j] } }
            for j in 0..<f {
                mean[j] /= Float(n)
                running[j] += momentum * (mean[j] - running[j])
            }
        } else {
            for j in 0..<f { mean[j] = running[j] }
        }
        let xc = Tensor.reuse(centered, shape: x.shape)
        let y = Tensor.reuse(output, shape: x.shape)
        (centered, output) = (xc, y)
        for i in 0..<n {
            for j in 0..<f {
                xc.data[i * f + j] = x.data[i * f + j] - mean[j]
                y.data[i * f + j] = xc.data[i * f + j] * weight.value.data[j] + bias.value.data[j]
            }
        }
        return y
    }

    // dy: [N, F] -> dx: [N, F]; dγ (+)= Σ_n dy·(x − μ), dβ (+)= Σ_n dy
    func backward(_ dy: Tensor, backend: any Backend, needsInputGradient: Bool) -> Tensor {
        guard let xc = centered else { preconditionFailure("\(summary): backward before forward") }
        let n = xc.rows, f = features
        // The library says whether this write overwrites (first since a reset) or adds.
        bias.writeGradient { grad, accumulate in
            backend.sumColumns(dy.data, rows: n, cols: f, into: grad.data, accumulate: accumulate)
        }
        for j in 0..<f { weightGrad[j] = 0 }
        for i in 0..<n { for j in 0..<f { weightGrad[j] += dy.data[i * f + j] * xc.data[i * f + j] } }
        weight.accumulateGradient(weightGrad)

        let dx = Tensor.reuse(inputGrad, shape: xc.shape)
        inputGrad = dx
        guard needsInputGradient else { return dx }
        // Training: μ depends on x, so dx = γ·(dy − mean_n dy). Evaluation: dx = γ·dy.
        for j in 0..<f { dyMean[j] = 0 }
        if lastForwardTrained {
            for i in 0..<n { for j in 0..<f { dyMean[j] += dy.data[i * f + j] / Float(n) } }
        }
        for i in 0..<n {
            for j in 0..<f { dx.data[i * f + j] = weight.value.data[j] * (dy.data[i * f + j] - dyMean[j]) }
        }
        return dx
    }
}

extension MeanCenter {
    /// Saves as `meancenter:F:momentum=M` in architecture text and checkpoints.
    static let kind = LayerKind(
        name: "meancenter", type: MeanCenter.self,
        configuration: { "\($0.features):momentum=\($0.momentum)" },
        make: { text in
            let parts = text.split(separator: ":").map(String.init)
            guard let features = parts.first.flatMap({ Int($0) }), features > 0, parts.count <= 2 else {
                throw BackpropError.invalidArgument("meancenter:\(text): expected meancenter:F[:momentum=M]")
            }
            var momentum: Float = 0.1
            if parts.count == 2 {
                guard parts[1].hasPrefix("momentum="), let m = Float(parts[1].dropFirst(9)), m >= 0, m <= 1 else {
                    throw BackpropError.invalidArgument("meancenter:\(text): momentum must be momentum=M, 0 ≤ M ≤ 1")
                }
                momentum = m
            }
            return MeanCenter(features, momentum: momentum)
        })
}
// END WritingALayer.md

// BEGIN WritingALayer.md
/// Trains a network with a MeanCenter layer, saves it and loads it back.
func trainSaveAndLoad(_ train: Dataset, path: String) throws -> ModelCheckpoint {
    try LayerKind.register(MeanCenter.kind)  // once per process, before saving or loading
    let model = Sequential(seed: 1) { Dense(64, 16); MeanCenter(16); ReLU(); Dense(16, 10) }
    let trainer = Trainer(model: model, loss: .crossEntropy(), optimizer: SGD(learningRate: 0.1),
                          backend: try defaultBackend(), seed: 2)
    try trainer.fit(train, epochs: 3, batchSize: 32)  // training mode: batch means
    try ModelCheckpoint(model: model, loss: .crossEntropy()).save(to: path)
    return try ModelCheckpoint.load(from: path)  // MeanCenter(16) again, running mean restored
}
// END WritingALayer.md

/// Dense that counts its forward calls: an `open` built-in layer subclassed from outside.
final class CountingDense: Dense {
    var forwardCalls = 0

    override func forward(_ x: Tensor, backend: any Backend) -> Tensor {
        forwardCalls += 1
        return super.forward(x, backend: backend)
    }
}

@Suite(.serialized) struct MeanCenterExampleTests {
    let backend = SwiftBackend()
    let x = try! Tensor([[1, 2, -1], [3, -1, 0.5], [0.5, 0.25, 2], [-2, 1, 1]])
    let g = try! Tensor([[0.5, -1, 0.25], [2, 0.25, -0.5], [-1, 1, 1], [0.75, -0.5, 0.5]])

    /// L = Σ y·g for a fixed g, so dL/dy = g.
    func loss(_ layer: MeanCenter, _ input: Tensor) -> Double {
        let y = layer.forward(input, backend: backend)
        return zip(y.scalars, g.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }

    /// Central differences of `loss` with respect to each element of `values`.
    func numericGradient(_ layer: MeanCenter, _ values: Tensor, input: Tensor) -> [Float] {
        let h: Float = 1e-2
        return (0..<values.count).map { index in
            let saved = values.data[index]
            values.data[index] = saved + h
            let plus = loss(layer, input)
            values.data[index] = saved - h
            let minus = loss(layer, input)
            values.data[index] = saved
            return Float((plus - minus) / Double(2 * h))
        }
    }

    func expectClose(_ a: [Float], _ b: [Float]) {
        #expect(a.count == b.count)
        for (u, v) in zip(a, b) { #expect(abs(u - v) <= 1e-3 * max(1, abs(v)), "\(a) vs \(b)") }
    }

    @Test(arguments: [LayerMode.training, .evaluation])
    func gradientsMatchFiniteDifferences(mode: LayerMode) throws {
        let layer = MeanCenter(3)
        layer.weight.value.data.update(from: [1.5, -0.5, 2], count: 3)
        layer.bias.value.data.update(from: [0.1, 0.2, -0.3], count: 3)
        layer.runningMean.value.data.update(from: [0.5, -0.25, 1], count: 3)
        layer.setMode(mode)
        let input = x.copy()
        layer.weight.zeroGrad()
        layer.bias.zeroGrad()
        _ = layer.forward(input, backend: backend)
        let dx = layer.backward(g, backend: backend, needsInputGradient: true).scalars
        let (dWeight, dBias) = (layer.weight.gradient, layer.bias.gradient)
        expectClose(dx, numericGradient(layer, input, input: input))
        expectClose(dWeight, numericGradient(layer, layer.weight.value, input: input))
        expectClose(dBias, numericGradient(layer, layer.bias.value, input: input))
        #expect(dx.contains { $0 != 0 } && dWeight.contains { $0 != 0 })
    }

    @Test func trainingMovesTheRunningMeanAndEvaluationUsesIt() throws {
        let layer = MeanCenter(3, momentum: 0.5)
        _ = layer.forward(x, backend: backend)
        let batchMean: [Float] = [0.625, 0.5625, 0.625]
        expectClose(layer.runningMean.value.scalars, batchMean.map { $0 * 0.5 })
        layer.setMode(.evaluation)
        let y = layer.forward(x, backend: backend).scalars
        expectClose(y, x.scalars.enumerated().map { $0.element - batchMean[$0.offset % 3] * 0.5 })
        _ = layer.forward(x, backend: backend)
        expectClose(layer.runningMean.value.scalars, batchMean.map { $0 * 0.5 })  // unchanged in evaluation
    }

    @Test func twoBackwardPassesAccumulateAndAResetStartsOver() throws {
        let layer = MeanCenter(3)
        let model = Sequential([layer])
        _ = model.forward(x, backend: backend)
        model.backward(g, backend: backend)
        let once = (layer.weight.gradient, layer.bias.gradient)
        #expect(once.0.contains { $0 != 0 } && once.1.contains { $0 != 0 })
        _ = model.forward(x, backend: backend)
        model.backward(g, backend: backend)
        #expect(layer.weight.gradient == once.0.map { $0 * 2 } && layer.bias.gradient == once.1.map { $0 * 2 })
        model.zeroGrad()
        _ = model.forward(x, backend: backend)
        model.backward(g, backend: backend)
        #expect(layer.weight.gradient == once.0 && layer.bias.gradient == once.1)
    }

    func scaledDigits() throws -> Dataset {
        let digits = try BuiltinDatasets.digits()
        return try Normalizer(fitting: .scale, to: digits.features).apply(to: digits)
    }

    @Test func trainsNestedInsideASequential() throws {
        let block = Sequential([Dense(64, 16), MeanCenter(16), ReLU()])
        let model = Sequential([block, Dense(16, 10)], seed: 1)
        #expect(model.namedBuffers.map(\.name) == ["layers.0.1.running_mean"])  // as nn.Sequentials nest
        var losses: [Double] = []
        let trainer = Trainer(model: model, loss: .crossEntropy(), optimizer: SGD(learningRate: 0.1), backend: backend, seed: 2)
        try trainer.fit(try scaledDigits(), epochs: 3, batchSize: 32, onEpoch: { losses.append($0.trainLoss) })
        #expect(losses[2] < losses[0] * 0.5, "\(losses)")
        #expect(block.layers[1].buffers[0].value.scalars.contains { $0 != 0 })
        // The nested block saves as sequential:[...] and loads with its running mean.
        try LayerKind.register(MeanCenter.kind)
        #expect(try Architecture.describe(model) == "sequential:[dense:64:16,meancenter:16:momentum=0.1,relu],dense:16:10")
        let path = TestScratch.file("meancenter-nested.safetensors")
        try ModelCheckpoint(model: model, loss: .crossEntropy()).save(to: path)
        let loaded = try ModelCheckpoint.load(from: path).model
        let loadedBlock = try #require(loaded.layers[0] as? Sequential)
        #expect(loadedBlock.layers[1].buffers[0].value.scalars == block.layers[1].buffers[0].value.scalars)
    }

    @Test func savesAndLoadsThroughItsRegisteredKind() throws {
        try LayerKind.register(MeanCenter.kind)
        let model = Sequential([Dense(64, 16), MeanCenter(16), ReLU(), Dense(16, 10)], seed: 1)
        let data = try scaledDigits()
        let trainer = Trainer(model: model, loss: .crossEntropy(), optimizer: SGD(learningRate: 0.1), backend: backend, seed: 2)
        try trainer.fit(data, epochs: 1, batchSize: 32)
        #expect(try Architecture.describe(model) == "dense:64:16,meancenter:16:momentum=0.1,relu,dense:16:10")
        let path = TestScratch.file("meancenter.safetensors")
        try ModelCheckpoint(model: model, loss: .crossEntropy()).save(to: path)
        let loaded = try ModelCheckpoint.load(from: path).model
        #expect(loaded.layers[1] is MeanCenter)
        #expect(loaded.namedBuffers.map(\.name) == ["layers.1.running_mean"])
        #expect(loaded.buffers[0].value.scalars == model.buffers[0].value.scalars)
        #expect(model.buffers[0].value.scalars.contains { $0 != 0 })
        model.eval()
        loaded.eval()
        let sample = try Tensor(shape: [2, 64], values: Array(data.features.scalars.prefix(128)))
        #expect(try loaded(sample, backend: backend).scalars == (try model(sample, backend: backend)).scalars)
    }

    @Test func theArticlesUsageTrainsSavesAndLoads() throws {
        let path = TestScratch.file("meancenter.safetensors")
        let loaded = try trainSaveAndLoad(try scaledDigits(), path: path).model
        #expect(try Architecture.describe(loaded) == "dense:64:16,meancenter:16:momentum=0.1,relu,dense:16:10")
        #expect(loaded.buffers[0].value.scalars.contains { $0 != 0 })
        let data = try scaledDigits()
        loaded.eval()
        let outputs = try loaded(data.features, backend: backend)
        guard case .labels(let labels, _) = data.targets else { Issue.record("digits has labels"); return }
        let correct = (0..<data.count).filter { row in
            let scores = outputs.row(row)
            return scores.firstIndex(of: scores.max()!) == Int(labels[row])
        }.count
        #expect(Double(correct) / Double(data.count) > 0.9)
    }

    @Test func badConfigurationTextIsATypedError() throws {
        try LayerKind.register(MeanCenter.kind)
        for text in ["meancenter:0", "meancenter:4:momentum=2", "meancenter:4:speed=1", "meancenter:4:momentum=0.1:x"] {
            #expect(throws: BackpropError.self, "\(text)") { try Architecture.build(text, inputShape: [4]) }
        }
        #expect(try Architecture.build("meancenter:4:momentum=0.25", inputShape: [4]).layers[0].summary == "MeanCenter(4)")
    }

    @Test func subclassOfABuiltInLayerKeepsItsOverrideInsideSequential() throws {
        // Dense followed by ReLU is fused on the C backend; a subclass is never fused away.
        let dense = CountingDense(3, 4)
        let model = Sequential([dense, ReLU(), Dense(4, 2)], seed: 1)
        _ = model.forward(x, backend: CBackend())
        _ = model.forward(x, backend: backend)
        #expect(dense.forwardCalls == 2)
    }
}
