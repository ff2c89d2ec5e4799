import ArgumentParser
import Backprop

/// The datasets the CLI can load.
enum DatasetKind: String, CaseIterable, Codable, ExpressibleByArgument {
    case digits, edges, xor, mnist, csv
}

/// The `--normalize` choices (mirrors ``Normalization``).
enum NormalizationOption: String, CaseIterable, Codable, ExpressibleByArgument {
    case none, scale, standardize

    var normalization: Normalization {
        switch self {
        case .none: .none
        case .scale: .scale
        case .standardize: .standardize
        }
    }
}

/// Where the samples come from: shared by `train` and `eval`.
struct DataOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "The dataset: digits (built-in 8×8 handwritten digits, 1797 samples), edges (generated 5×5 vertical-edge patches), xor (the four XOR points), mnist (--data DIR), csv (--data FILE).",
        valueName: "name"))
    var dataset: DatasetKind?

    @Option(help: ArgumentHelp(
        "An MNIST directory holding the four IDX files (plain or .gz), or a CSV file (plain or .gz). Without --dataset, a directory means mnist and a file csv.",
        valueName: "path"))
    var data: String?

    @Option(help: ArgumentHelp(
        "CSV: the label column, as a 0-based index (negative counts from the end) or a header name. Default: the last column.",
        valueName: "N|name"))
    var labelColumn: String?

    /// The dataset to use: `--dataset`, else guessed from `--data`, else `fallback`.
    @Option(help: ArgumentHelp(
        "The shape of one sample as the network sees it, e.g. 1,28,28 (channels, height, width; NCHW); its product must be the feature count. Default: 1,H,W for image datasets (mnist, digits, edges), flat otherwise.",
        valueName: "C,H,W"))
    var inputShape: String?

    func resolvedKind(fallback: DatasetKind) throws -> DatasetKind {
        if let dataset {
            if (dataset == .mnist || dataset == .csv), data == nil {
                throw ValidationError("--dataset \(dataset.rawValue) needs --data PATH")
            }
            return dataset
        }
        guard let data else { return fallback }
        return isDirectory(data) ? .mnist : .csv
    }

    /// Checks option combinations that need no file access.
    func validate() throws {
        if let dataset, data != nil, [.digits, .edges, .xor].contains(dataset) {
            throw ValidationError("--data is only used with --dataset mnist or csv, not \(dataset.rawValue)")
        }
        if labelColumn != nil, let dataset, dataset != .csv {
            throw ValidationError("--label-column is only used with CSV data")
        }
        if labelColumn?.isEmpty == true { throw ValidationError("--label-column must not be empty") }
    }
}

/// Where the computation runs: shared by every command that runs a network.
struct EngineOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "The compute backend (c, openblas, swift, or a plugin's name). Default: $BACKPROP_BACKEND, else the fastest available.",
        valueName: "name"))
    var backend: String?

    @Option(help: ArgumentHelp(
        "Threads for the multithreaded backends. Default: $BACKPROP_NUM_THREADS, else $OMP_NUM_THREADS, else every core.",
        valueName: "n"))
    var threads: Int?

    @OptionGroup var plugins: PluginOptions

    func validate() throws {
        if let threads { try checkThreadCount(threads) }
        if let backend, backend.isEmpty { throw ValidationError("--backend must not be empty") }
    }

    /// The backend and its thread count, after the flags, then the environment, then the default.
    func resolve() throws -> (backend: any Backend, threads: Int) {
        try plugins.load()
        let chosen = try resolveBackend(name: backend, threads: threads)
        return (chosen, chosen.name == "swift" ? 1 : try ThreadSettings.resolve(threads))
    }
}

/// The label column option as the loader takes it.
func parseLabelColumn(_ text: String?) -> CSV.LabelColumn {
    guard let text else { return .index(-1) }
    if let index = Int(text) { return .index(index) }
    return .name(text)
}

/// The most threads `--threads` accepts: far past any CPU this runs on (a 2-socket server has
/// a few hundred hardware threads), so a larger number is a typo, not a wish for 10000 threads.
let maxThreads = 1024

/// Checks a `--threads` value: 1 to ``maxThreads``.
func checkThreadCount(_ threads: Int) throws {
    guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
    guard threads <= maxThreads else {
        throw ValidationError("--threads must be at most \(maxThreads), got \(threads)")
    }
}
