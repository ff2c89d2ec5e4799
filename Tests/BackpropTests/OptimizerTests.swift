import Testing
@testable import Backprop

/// Optimizer steps on every backend against values computed by hand from PyTorch's update
/// rules (the `torch.optim.SGD`, `Adam` and `AdamW` docs), in float64 Python:
///
///     p = [1.0, -0.5]; gradients per step G = [[0.5, -2.0], [-0.1, 1.0], [2.0, 0.3]]
///     SGD:  g = grad + wd·p; v = μ·v + g (v = g on step 1); g = nesterov ? g + μ·v : v; p −= lr·g
///     Adam: g = grad + wd·p (AdamW instead: p −= lr·wd·p); m = β1·m + (1 − β1)·g;
///           v = β2·v + (1 − β2)·g²; p −= lr·(m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε)
///
/// printed with 9 significant digits after each of the three steps. The gradients change sign
/// and size from step to step, so β2 matters (Adam with β2 = 0.9 ends elsewhere). The
/// tolerance, 2e-6, is a few Float ulps at these magnitudes.
@Suite struct OptimizerTests {
    static let start: [Float] = [1.0, -0.5]
    static let gradients: [[Float]] = [[0.5, -2.0], [-0.1, 1.0], [2.0, 0.3]]

    /// Runs three steps of `optimizer` on one two-element parameter; the values after each step.
    static func run(_ optimizer: any Optimizer, on backendName: String) throws -> [[Float]] {
        let backend = try TestBackends.make(backendName)
        let p = Parameter(name: "weight", value: Tensor(rows: 1, cols: 2))
        p.value.data.update(from: start, count: 2)
        var after: [[Float]] = []
        for g in gradients {
            p.grad.data.update(from: g, count: 2)
            optimizer.step([(name: "layers.0.weight", parameter: p)], backend: backend)
            after.append(p.value.scalars)
        }
        return after
    }

    static func expectSteps(_ got: [[Float]], _ want: [[Double]], _ label: String,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(got.count == want.count, sourceLocation: sourceLocation)
        for (step, (g, w)) in zip(got, want).enumerated() {
            #expect(allClose(g, w, abs: 2e-6), "\(label) step \(step + 1): \(g) vs \(w)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: TestBackends.available)
    func plainSGD(name: String) throws {
        Self.expectSteps(try Self.run(SGD(learningRate: 0.1), on: name),
                         [[0.95, -0.3], [0.96, -0.4], [0.76, -0.43]], "\(name) SGD")
    }

    @Test(arguments: TestBackends.available)
    func sgdMomentumAndWeightDecay(name: String) throws {
        let sgd = SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.1)
        Self.expectSteps(try Self.run(sgd, on: name),
                         [[0.94, -0.295], [0.8866, -0.20755], [0.629674, -0.1567695]], "\(name) momentum")
        #expect(sgd.state.map(\.name) == ["layers.0.weight.momentum_buffer"])
    }

    @Test(arguments: TestBackends.available)
    func nesterov(name: String) throws {
        let sgd = SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true)
        Self.expectSteps(try Self.run(sgd, on: name),
                         [[0.9031, -0.11905], [0.87907411, -0.146418805], [0.467593358, -0.137879679]],
                         "\(name) Nesterov")
    }

    @Test(arguments: TestBackends.available)
    func adamSeveralSteps(name: String) throws {
        // The first step is lr·sign(g) whatever β2; later steps depend on β2.
        Self.expectSteps(try Self.run(Adam(learningRate: 0.01), on: name),
                         [[0.99, -0.49], [0.98488974, -0.48733663], [0.977724242, -0.486146351]], "\(name) Adam")
        Self.expectSteps(try Self.run(Adam(learningRate: 0.01, beta2: 0.9), on: name),
                         [[0.99, -0.49], [0.984762099, -0.48729396], [0.977909616, -0.486053466]],
                         "\(name) Adam β2 = 0.9")
    }

    @Test(arguments: TestBackends.available)
    func adamWithL2Decay(name: String) throws {
        Self.expectSteps(try Self.run(Adam(learningRate: 0.01, weightDecay: 0.1), on: name),
                         [[0.99, -0.49], [0.983311836, -0.487054966], [0.975749363, -0.485499061]],
                         "\(name) Adam + L2")
    }

    @Test(arguments: TestBackends.available)
    func adamWDecaysTheWeightDirectly(name: String) throws {
        Self.expectSteps(try Self.run(AdamW(learningRate: 0.01, weightDecay: 0.1), on: name),
                         [[0.989, -0.4895], [0.98290074, -0.48634713], [0.974752342, -0.484670504]],
                         "\(name) AdamW")
    }

    /// Dense(2 → 1) with W = [0.5, −0.25], b = 0.1 on x = [1, 2], target 0, MSE: y = 0.1,
    /// dL/dy = 2y = 0.2, so dW = [0.2, 0.4], db = 0.2 and ‖g‖ = √0.24 = 0.489897949. Clipped to
    /// 0.1: factor 0.1/0.489897949 = 0.204124145; one SGD step with lr 1 gives
    /// W = [0.459175171, −0.331649658], b = 0.0591751710.
    @Test(arguments: TestBackends.available)
    func clippedNorm(name: String) throws {
        let backend = try TestBackends.make(name)
        let dense = Dense(2, 1)
        let model = Sequential([dense])  // initializes the weights, set by hand next
        dense.weight.value.data.update(from: [0.5, -0.25], count: 2)
        dense.bias.value.data[0] = 0.1
        let data = try Dataset(features: Tensor([[1, 2]]), targets: Tensor([[0]]))
        let trainer = Trainer(model: model, loss: .mse(), optimizer: SGD(learningRate: 1), backend: backend)
        trainer.clipGradNorm = 0.1
        try trainer.fit(data, epochs: 1, batchSize: 1)
        #expect(allClose(dense.weight.value.scalars, [0.459175171, -0.331649658], abs: 1e-6), "\(name) \(dense.weight.value.scalars)")
        #expect(isClose(dense.bias.value.data[0], 0.0591751710, abs: 1e-6), "\(name) \(dense.bias.value.data[0])")
        // The same step unclipped moves by the full gradient: W = [0.3, −0.65], b = −0.1.
        dense.weight.value.data.update(from: [0.5, -0.25], count: 2)
        dense.bias.value.data[0] = 0.1
        let unclipped = Trainer(model: model, loss: .mse(), optimizer: SGD(learningRate: 1), backend: backend)
        try unclipped.fit(data, epochs: 1, batchSize: 1)
        #expect(allClose(dense.weight.value.scalars + [dense.bias.value.data[0]], [0.3, -0.65, -0.1], abs: 1e-6), "\(name)")
    }

    @Test func restoringForeignStateIsAnError() {
        #expect(throws: BackpropError.self) {
            try SGD(learningRate: 0.1).restore(["layers.0.weight.exp_avg": Tensor(rows: 1, cols: 1)], stepCount: 1)
        }
    }
}
