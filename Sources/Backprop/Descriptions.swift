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
