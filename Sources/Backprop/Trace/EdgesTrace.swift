extension BackpropTrace {
    /// The (height, width) of the edges example's patch.
    static let patchSide = 5

    /// One 5×5 image patch (a vertical edge: class 1, as in ``Generators/edges(count:seed:)``) through
    /// Dense(25 → 8), ReLU, Dense(8 → 2) with seeded He-initialized weights and softmax
    /// cross-entropy. Large matrices are shown by their first rows and their norms.
    static func edges(learningRate eta: Float, backend: any Backend) throws -> Trace {
        var r = TraceRecorder()
        let dense1 = Dense(25, 8), relu = ReLU(), dense2 = Dense(8, 2)
        let model = Sequential([dense1, relu, dense2], seed: 42)
        // The classes of the `edges` dataset: 0 = no vertical edge, 1 = vertical edge.
        let classes = ["no vertical edge", "vertical edge"]
        let label = 1
        // Dark on the left, bright on the right: columns 0–1 are 0, column 2 is 0.5, columns 3–4 are 1.
        let columnValues: [Float] = [0, 0, 0.5, 1, 1]
        let x = Tensor(rows: 1, cols: patchSide * patchSide)
        for row in 0..<patchSide { for col in 0..<patchSide { x[0, row * patchSide + col] = columnValues[col] } }
        let y = oneHot(label, classes: 2)

        r.add("input", "The input: a 5×5 patch, flattened row by row",
              "x = [pixel(0,0), pixel(0,1), …, pixel(4,4)]   — (1, 25)",
              [TraceValue("x", x), TraceValue("y", y)],
              notes: [asciiImage(x.scalars, height: patchSide, width: patchSide),
                      "Class \(label) (\(classes[label])); '.' is 0 and '@' is 1. "
                          + "The weights are He-uniform from seed 42, the biases zero."])

        let z1 = dense1.forward(x, backend: backend).copy()
        r.add("forward.z1", "Hidden layer: weighted sums",
              "z1 = x·W1 + b1   — (1, 25)·(25, 8) + (1, 8) → (1, 8)",
              [TraceValue("W1", dense1.weight.value), TraceValue("b1", dense1.bias.value), TraceValue("z1", z1)],
              notes: ["Column j of W1 is hidden unit j's template: z1_j is how well the patch matches it."])
        let a1 = relu.forward(z1, backend: backend).copy()
        let active = a1.scalars.filter { $0 > 0 }.count
        r.add("forward.a1", "Hidden layer: ReLU", "a1 = max(z1, 0)",
              [TraceValue("z1", z1), TraceValue("a1", a1)],
              notes: ["\(active) of 8 hidden units are active (z1 > 0); the others output 0."])
        let z2 = dense2.forward(a1, backend: backend).copy()
        r.add("forward.z2", "Output layer: logits",
              "z2 = a1·W2 + b2   — (1, 8)·(8, 2) + (1, 2) → (1, 2)",
              [TraceValue("W2", dense2.weight.value), TraceValue("z2", z2)])
        let p = softmax(z2, backend: backend)
        let (loss, dZ2) = crossEntropy(z2, label: label, backend: backend)
        r.add("loss", "Softmax and cross-entropy",
              "p = softmax(z2),   L = −log p_\(label)",
              [TraceValue("p", p), TraceValue("L", scalar: loss)])

        model.zeroGrad()
        r.add("backward.dz2", "Gradient at the logits", "dL/dz2 = p − y",
              [TraceValue("p", p), TraceValue("y", y), TraceValue("dL/dz2", dZ2)])
        let dA1 = dense2.backward(dZ2, backend: backend, needsInputGradient: true).copy()
        r.add("backward.dW2", "Output layer's weights and bias",
              "dL/dW2 = a1ᵀ·dL/dz2   — (8, 1)·(1, 2) → (8, 2),   dL/db2 = dL/dz2",
              [TraceValue("dL/dW2", dense2.weight.grad), TraceValue("dL/db2", dense2.bias.grad)],
              notes: ["Rows of inactive hidden units are zero: their a1 is 0."])
        r.add("backward.da1", "Back into the hidden layer",
              "dL/da1 = dL/dz2·W2ᵀ   — (1, 2)·(2, 8) → (1, 8)",
              [TraceValue("dL/da1", dA1)])
        let dZ1 = relu.backward(dA1, backend: backend, needsInputGradient: true).copy()
        r.add("backward.dz1", "Through the ReLU", "dL/dz1 = dL/da1 ⊙ 1[z1 > 0]",
              [TraceValue("dL/da1", dA1), TraceValue("dL/dz1", dZ1)],
              notes: ["ReLU passes the gradient of active units unchanged and stops it at inactive ones."])
        _ = dense1.backward(dZ1, backend: backend, needsInputGradient: false)
        let zeroPixels = x.scalars.filter { $0 == 0 }.count
        r.add("backward.dW1", "Hidden layer's weights and bias",
              "dL/dW1 = xᵀ·dL/dz1   — (25, 1)·(1, 8) → (25, 8),   dL/db1 = dL/dz1",
              [TraceValue("dL/dW1", dense1.weight.grad), TraceValue("dL/db1", dense1.bias.grad)],
              notes: ["Column j is the patch times dL/dz1_j: the update moves unit j's template towards "
                          + "(or away from) this image.",
                      "The \(zeroPixels) rows of dark pixels (x = 0) are zero, and so are the columns of the "
                          + "\(8 - active) inactive units."])

        SGD(learningRate: eta).step(model.namedParameters, backend: backend)
        r.add("update", "One SGD step, η = \(formatFixed(Double(eta), decimals: 4))",
              "W ← W − η·dL/dW,   b ← b − η·dL/db   (both layers)",
              [TraceValue("W1", dense1.weight.value), TraceValue("b1", dense1.bias.value),
               TraceValue("W2", dense2.weight.value), TraceValue("b2", dense2.bias.value)])
        let zAfter = model.forward(x, backend: backend).copy()
        let (lossAfter, _) = crossEntropy(zAfter, label: label, backend: backend)
        r.add("after", "The same patch after the update", "p = softmax(ReLU(x·W1 + b1)·W2 + b2),   L = −log p_\(label)",
              [TraceValue("p", softmax(zAfter, backend: backend)), TraceValue("L", scalar: lossAfter)],
              notes: [lossChange(before: loss, after: lossAfter)])

        return Trace(example: Example.edges.rawValue,
                     title: "Edges: the 5×5 vertical-edge detector, a 25-8-2 ReLU network",
                     introduction: ["An image patch is a vector of 25 pixels; the hidden layer learns 8 templates.",
                                    "Matrices larger than a few rows are shown by their first rows and their norm ‖·‖."],
                     steps: r.steps, learningRate: eta, lossBefore: loss, lossAfter: lossAfter)
    }

    /// Draws pixels in [0, 1] (row-major, height × width) as ASCII, two characters per pixel
    /// so the drawing is roughly square.
    static func asciiImage(_ pixels: [Float], height: Int, width: Int) -> String {
        let ramp = Array(".:-=+*#%@")
        return (0..<height).map { row in
            String((0..<width).flatMap { col -> [Character] in
                let v = min(max(pixels[row * width + col], 0), 1)
                let c = ramp[Int((v * Float(ramp.count - 1)).rounded())]
                return [c, c]
            })
        }.joined(separator: "\n")
    }
}
