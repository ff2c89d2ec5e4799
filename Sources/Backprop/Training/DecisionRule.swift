/// How evaluation and training turn a batch of outputs into decisions that are right or wrong,
/// so ``Sequential/evaluate(_:loss:backend:batchSize:)`` and ``Trainer``'s running accuracy agree.
enum DecisionRule: Equatable {
    /// Class labels: the argmax of the outputs against the label (any loss).
    case argmaxAgainstLabel
    /// Cross-entropy on target rows (soft labels): the argmax of the outputs against the
    /// argmax of the target row.
    case argmaxAgainstTargetRow
    /// Binary cross-entropy on target values: for every output value, logit > 0 against
    /// target > 0.5 (2 classes, `width` decisions per sample).
    case binaryPerValue
    /// MSE on real-valued targets: regression, no decisions.
    case regression

    init(loss: Loss, data: Dataset) {
        switch (data.targets, loss.kind) {
        case (.labels, _): self = .argmaxAgainstLabel
        case (.values, .crossEntropy): self = .argmaxAgainstTargetRow
        case (.values, .binaryCrossEntropy): self = .binaryPerValue
        case (.values, .mse): self = .regression
        }
    }

    /// Classes in the confusion matrix for outputs `width` wide.
    func classCount(width: Int) -> Int { self == .binaryPerValue ? 2 : width }

    /// Decisions per sample for outputs `width` wide.
    func decisionsPerSample(width: Int) -> Int { self == .binaryPerValue ? width : 1 }

    /// Calls `record(actual, predicted)` once per decision of the batch.
    /// - Parameters:
    ///   - output: (rows, width) logits (or outputs).
    ///   - labels: `rows` labels, for ``argmaxAgainstLabel``.
    ///   - targets: (rows, width) targets, for the other rules.
    ///   - predicted: reused scratch for the argmax, grown to `rows` when needed.
    func forEachDecision(output: Tensor, labels: UnsafePointer<Int32>?, targets: UnsafePointer<Float>?,
                         backend: any Backend, predicted: inout [Int32], _ record: (_ actual: Int, _ predicted: Int) -> Void) {
        let rows = output.rows, width = output.cols
        switch self {
        case .argmaxAgainstLabel, .argmaxAgainstTargetRow:
            if predicted.count < rows { predicted = Array(repeating: 0, count: rows) }
            predicted.withUnsafeMutableBufferPointer { out in
                backend.argmaxRows(output.data, rows: rows, cols: width, into: out.baseAddress!)
                for r in 0..<rows {
                    let actual = self == .argmaxAgainstLabel ? Int(labels![r]) : Self.argmax(targets! + r * width, count: width)
                    record(actual, Int(out[r]))
                }
            }
        case .binaryPerValue:
            for i in 0..<rows * width {
                record(targets![i] > 0.5 ? 1 : 0, output.data[i] > 0 ? 1 : 0)
            }
        case .regression:
            break
        }
    }

    /// The index of the first largest of `count` values.
    private static func argmax(_ values: UnsafePointer<Float>, count: Int) -> Int {
        var best = 0
        for i in 1..<max(count, 1) where values[i] > values[best] { best = i }
        return best
    }
}
