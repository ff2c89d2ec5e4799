// Readable descriptions for the public enums, so `print(normalizer.kind)` shows `standardize`
// rather than `Backprop.Normalization.standardize`. Each is the name the CLI and the checkpoint
// metadata use for the same value.

extension Normalization: CustomStringConvertible {
    /// The CLI's and the checkpoint's name: `none`, `scale` or `standardize`.
    public var description: String { rawValue }
}

extension TargetKind: CustomStringConvertible {
    /// `labels` or `values`.
    public var description: String { rawValue }
}

extension Initializer: CustomStringConvertible {
    /// The case name, e.g. `heUniform`.
    public var description: String { rawValue }
}

extension BenchKind: CustomStringConvertible {
    /// The name in `--json` output, e.g. `cross_entropy`.
    public var description: String { rawValue }
}

extension FitOutcome: CustomStringConvertible {
    /// `completed` or `stopped`.
    public var description: String {
        switch self {
        case .completed: "completed"
        case .stopped: "stopped"
        }
    }
}

extension CSV.LabelColumn: CustomStringConvertible {
    /// `column 3`, `column -1 (from the end)` or `column 'label'`.
    public var description: String {
        switch self {
        case .index(let index) where index < 0: "column \(index) (from the end)"
        case .index(let index): "column \(index)"
        case .name(let name): "column '\(name)'"
        }
    }
}

extension LayerMode: CustomStringConvertible {
    /// `training` or `evaluation`.
    public var description: String {
        switch self {
        case .training: "training"
        case .evaluation: "evaluation"
        }
    }
}

extension Reduction: CustomStringConvertible {
    /// `mean` or `sum`.
    public var description: String { rawValue }
}

extension Loss.Kind: CustomStringConvertible {
    /// The checkpoint's name: `cross-entropy`, `mse` or `binary-cross-entropy`.
    public var description: String { rawValue }
}

extension BackpropTrace.Example: CustomStringConvertible {
    /// The name `backprop trace` takes: `worked`, `xor` or `edges`.
    public var description: String { rawValue }
}

extension BackpropTrace.Target: CustomStringConvertible {
    /// `label 2` or `values [0.5, 1.0]`.
    public var description: String {
        switch self {
        case .label(let label): "label \(label)"
        case .values(let values): "values \(values)"
        }
    }
}

extension Dataset.Targets: CustomStringConvertible {
    /// `1797 labels of 10 classes` or `200 target rows of 3 values`.
    public var description: String {
        switch self {
        case .labels(let labels, let classes): "\(labels.count) labels of \(classes) classes"
        case .values(let values): "\(values.rows) target rows of \(values.cols) value\(values.cols == 1 ? "" : "s")"
        }
    }
}

extension Evaluation: CustomStringConvertible {
    /// `accuracy 0.9721 (349/359) · loss 0.0904` or `loss 0.0123 · mean absolute error 0.0871 (50 samples)`.
    public var description: String {
        switch self {
        case .classification(let result): result.description
        case .regression(let result): result.description
        }
    }
}

extension Evaluation.Classification: CustomStringConvertible {
    /// `accuracy 0.9721 (349/359) · loss 0.0904`: correct decisions over all decisions.
    public var description: String {
        "accuracy \(formatFixed(accuracy, decimals: 4)) (\(correct)/\(support.reduce(0, +))) · loss \(formatFixed(loss, decimals: 4))"
    }
}

extension Evaluation.Regression: CustomStringConvertible {
    /// `loss 0.0123 · mean absolute error 0.0871 (50 samples)`.
    public var description: String {
        "loss \(formatFixed(loss, decimals: 4)) · mean absolute error \(formatFixed(meanAbsoluteError, decimals: 4)) (\(count) samples)"
    }
}
