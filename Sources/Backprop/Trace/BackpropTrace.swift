/// Backpropagation step by step, for students: one sample through a small network, every
/// intermediate value of the forward pass, every gradient of the backward pass, one SGD update
/// and the loss after it.
///
/// Every number is computed by the engine (the real ``Dense``, activation layers, ``Loss`` and
/// ``SGD`` on the given backend); only each example's inputs and starting weights are fixed.
///
/// ```swift
/// let trace = try BackpropTrace.run(.worked)
/// print(trace.text())
/// ```
public enum BackpropTrace {
    /// The traced examples.
    public enum Example: String, Sendable, CaseIterable, Codable {
        /// The classic three-class softmax example with logits [2.0, 1.0, 0.1] and target class 0,
        /// copied across backpropagation tutorials: one Dense(2 → 3) layer, softmax cross-entropy.
        /// Its widely copied version prints dL/dx = [−0.068, −0.014]; the right value is
        /// [−0.131, −0.036] (−0.068 is only the first of the three products that make dL/dx_0).
        case worked
        /// The XOR problem's classic 2-2-1 sigmoid network with squared error, on one sample
        /// (x = [1, 0], target 1): the chain rule one local derivative at a time.
        case xor
        /// The 5×5 vertical-edge detector: an image patch through Dense(25 → 8), ReLU,
        /// Dense(8 → 2), softmax cross-entropy (class 1 = vertical edge).
        case edges

        /// The learning rate of the final update when none is given.
        public var defaultLearningRate: Float {
            switch self {
            case .worked: 0.1
            case .xor: 0.5
            case .edges: 0.1
            }
        }
    }

    /// Runs `example` and returns its steps.
    /// - Parameters:
    ///   - example: which example to walk through.
    ///   - learningRate: η of the SGD update; the example's ``Example/defaultLearningRate`` when nil.
    ///   - backend: the engine that computes every number (the pure-Swift reference by default).
    /// - Throws: ``BackpropError/invalidArgument(_:)`` unless the learning rate is finite and positive.
    public static func run(_ example: Example, learningRate: Float? = nil,
                           backend: any Backend = SwiftBackend()) throws -> Trace {
        let eta = learningRate ?? example.defaultLearningRate
        guard eta.isFinite, eta > 0 else {
            throw BackpropError.invalidArgument("the learning rate must be a positive number, got \(eta)")
        }
        switch example {
        case .worked: return try worked(learningRate: eta, backend: backend)
        case .xor: return try xor(learningRate: eta, backend: backend)
        case .edges: return try edges(learningRate: eta, backend: backend)
        }
    }

    /// Mean softmax cross-entropy of one row of logits against `label`, and dL/dz = p − y,
    /// from the engine's fused loss. logits: (1, classes) -> grad: (1, classes).
    static func crossEntropy(_ logits: Tensor, label: Int, backend: any Backend) -> (loss: Double, grad: Tensor) {
        let grad = Tensor(rows: logits.rows, cols: logits.cols)
        var scratch: Tensor?
        let labels = [Int32](repeating: Int32(label), count: logits.rows)
        let loss = labels.withUnsafeBufferPointer {
            Loss.crossEntropy().compute(output: logits, labels: $0.baseAddress, targets: nil, grad: grad,
                                        scratch: &scratch, backend: backend)
        }
        return (loss, grad)
    }

    /// Mean squared error of `output` against `target` and dL/doutput = 2(output − target)/count.
    /// output, target: (1, n) -> grad: (1, n).
    static func meanSquaredError(_ output: Tensor, target: Tensor, backend: any Backend) -> (loss: Double, grad: Tensor) {
        let grad = Tensor(rows: output.rows, cols: output.cols)
        var scratch: Tensor?
        let loss = Loss.mse().compute(output: output, labels: nil, targets: target, grad: grad,
                                      scratch: &scratch, backend: backend)
        return (loss, grad)
    }

    /// Row-wise softmax through the backend. z: (rows, classes) -> p: (rows, classes).
    static func softmax(_ z: Tensor, backend: any Backend) -> Tensor {
        let p = Tensor(rows: z.rows, cols: z.cols)
        backend.softmaxRows(z.data, y: p.data, rows: z.rows, cols: z.cols)
        return p
    }

    /// A one-hot row: (1, classes) with a 1 at `label`.
    static func oneHot(_ label: Int, classes: Int) -> Tensor {
        let y = Tensor(rows: 1, cols: classes)
        y[0, label] = 1
        return y
    }

    /// Copies `values` (row-major, the parameter's shape) into a parameter.
    static func set(_ parameter: Parameter, _ values: [[Float]]) throws {
        let t = try Tensor(values)
        guard t.rows == parameter.value.rows, t.cols == parameter.value.cols else {
            throw BackpropError.shapeMismatch(
                "\(parameter.name) is (\(parameter.value.rows), \(parameter.value.cols)), got (\(t.rows), \(t.cols))")
        }
        parameter.value.data.update(from: t.data, count: t.count)
    }

    /// A sentence comparing the loss before and after the update.
    static func lossChange(before: Double, after: Double) -> String {
        let change = after - before
        let verdict = change < 0
            ? "decreased by \(formatFixed(-change, decimals: 4)): the step went downhill"
            : "did not decrease (change \(formatFixed(change, decimals: 4))): the learning rate is too large for this sample"
        return "loss \(formatFixed(before, decimals: 4)) → \(formatFixed(after, decimals: 4)); it \(verdict)."
    }
}
