/// A fully connected layer: z = x·W + b.
///
/// Inputs of any sample shape whose element count is `inputs` are taken as flat vectors (so a
/// `[1, 28, 28]` image feeds `Dense(784, …)` directly, as after a `Flatten`).
/// W is stored (inputs, outputs), so forward is one GEMM with no transposes; backward computes
/// dW = xᵀ·dz, db = Σ_rows dz and dx = dz·Wᵀ, the transposes handled inside the GEMM.
open class Dense: Layer {
    /// The width of each input row.
    public let inputs: Int
    /// The width of each output row.
    public let outputs: Int
    /// W: (inputs, outputs).
    public let weight: Parameter
    /// b: (1, outputs).
    public let bias: Parameter
    /// How ``initialize(using:)`` draws W (biases start at zero).
    public let initializer: Initializer

    private var input: Tensor?   // x from the last forward, (batch, inputs); not owned
    private var output: Tensor?  // z, (batch, outputs)
    private var inputGrad: Tensor?  // dx, (batch, inputs)

    /// A fully connected layer from `inputs` to `outputs` features.
    ///
    /// - Parameters:
    ///   - inputs: the width of each input row.
    ///   - outputs: the width of each output row.
    ///   - initializer: He (for ReLU) by default; Xavier suits sigmoid and tanh.
    /// - Precondition: both widths are positive.
    public init(_ inputs: Int, _ outputs: Int, initializer: Initializer = .heUniform) {
        precondition(inputs > 0 && outputs > 0, "Dense widths must be positive, got (\(inputs), \(outputs))")
        self.inputs = inputs
        self.outputs = outputs
        self.initializer = initializer
        weight = Parameter(name: "weight", value: Tensor(rows: inputs, cols: outputs))
        bias = Parameter(name: "bias", value: Tensor(rows: 1, cols: outputs))
    }

    open var summary: String { "Dense(\(inputs) → \(outputs))" }
    open var parameters: [Parameter] { [weight, bias] }

    open func outputShape(forInputShape shape: [Int]) throws -> [Int] {
        guard CheckedSize.product(shape) == inputs else {  // nil past Int.max: a shape from a forged file
            throw BackpropError.shapeMismatch(
                "expects input shape [\(inputs)] (\(inputs) features), got \(shapeText(shape))")
        }
        return [outputs]
    }

    open func initialize(using rng: inout SeededGenerator) {
        initializer.fill(weight.value, fanIn: inputs, fanOut: outputs, using: &rng)
        Initializer.zeros.fill(bias.value, fanIn: inputs, fanOut: outputs, using: &rng)
    }

    // x: (batch, inputs), W: (inputs, outputs) -> z: (batch, outputs)
    open func forward(_ x: Tensor, backend: any Backend) -> Tensor {
        precondition(x.cols == inputs, "\(summary) got input of width \(x.cols)")
        let z = Tensor.reuse(output, rows: x.rows, cols: outputs)
        output = z
        input = x
        backend.gemm(transA: false, transB: false, m: x.rows, n: outputs, k: inputs,
                     alpha: 1, a: x.data, lda: inputs, b: weight.value.data, ldb: outputs,
                     beta: 0, c: z.data, ldc: outputs)
        backend.addBias(z.data, bias: bias.value.data, rows: x.rows, cols: outputs)
        return z
    }

    /// The forward pass with the following activation layer fused into the GEMM's write-back:
    /// y = f(x·W + b), written into `activation`'s output buffer (which its backward reads), so
    /// C is written once instead of three times. Same result as `forward` then
    /// `activation.forward` on the same backend.
    // x: (batch, inputs) -> y: (batch, outputs)
    func forward(_ x: Tensor, fusing activation: ActivationLayer, backend: any FusedGEMMBackend) -> Tensor {
        precondition(x.cols == inputs, "\(summary) got input of width \(x.cols)")
        let y = activation.reuseOutput(rows: x.rows, cols: outputs)
        input = x
        backend.gemmBiasActivation(transA: false, transB: false, m: x.rows, n: outputs, k: inputs,
                                   a: x.data, lda: inputs, b: weight.value.data, ldb: outputs,
                                   bias: bias.value.data, activation: activation.kind,
                                   c: y.data, ldc: outputs)
        return y
    }

    /// Whether `tensor` is the input this layer saw in its last forward pass.
    func sawInput(_ tensor: Tensor?) -> Bool { tensor != nil && input === tensor }

    /// `backward` followed by the backward of the activation layer before this one, fused: the
    /// input gradient's GEMM applies f'(y) (y = this layer's input, the activation's output) in
    /// its write-back. Returns dL/d(the activation's input); same result as the two calls.
    // dz: (batch, outputs) -> dW, db; returns dx ⊙ f'(x): (batch, inputs)
    func backward(_ dz: Tensor, maskingWith activation: ActivationLayer,
                  backend: any FusedGEMMBackend) -> Tensor {
        guard let x = input else { preconditionFailure("\(summary): backward before forward") }
        accumulateParameterGradients(dz, input: x, fused: backend)
        let dx = Tensor.reuse(inputGrad, shape: x.shape)
        inputGrad = dx
        backend.gemmActivationBackward(transA: false, transB: true, m: x.rows, n: inputs, k: outputs,
                                       a: dz.data, lda: outputs, b: weight.value.data, ldb: outputs,
                                       activation: activation.kind, y: x.data, ldy: inputs,
                                       c: dx.data, ldc: inputs)
        return dx
    }

    // dz: (batch, outputs), x: (batch, inputs) -> dW (+)= xᵀ·dz, db (+)= Σ_rows dz
    private func accumulateParameterGradients(_ dz: Tensor, input x: Tensor, backend: any Backend) {
        precondition(dz.rows == x.rows && dz.cols == outputs, "\(summary): gradient shape mismatch")
        let batch = x.rows
        // dW (+)= xᵀ·dz: op(A) = xᵀ is (inputs, batch), B = dz is (batch, outputs).
        weight.writeGradient { grad, accumulate in
            backend.gemm(transA: true, transB: false, m: inputs, n: outputs, k: batch,
                         alpha: 1, a: x.data, lda: inputs, b: dz.data, ldb: outputs,
                         beta: accumulate ? 1 : 0, c: grad.data, ldc: outputs)
        }
        bias.writeGradient { grad, accumulate in
            backend.sumColumns(dz.data, rows: batch, cols: outputs, into: grad.data, accumulate: accumulate)
        }
    }

    /// The same gradients in one call: db is summed from dz while dz is packed for dW's GEMM.
    // dz: (batch, outputs), x: (batch, inputs) -> dW (+)= xᵀ·dz, db (+)= Σ_rows dz
    private func accumulateParameterGradients(_ dz: Tensor, input x: Tensor, fused backend: any FusedGEMMBackend) {
        precondition(dz.rows == x.rows && dz.cols == outputs, "\(summary): gradient shape mismatch")
        weight.writeGradient { weightGrad, accumulateWeight in
            bias.writeGradient { biasGrad, accumulateBias in
                backend.gemmSummingColumns(transA: true, m: inputs, n: outputs, k: x.rows,
                                           a: x.data, lda: inputs, b: dz.data, beta: accumulateWeight ? 1 : 0,
                                           c: weightGrad.data, ldc: outputs,
                                           sums: biasGrad.data, accumulate: accumulateBias)
            }
        }
    }

    /// `backward` with the parameter gradients from one fused call (same result): what
    /// ``Sequential`` runs for a `Dense` (not a subclass) on a ``FusedGEMMBackend``.
    func backward(_ dz: Tensor, fused backend: any FusedGEMMBackend, needsInputGradient: Bool) -> Tensor {
        guard let x = input else { preconditionFailure("\(summary): backward before forward") }
        accumulateParameterGradients(dz, input: x, fused: backend)
        return inputGradient(dz, input: x, backend: backend, needed: needsInputGradient)
    }

    // dz: (batch, outputs) -> dW: (inputs, outputs), db: (1, outputs), dx: (batch, inputs)
    open func backward(_ dz: Tensor, backend: any Backend, needsInputGradient: Bool) -> Tensor {
        guard let x = input else { preconditionFailure("\(summary): backward before forward") }
        accumulateParameterGradients(dz, input: x, backend: backend)
        return inputGradient(dz, input: x, backend: backend, needed: needsInputGradient)
    }

    // dz: (batch, outputs) -> dx = dz·Wᵀ: (batch, inputs), computed only when `needed`
    private func inputGradient(_ dz: Tensor, input x: Tensor, backend: any Backend, needed needsInputGradient: Bool) -> Tensor {
        let batch = x.rows
        let dx = Tensor.reuse(inputGrad, shape: x.shape)
        inputGrad = dx
        if needsInputGradient {
            // dx = dz·Wᵀ: A = dz (batch, outputs), op(B) = Wᵀ with W stored (inputs, outputs).
            backend.gemm(transA: false, transB: true, m: batch, n: inputs, k: outputs,
                         alpha: 1, a: dz.data, lda: outputs, b: weight.value.data, ldb: outputs,
                         beta: 0, c: dx.data, ldc: inputs)
        }
        return dx
    }
}
