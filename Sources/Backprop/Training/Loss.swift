/// How per-sample losses combine into one number.
public enum Reduction: String, Sendable, CaseIterable {
    /// The average: over rows for cross-entropy, over all elements for MSE and BCE (as PyTorch).
    case mean
    /// The sum over everything.
    case sum
}

/// A loss function, computed together with its gradient with respect to the network output.
public struct Loss: Sendable, Equatable, CustomStringConvertible {
    /// The loss functions, by their CLI and checkpoint names.
    public enum Kind: String, Sendable, CaseIterable {
        /// Softmax cross-entropy on logits (labels or probability rows as targets).
        case crossEntropy = "cross-entropy"
        /// Squared error (y − t)², as PyTorch's `MSELoss`; labels become one-hot targets.
        case mse
        /// Binary cross-entropy on logits, as PyTorch's `BCEWithLogitsLoss`.
        case binaryCrossEntropy = "binary-cross-entropy"
    }

    /// Which loss function.
    public let kind: Kind
    /// How per-sample losses combine.
    public let reduction: Reduction

    /// A loss of `kind` with `reduction`.
    public init(_ kind: Kind, reduction: Reduction = .mean) {
        self.kind = kind
        self.reduction = reduction
    }

    /// Softmax cross-entropy from logits, fused so dL/dz = (p − y)/N with mean reduction.
    public static func crossEntropy(_ reduction: Reduction = .mean) -> Loss { Loss(.crossEntropy, reduction: reduction) }
    /// Mean (or sum) of (y − t)²; dL/dy = 2(y − t)/count with mean reduction.
    public static func mse(_ reduction: Reduction = .mean) -> Loss { Loss(.mse, reduction: reduction) }
    /// Binary cross-entropy with logits; dL/dz = (σ(z) − t)/count with mean reduction.
    public static func binaryCrossEntropy(_ reduction: Reduction = .mean) -> Loss {
        Loss(.binaryCrossEntropy, reduction: reduction)
    }

    /// The kind's name, e.g. `cross-entropy`.
    public var description: String { kind.rawValue }

    /// Whether `predict` should turn outputs into probabilities, and how.
    var outputActivation: OutputActivation {
        switch kind {
        case .crossEntropy: .softmax
        case .binaryCrossEntropy: .sigmoid
        case .mse: .identity
        }
    }

    enum OutputActivation { case softmax, sigmoid, identity }

    /// Computes the loss of `output` against the targets and writes dL/doutput into `grad`.
    ///
    /// - Parameters:
    ///   - output: (batch, width): logits, or predictions for MSE.
    ///   - labels: one class per row (for classification data), or nil.
    ///   - targets: (batch, width) target rows (for regression data), or nil.
    ///   - grad: (batch, width), overwritten.
    ///   - scratch: a buffer the loss may use for one-hot targets (resized as needed).
    /// - Returns: the reduced loss.
    func compute(output: Tensor, labels: UnsafePointer<Int32>?, targets: Tensor?, grad: Tensor,
                 scratch: inout Tensor?, backend: any Backend) -> Double {
        let rows = output.rows, cols = output.cols, count = output.count
        // Mean over rows for cross-entropy, over elements for elementwise losses (as PyTorch).
        let denominator = reduction == .sum ? 1 : (kind == .crossEntropy ? rows : count)
        let scale = 1 / Float(max(denominator, 1))
        var targetData = targets?.data
        if targetData == nil, kind != .crossEntropy, let labels {
            // Elementwise losses on labelled data compare against one-hot rows.
            let oneHot = Tensor.reuse(scratch, rows: rows, cols: cols)
            scratch = oneHot
            backend.fill(oneHot.data, value: 0, count: count)
            for r in 0..<rows { oneHot.data[r * cols + Int(labels[r])] = 1 }
            targetData = oneHot.data
        }
        let total: Double
        switch kind {
        case .crossEntropy:
            if let labels {
                total = backend.softmaxCrossEntropy(logits: output.data, labels: labels, rows: rows, cols: cols,
                                                    grad: grad.data, scale: scale)
            } else {
                total = backend.softmaxCrossEntropy(logits: output.data, targets: targetData!, rows: rows,
                                                    cols: cols, grad: grad.data, scale: scale)
            }
        case .mse:
            total = backend.squaredError(output.data, target: targetData!, count: count, grad: grad.data, scale: scale)
        case .binaryCrossEntropy:
            total = backend.binaryCrossEntropyWithLogits(output.data, target: targetData!, count: count,
                                                         grad: grad.data, scale: scale)
        }
        return total * Double(scale)
    }
}
