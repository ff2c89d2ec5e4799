extension BackpropTrace {
    /// A 2-2-1 sigmoid network with fixed weights on the XOR sample x = [1, 0], target 1, with
    /// mean squared error: the chain rule through two layers, one factor at a time.
    static func xor(learningRate eta: Float, backend: any Backend) throws -> Trace {
        var r = TraceRecorder()
        let dense1 = Dense(2, 2), sigmoid1 = Sigmoid(), dense2 = Dense(2, 1), sigmoid2 = Sigmoid()
        let model = Sequential([dense1, sigmoid1, dense2, sigmoid2])
        // Fixed, hand-picked weights (stored (inputs, outputs), as Backprop's Dense).
        try set(dense1.weight, [[0.6, -0.4], [0.3, 0.8]])
        try set(dense1.bias, [[-0.1, 0.2]])
        try set(dense2.weight, [[0.9], [-0.7]])
        try set(dense2.bias, [[0.1]])
        let x = try Tensor([[1, 0]])
        let t = try Tensor([[1]])

        r.add("input", "The network and the sample",
              "x → Dense(2 → 2) → σ → Dense(2 → 1) → σ → a2,   L = (a2 − t)²",
              [TraceValue("x", x), TraceValue("t", t),
               TraceValue("W1", dense1.weight.value), TraceValue("b1", dense1.bias.value),
               TraceValue("W2", dense2.weight.value), TraceValue("b2", dense2.bias.value)],
              notes: ["XOR(1, 0) = 1. Weights are stored (inputs, outputs): column j of W1 feeds hidden unit j.",
                      "σ(z) = 1 / (1 + e^−z), and σ'(z) = σ(z)·(1 − σ(z)) = a·(1 − a)."])

        // Forward, keeping a copy of each layer's output (layers reuse their buffers).
        let z1 = dense1.forward(x, backend: backend).copy()
        r.add("forward.z1", "Hidden layer: weighted sums", "z1 = x·W1 + b1   — (1, 2)·(2, 2) + (1, 2) → (1, 2)",
              [TraceValue("x", x), TraceValue("z1", z1)])
        let a1 = sigmoid1.forward(z1, backend: backend).copy()
        r.add("forward.a1", "Hidden layer: sigmoid", "a1 = σ(z1)",
              [TraceValue("z1", z1), TraceValue("a1", a1)])
        let z2 = dense2.forward(a1, backend: backend).copy()
        r.add("forward.z2", "Output layer: weighted sum", "z2 = a1·W2 + b2   — (1, 2)·(2, 1) + (1, 1) → (1, 1)",
              [TraceValue("a1", a1), TraceValue("z2", z2)])
        let a2 = sigmoid2.forward(z2, backend: backend).copy()
        r.add("forward.a2", "Output layer: sigmoid", "a2 = σ(z2)",
              [TraceValue("z2", z2), TraceValue("a2", a2)])
        let (loss, dA2) = meanSquaredError(a2, target: t, backend: backend)
        r.add("loss", "Mean squared error", "L = (a2 − t)²   (mean over 1 output)",
              [TraceValue("a2", a2), TraceValue("t", t), TraceValue("L", scalar: loss)])

        // Backward: layer by layer, last first.
        model.zeroGrad()
        r.add("backward.da2", "Gradient at the output", "dL/da2 = 2·(a2 − t)",
              [TraceValue("dL/da2", dA2)],
              notes: ["Negative: raising a2 towards t = 1 lowers the loss."])
        let sigma2 = a2.scalars.map { $0 * (1 - $0) }
        let dZ2 = sigmoid2.backward(dA2, backend: backend, needsInputGradient: true).copy()
        r.add("backward.dz2", "Through the output sigmoid", "dL/dz2 = dL/da2 · σ'(z2),   σ'(z2) = a2·(1 − a2)",
              [TraceValue("σ'(z2)", rows: 1, cols: 1, values: sigma2), TraceValue("dL/dz2", dZ2)])
        let dA1 = dense2.backward(dZ2, backend: backend, needsInputGradient: true).copy()
        r.add("backward.dW2", "Output layer's weights and bias",
              "dL/dW2 = a1ᵀ·dL/dz2   — (2, 1)·(1, 1) → (2, 1),   dL/db2 = dL/dz2",
              [TraceValue("a1", a1), TraceValue("dL/dW2", dense2.weight.grad), TraceValue("dL/db2", dense2.bias.grad)],
              notes: ["Each weight's gradient is the activation it multiplies times the gradient it feeds."])
        r.add("backward.da1", "Back into the hidden layer",
              "dL/da1 = dL/dz2·W2ᵀ   — (1, 1)·(1, 2) → (1, 2)",
              [TraceValue("W2", dense2.weight.value), TraceValue("dL/da1", dA1)],
              notes: ["Uses W2 before the update: the whole backward pass sees the weights of the forward pass."])
        let sigma1 = a1.scalars.map { $0 * (1 - $0) }
        let dZ1 = sigmoid1.backward(dA1, backend: backend, needsInputGradient: true).copy()
        r.add("backward.dz1", "Through the hidden sigmoid", "dL/dz1 = dL/da1 ⊙ σ'(z1),   σ'(z1) = a1 ⊙ (1 − a1)",
              [TraceValue("σ'(z1)", rows: 1, cols: 2, values: sigma1), TraceValue("dL/dz1", dZ1)],
              notes: ["⊙ is elementwise: each hidden unit scales its own gradient by its own slope."])
        _ = dense1.backward(dZ1, backend: backend, needsInputGradient: false)
        r.add("backward.dW1", "Hidden layer's weights and bias",
              "dL/dW1 = xᵀ·dL/dz1   — (2, 1)·(1, 2) → (2, 2),   dL/db1 = dL/dz1",
              [TraceValue("x", x), TraceValue("dL/dW1", dense1.weight.grad), TraceValue("dL/db1", dense1.bias.grad)],
              notes: ["x_1 = 0, so the second row of dL/dW1 is zero: a weight whose input is 0 did not "
                          + "affect the output and gets no gradient."])

        SGD(learningRate: eta).step(model.namedParameters, backend: backend)
        r.add("update", "One SGD step, η = \(formatFixed(Double(eta), decimals: 4))",
              "W ← W − η·dL/dW,   b ← b − η·dL/db   (every layer)",
              [TraceValue("W1", dense1.weight.value), TraceValue("b1", dense1.bias.value),
               TraceValue("W2", dense2.weight.value), TraceValue("b2", dense2.bias.value)])
        let aAfter = model.forward(x, backend: backend).copy()
        let (lossAfter, _) = meanSquaredError(aAfter, target: t, backend: backend)
        r.add("after", "The same sample after the update", "a2 = σ(σ(x·W1 + b1)·W2 + b2),   L = (a2 − t)²",
              [TraceValue("a2", aAfter), TraceValue("L", scalar: lossAfter)],
              notes: [lossChange(before: loss, after: lossAfter)])

        return Trace(example: Example.xor.rawValue,
                     title: "XOR: the classic 2-2-1 sigmoid network, one sample, the chain rule step by step",
                     introduction: ["One XOR sample, x = [1, 0] with target 1, through fixed weights.",
                                    "Each backward step multiplies by one local derivative: this is the chain rule."],
                     steps: r.steps, learningRate: eta, lossBefore: loss, lossAfter: lossAfter)
    }
}
