import Backprop
import Testing

/// y = x · γ elementwise over each sample's features: a layer with one parameter, written the
/// way the `Layer` docs tell outside code to write one.
final class Scale: Layer {
    let width: Int
    let gamma: Parameter
    private var input: Tensor?
    private var output: Tensor?
    private var inputGrad: Tensor?
    private var contribution: Tensor

    init(_ width: Int) {
        self.width = width
        gamma = Parameter(name: "gamma", value: Tensor(shape: [width], repeating: 1))
        contribution = Tensor(shape: [width])
    }

    var summary: String { "Scale(\(width))" }
    var parameters: [Parameter] { [gamma] }

    func outputShape(forInputShape shape: [Int]) throws -> [Int] {
        guard shape == [width] else {
            throw BackpropError.shapeMismatch("expects input shape [\(width)], got \(shape)")
        }
        return shape
    }

    func forward(_ x: Tensor, backend: any Backend) -> Tensor {
        input = x
        let y = Tensor.reuse(output, shape: x.shape)
        output = y
        for r in 0..<x.rows { backend.multiply(x.data + r * width, gamma.value.data, into: y.data + r * width, count: width) }
        return y
    }

    func backward(_ dy: Tensor, backend: any Backend, needsInputGradient: Bool) -> Tensor {
        let x = input!
        // dγ = Σ_rows dy · x, reported through the library (it decides overwrite vs add).
        contribution.data.update(repeating: 0, count: width)
        for r in 0..<x.rows {
            for c in 0..<width { contribution.data[c] += dy.data[r * width + c] * x.data[r * width + c] }
        }
        gamma.accumulateGradient(contribution.data)
        let dx = Tensor.reuse(inputGrad, shape: x.shape)
        inputGrad = dx
        for r in 0..<x.rows { backend.multiply(dy.data + r * width, gamma.value.data, into: dx.data + r * width, count: width) }
        return dx
    }
}

@Suite(.serialized) struct OutsideLayerTests {
    let backend = SwiftBackend()

    func batch() throws -> Dataset {
        try Dataset(features: Tensor([[1, 2], [3, -1], [0.5, 0.25]]), targets: Tensor([[1, 0], [0, 1], [1, 1]]))
    }

    @Test func twoBackwardPassesGiveTwiceTheGradientAndResetGivesOnce() throws {
        let model = Sequential([Scale(2), Dense(2, 2)], seed: 3)
        let x = try Tensor([[1, 2], [3, -1]])
        let dy = try Tensor([[0.5, -1], [2, 0.25]])
        let scale = model.layers[0] as! Scale
        model.zeroGrad()
        _ = model.forward(x, backend: backend)
        model.backward(dy, backend: backend)
        let once = scale.gamma.gradient
        #expect(once.contains { $0 != 0 })
        _ = model.forward(x, backend: backend)
        model.backward(dy, backend: backend)
        #expect(scale.gamma.gradient == once.map { $0 * 2 })
        model.zeroGrad()
        #expect(scale.gamma.gradient == [0, 0])
        _ = model.forward(x, backend: backend)
        model.backward(dy, backend: backend)
        #expect(scale.gamma.gradient == once)
    }

    @Test func trainerResetsTheGradientEveryStep() throws {
        // The issue's report: a layer that follows the docs must not accumulate across steps.
        let model = Sequential([Scale(2), Dense(2, 2)], seed: 3)
        let trainer = Trainer(model: model, loss: .mse(), optimizer: SGD(learningRate: 0), backend: backend)
        let scale = model.layers[0] as! Scale
        var gradients = [[Float]]()
        for _ in 0..<3 {
            try trainer.trainStep(try batch())
            gradients.append(scale.gamma.gradient)
        }
        #expect(gradients[0].contains { $0 != 0 })
        #expect(gradients[1] == gradients[0] && gradients[2] == gradients[0])
    }

    @Test func outsideLayerSavesAndLoadsThroughARegisteredKind() throws {
        let model = Sequential([Scale(2), Dense(2, 2)], seed: 3)
        (model.layers[0] as! Scale).gamma.value.data[1] = 0.75
        try LayerKind.register(LayerKind(name: "scale", type: Scale.self, configuration: { "\($0.width)" }) { text in
            guard let width = Int(text), width > 0 else { throw BackpropError.invalidArgument("scale:\(text)") }
            return Scale(width)
        })
        #expect(try Architecture.describe(model) == "scale:2,dense:2:2")
        let path = TestScratch.file("outside.safetensors")
        try ModelCheckpoint(model: model, loss: .mse()).save(to: path)
        let loaded = try ModelCheckpoint.load(from: path).model
        #expect(loaded.layers[0] is Scale)
        #expect((loaded.layers[0] as! Scale).gamma.value.scalars == [1, 0.75])
        let x = try Tensor([[1, 2]])
        #expect(try loaded(x, backend: backend).scalars == (try model(x, backend: backend)).scalars)
    }

    /// The outside layer's gradients are right, not only consistent: central differences of
    /// L = Σ y ⊙ R (float32 forward, h = 1e-2) match dL/dγ and dL/dx, with the layer between
    /// two library layers so the fused Dense paths run around it.
    @Test func outsideLayerGradientsMatchFiniteDifferences() throws {
        let scale = Scale(3)
        scale.gamma.value.data[0] = 0.5; scale.gamma.value.data[2] = -1.25
        let model = Sequential([Dense(2, 3), Scale(3), scale, Tanh(), Dense(3, 2)], seed: 5)
        let x = try Tensor([[0.3, -0.8], [1.1, 0.4], [-0.6, 0.9]])
        let r = try Tensor([[0.7, -0.2], [0.1, 0.9], [-0.5, 0.4]])
        func objective() -> Double {
            let y = model.forward(x, backend: backend)
            return (0..<y.count).reduce(0.0) { $0 + Double(y.data[$1]) * Double(r.data[$1]) }
        }
        func numeric(_ p: UnsafeMutablePointer<Float>) -> Double {
            let saved = p.pointee, h: Float = 1e-2
            p.pointee = saved + h
            let plus = objective()
            p.pointee = saved - h
            let minus = objective()
            p.pointee = saved
            return (plus - minus) / Double(2 * h)
        }
        _ = objective()
        model.zeroGrad()
        let dx = model.backward(r, backend: backend, needsInputGradient: true).copy()
        let dgamma = scale.gamma.gradient
        for i in 0..<3 {
            let expected = numeric(scale.gamma.value.data + i)
            #expect(abs(Double(dgamma[i]) - expected) <= 2e-3 + 2e-2 * abs(expected), "dγ[\(i)]: \(dgamma[i]) vs \(expected)")
        }
        for i in 0..<x.count {
            let expected = numeric(x.data + i)
            #expect(abs(Double(dx.data[i]) - expected) <= 2e-3 + 2e-2 * abs(expected), "dx[\(i)]: \(dx.data[i]) vs \(expected)")
        }
    }

    /// A registered outside kind saves inside a nested Sequential too, under nn.Sequential's
    /// nested names (`layers.1.0.gamma`).
    @Test func outsideLayerInANestedSequentialSavesAndLoads() throws {
        try LayerKind.register(LayerKind(name: "scale", type: Scale.self, configuration: { "\($0.width)" }) { text in
            guard let width = Int(text), width > 0 else { throw BackpropError.invalidArgument("scale:\(text)") }
            return Scale(width)
        })
        let scale = Scale(2)
        scale.gamma.value.data[0] = -0.5
        let model = Sequential([Dense(2, 2), Sequential([scale, ReLU()]), Dense(2, 1)], seed: 4)
        #expect(try Architecture.describe(model) == "dense:2:2,sequential:[scale:2,relu],dense:2:1")
        #expect(model.namedParameters.map(\.name).contains("layers.1.0.gamma"))
        let path = TestScratch.file("outside-nested.safetensors")
        try ModelCheckpoint(model: model, loss: .mse()).save(to: path)
        let loaded = try ModelCheckpoint.load(from: path).model
        let inner = try #require(loaded.layers[1] as? Sequential)
        #expect((inner.layers[0] as? Scale)?.gamma.value.scalars == [-0.5, 1])
        let x = try Tensor([[1, -2], [0.5, 3]])
        #expect(try loaded(x, backend: backend).scalars == (try model(x, backend: backend)).scalars)
    }

    @Test func unregisteredLayerCannotBeDescribedAndSaysWhich() {
        final class Unknown: Layer {
            var summary: String { "Unknown" }
            func outputShape(forInputShape shape: [Int]) throws -> [Int] { shape }
            func forward(_ x: Tensor, backend: any Backend) -> Tensor { x }
            func backward(_ dy: Tensor, backend: any Backend, needsInputGradient: Bool) -> Tensor { dy }
        }
        #expect(throws: BackpropError.self) { try Architecture.describe(Sequential([Dense(2, 2), Unknown()])) }
        do {
            _ = try Architecture.describe(Sequential([Dense(2, 2), Unknown()]))
        } catch {
            #expect("\(error)".contains("layer 1") && "\(error)".contains("Unknown"))
        }
    }

    @Test func modesFollowTheTrainerAndCanBeSetByHand() throws {
        final class ModeProbe: Layer {
            var seen: [LayerMode] = []
            var mode: LayerMode = .training
            var summary: String { "ModeProbe" }
            func outputShape(forInputShape shape: [Int]) throws -> [Int] { shape }
            func setMode(_ mode: LayerMode) { self.mode = mode }
            func forward(_ x: Tensor, backend: any Backend) -> Tensor { seen.append(mode); return x }
            func backward(_ dy: Tensor, backend: any Backend, needsInputGradient: Bool) -> Tensor { dy }
        }
        let probe = ModeProbe()
        let model = Sequential([Sequential([probe]), Dense(2, 2)])
        let trainer = Trainer(model: model, loss: .mse(), optimizer: SGD(learningRate: 0.01), backend: backend)
        let data = try batch()
        try trainer.fit(data, validation: data, epochs: 1, batchSize: 3)
        #expect(probe.seen == [.training, .evaluation])
        model.train()
        #expect(probe.mode == .training)
        _ = try model.predict(data.features, loss: .mse(), backend: backend)
        #expect(probe.seen.last == .evaluation)
        model.train()
        _ = model.forward(data.features, backend: backend)
        #expect(probe.seen.last == .training)
    }

    @Test func nestedSequentialNamesItsParametersAndTrains() throws {
        let model = Sequential([Sequential([Dense(2, 3), ReLU()]), Dense(3, 2)], seed: 1)
        #expect(model.namedParameters.map(\.name) == ["layers.0.0.weight", "layers.0.0.bias",
                                                     "layers.1.weight", "layers.1.bias"])
        #expect(try model.outputShape(forInputShape: [2]) == [2])
    }

    @Test func shapeErrorsNameTheLayerAndBothShapes() {
        let model = Sequential([Conv2d(1, 4, kernelSize: 3), ReLU(), Flatten(), Dense(100, 10)])
        do {
            _ = try model.outputShape(forInputShape: [1, 8, 8])
            Issue.record("expected a shape mismatch")
        } catch {
            let text = "\(error)"
            #expect(text.contains("layer 3") && text.contains("Dense(100 → 10)") && text.contains("[144]"))
        }
    }
}
