#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension BackpropTrace {
    /// The classic three-class softmax example (logits [2.0, 1.0, 0.1]): three classes, two inputs, target class 0. Part A starts from the
    /// tutorial's given logits [2.0, 1.0, 0.1]; part B is its PyTorch check with x = [1, 1], b = 0,
    /// followed by the weight gradients, one SGD update and the new loss.
    static func worked(learningRate eta: Float, backend: any Backend) throws -> Trace {
        var r = TraceRecorder()
        let label = 0
        let y = oneHot(label, classes: 3)

        // The tutorial's W is (classes, inputs) = (3, 2) for z = Wx + b with column vectors.
        let tutorialW = try Tensor([[0.2, 0.5], [-0.3, 0.8], [0.1, -0.6]])
        let dense = Dense(2, 3)
        let model = Sequential([dense])
        for i in 0..<2 { for j in 0..<3 { dense.weight.value[i, j] = tutorialW[j, i] } }
        dense.bias.value.data.update(repeating: 0, count: 3)
        r.add("layer", "The layer: the tutorial's W, stored transposed",
              "z = W·x + b (tutorial, x a column)   ⇔   z = x·Wᵀ + b (Backprop, x a row)",
              [TraceValue("W", tutorialW), TraceValue("Wᵀ", dense.weight.value)],
              notes: ["The tutorial's W is (classes × inputs) = (3 × 2) and multiplies a column vector x.",
                      "Backprop's Dense stores its weight as (inputs, outputs) = (2 × 3), which is Wᵀ, and "
                          + "multiplies a row vector x from the left, so a batch of rows is one product x·Wᵀ.",
                      "Both give the same three logits; only the bookkeeping of rows and columns differs."])

        // Part A: the logits are given, so the trace starts at z.
        let givenZ = try Tensor([[2.0, 1.0, 0.1]])
        r.add("given.logits", "Part A: the tutorial's logits, target class 0",
              "z = [2.0, 1.0, 0.1],   y = one-hot(0)",
              [TraceValue("z", givenZ), TraceValue("y", y)],
              notes: ["The tutorial gives the logits directly (not from a particular x), so part A starts at z."])
        let givenP = softmax(givenZ, backend: backend)
        let exps = givenZ.scalars.map { expf($0) }
        r.add("given.softmax", "Softmax turns logits into probabilities",
              "p_i = e^(z_i) / Σ_j e^(z_j)",
              [TraceValue("z", givenZ), TraceValue("p", givenP)],
              notes: ["e^z = [" + exps.map { formatFixed(Double($0), decimals: 3) }.joined(separator: ", ")
                          + "], Σ = " + formatFixed(Double(exps.reduce(0, +)), decimals: 3) + "."])
        let (givenLoss, givenDz) = crossEntropy(givenZ, label: label, backend: backend)
        r.add("given.loss", "Cross-entropy loss",
              "L = −Σ_i y_i·log p_i = −log p_0",
              [TraceValue("p", givenP), TraceValue("L", scalar: givenLoss)],
              notes: ["Only the target class's probability counts: L = −log " + format4(givenP[0, 0]) + "."])
        r.add("given.dz", "Gradient at the logits (softmax and cross-entropy fused)",
              "dL/dz = p − y   (divided by N, the batch size; here N = 1)",
              [TraceValue("p", givenP), TraceValue("y", y), TraceValue("dL/dz", givenDz)],
              notes: ["The target class gets p − 1 < 0 (raise its logit); every other class gets p > 0 (lower it)."])
        // dL/dx = dz·(Wᵀ)ᵀ through the backend's GEMM, the call Dense.backward makes:
        // dz: (1, 3), Wᵀ stored (2, 3) used transposed -> dx: (1, 2).
        let givenDx = Tensor(rows: 1, cols: 2)
        backend.gemm(transA: false, transB: true, m: 1, n: 2, k: 3, alpha: 1, a: givenDz.data, lda: 3,
                     b: dense.weight.value.data, ldb: 3, beta: 0, c: givenDx.data, ldc: 2)
        // Spelled out for students: dL/dx_j = Σ_i W[i, j]·(p − y)_i, negatives in parentheses.
        func term(_ v: Float, _ decimals: Int) -> String {
            let text = formatFixed(Double(v), decimals: decimals)
            return v < 0 ? "(" + text + ")" : text
        }
        let terms = (0..<2).map { j in
            "dL/dx_\(j) = " + (0..<3).map { i in term(tutorialW[i, j], 1) + "·" + term(givenDz[0, i], 3) }
                .joined(separator: " + ") + " = " + formatFixed(Double(givenDx[0, j]), decimals: 3)
        }
        r.add("given.dx", "Gradient at the input",
              "dL/dx = Wᵀ·(p − y) (tutorial)   =   dL/dz·W (Backprop: dL/dz times the stored Wᵀ, transposed)",
              [TraceValue("dL/dz", givenDz), TraceValue("dL/dx", givenDx)],
              notes: terms + [
                  "The widely copied version of this example prints dL/dx = [−0.068, −0.014]. That value is "
                      + "wrong: it is not Wᵀ(p − y) for its own W and p − y. Each entry is a sum of three "
                      + "products (the lines above); −0.068 is only the first product of dL/dx_0, "
                      + "0.2·(−0.341), with the other two dropped. The full sums are [−0.131, −0.036], "
                      + "and the engine's matrix product agrees.",
                  "For a linear layer dL/dx depends only on W and dL/dz, not on x, so it exists even without an x."])

        // Part B: the tutorial's PyTorch check, x = [1, 1], b = 0.
        let x = try Tensor([[1, 1]])
        let z = model.forward(x, backend: backend).copy()
        r.add("check.forward", "Part B (the PyTorch check): forward with x = [1, 1], b = 0",
              "z = x·Wᵀ + b",
              [TraceValue("x", x), TraceValue("Wᵀ", dense.weight.value), TraceValue("b", dense.bias.value),
               TraceValue("z", z)],
              notes: ["With x = [1, 1] each logit is the sum of one row of the tutorial's W: 0.2 + 0.5 = 0.7, "
                          + "−0.3 + 0.8 = 0.5, 0.1 − 0.6 = −0.5.",
                      "Shapes: x (1, 2) · Wᵀ (2, 3) + b (1, 3) → z (1, 3)."])
        let p = softmax(z, backend: backend)
        let (loss, dzB) = crossEntropy(z, label: label, backend: backend)
        r.add("check.loss", "Softmax and cross-entropy",
              "p = softmax(z),   L = −log p_0",
              [TraceValue("p", p), TraceValue("L", scalar: loss)])
        r.add("check.dz", "Gradient at the logits",
              "dL/dz = p − y",
              [TraceValue("dL/dz", dzB)])
        model.zeroGrad()
        let dx = model.backwardToInput(dzB, backend: backend).copy()
        r.add("check.dx", "Gradient at the input (what PyTorch's x.grad shows)",
              "dL/dx = dL/dz·W   — shapes (1, 3)·(3, 2) → (1, 2)",
              [TraceValue("dL/dx", dx)])
        r.add("check.dW", "Gradients of the weights and the bias",
              "dL/dWᵀ = xᵀ·dL/dz  (2, 1)·(1, 3) → (2, 3),   dL/db = dL/dz (summed over the batch)",
              [TraceValue("x", x), TraceValue("dL/dz", dzB),
               TraceValue("dL/dWᵀ", dense.weight.grad), TraceValue("dL/db", dense.bias.grad)],
              notes: ["Entry (i, j) is x_i·(dL/dz)_j: each weight's gradient is its input times the gradient "
                          + "of the logit it feeds.",
                      "In the tutorial's orientation dL/dW = (p − y)·xᵀ is (3 × 2), the transpose of this matrix."])

        let optimizer = SGD(learningRate: eta)
        optimizer.step(model.namedParameters, backend: backend)
        r.add("update", "One SGD step, η = \(formatFixed(Double(eta), decimals: 4))",
              "Wᵀ ← Wᵀ − η·dL/dWᵀ,   b ← b − η·dL/db",
              [TraceValue("Wᵀ", dense.weight.value), TraceValue("b", dense.bias.value)],
              notes: ["Every weight moves against its gradient: the target class's weights grow, the others shrink."])

        let zAfter = model.forward(x, backend: backend).copy()
        let (lossAfter, _) = crossEntropy(zAfter, label: label, backend: backend)
        r.add("after", "The same sample after the update",
              "z = x·Wᵀ + b,   L = −log softmax(z)_0",
              [TraceValue("z", zAfter), TraceValue("p", softmax(zAfter, backend: backend)),
               TraceValue("L", scalar: lossAfter)],
              notes: [lossChange(before: loss, after: lossAfter)])

        return Trace(example: Example.worked.rawValue,
                     title: "The classic three-class softmax example: logits [2.0, 1.0, 0.1], target class 0",
                     introduction: ["The example copied across backpropagation tutorials: softmax cross-entropy "
                                        + "through one Dense(2 → 3) layer, three classes, two inputs, target class 0, "
                                        + "weights W = [[0.2, 0.5], [−0.3, 0.8], [0.1, −0.6]].",
                                    "Its widely copied version prints one wrong value, dL/dx = [−0.068, −0.014]; "
                                        + "step 6 shows the right one and where the wrong one comes from.",
                                    "Part A follows the tutorial from its given logits; part B is its PyTorch "
                                        + "check with x = [1, 1], then the weight gradients and one update."],
                     steps: r.steps, learningRate: eta, lossBefore: loss, lossAfter: lossAfter)
    }
}
