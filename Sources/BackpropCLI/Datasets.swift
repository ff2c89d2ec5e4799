import Backprop

/// A dataset as the commands use it: a training part and a held-out test part.
struct LoadedData {
    /// `digits`, `mnist (/data/mnist)`, ... for messages.
    var name: String
    var train: Dataset
    /// The held-out samples; nil when the dataset is too small to hold any out (xor).
    var test: Dataset?
    /// The samples before splitting (for `eval --all`).
    var all: Dataset
}

/// Number of generated samples for `--dataset edges`, and the fixed seed that draws them, so
/// the same patches come back for `eval` whatever the run's seed.
let edgesCount = 1000
let edgesSeed: UInt64 = 2024

/// Loads the settings' dataset and splits it with their seed (MNIST has its own test files;
/// xor is not split, and gets one output with targets for MSE, two classes otherwise).
func loadData(_ settings: TrainSettings) throws -> LoadedData {
    let data = try loadData(settings.dataset, path: settings.data, labelColumn: settings.labelColumn, loss: settings.loss,
                            testSplit: settings.testSplit, seed: settings.seed)
    guard let shape = settings.inputShape else { return data }
    return try data.withSampleShape(shape)
}

extension LoadedData {
    /// Every part with samples seen as `shape` (`--input-shape`).
    func withSampleShape(_ shape: [Int]) throws -> LoadedData {
        do {
            return LoadedData(name: name, train: try train.withSampleShape(shape),
                              test: try test?.withSampleShape(shape), all: try all.withSampleShape(shape))
        } catch BackpropError.shapeMismatch(let message) {
            throw CLIError("--input-shape \(shape.map(String.init).joined(separator: ",")): \(message)")
        }
    }
}

/// Parses `--input-shape 1,28,28`.
func parseInputShape(_ text: String) throws -> [Int] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false)
    let shape = parts.compactMap { Int($0.trimmingCharacters(in: " ")) }
    guard shape.count == parts.count, !shape.isEmpty, shape.allSatisfy({ $0 > 0 }) else {
        throw CLIError("--input-shape '\(text)' must be positive whole numbers separated by commas, e.g. 1,28,28")
    }
    // Products of the shape are taken unchecked later (a sample's element count).
    guard CheckedSize.product(shape) != nil else {
        throw CLIError("--input-shape \(printable(text, limit: 120)): the sizes multiply past the largest integer")
    }
    return shape
}

/// Loads `kind` and splits it with `seed`; see ``loadData(_:)``.
func loadData(_ kind: DatasetKind, path: String?, labelColumn: String?, loss: LossOption,
              testSplit: Double, seed: UInt64) throws -> LoadedData {
    // --loss bce: one 0/1 target column, checked before splitting.
    func split(_ loaded: Dataset, name: String) throws -> LoadedData {
        let all = loss == .bce ? try binaryTargets(loaded, name: name) : loaded
        guard testSplit > 0 else { return LoadedData(name: name, train: all, test: nil, all: all) }
        let (train, test) = try all.split(testFraction: testSplit, seed: seed)
        return LoadedData(name: name, train: train, test: test, all: all)
    }
    switch kind {
    case .digits:
        return try split(try BuiltinDatasets.digits(), name: "digits")
    case .edges:
        return try split(try Generators.edges(count: edgesCount, seed: edgesSeed), name: "edges")
    case .xor:
        let data = Generators.xor(targets: loss == .crossEntropy ? .labels : .values)
        return LoadedData(name: "xor", train: data, test: nil, all: data)
    case .mnist:
        guard let path else { throw CLIError("--dataset mnist needs --data DIRECTORY") }
        let name = "mnist (\(path))"
        var (train, test) = try MNIST.load(directory: path)
        if loss == .bce { (train, test) = (try binaryTargets(train, name: name), try binaryTargets(test, name: name)) }
        return LoadedData(name: name, train: train, test: test, all: train)
    case .csv:
        guard let path else { throw CLIError("--dataset csv needs --data FILE") }
        let name = "csv (\(path))"
        let all = try CSV.load(path: path, labelColumn: parseLabelColumn(labelColumn))
        return try split(all, name: name)
    }
}

/// The data with one 0/1 target column, for `--loss bce` (one output unit, a logit): labels
/// 0 and 1 become that column; a target column must already hold only 0s and 1s.
// labels: N in {0, 1} -> targets: (N, 1)
func binaryTargets(_ data: Dataset, name: String) throws -> Dataset {
    let targets: Tensor
    switch data.targets {
    case .labels(let labels, let classes):
        guard classes <= 2 else {
            throw CLIError("--loss bce needs binary labels (0 or 1), but the \(name) data has \(classes) classes "
                + "(labels 0 to \(classes - 1)); use --loss cross-entropy for more than two classes")
        }
        targets = try Tensor(rows: labels.count, cols: 1, values: labels.map { Float($0) })
    case .values(let values):
        guard values.cols == 1 else {
            throw CLIError("--loss bce needs one 0/1 target column, but the \(name) data has \(values.cols)")
        }
        if let bad = (0..<values.count).first(where: { values.data[$0] != 0 && values.data[$0] != 1 }) {
            throw CLIError("--loss bce needs targets of 0 or 1, but sample \(bad) of the \(name) data has \(values.data[bad])")
        }
        targets = values
    }
    let ones = (0..<targets.count).reduce(0) { $0 + (targets.data[$1] == 1 ? 1 : 0) }
    guard ones > 0, ones < targets.count else {
        throw CLIError("every label of the \(name) data is \(ones == 0 ? 0 : 1), so a binary classifier has nothing "
            + "to learn; give labels of both classes, 0 and 1")
    }
    var binary = try Dataset(features: data.features, targets: targets, imageShape: data.imageShape)
    if binary.sampleShape != data.sampleShape { binary = try binary.withSampleShape(data.sampleShape) }
    return binary
}

/// `1437 train / 360 test samples · 64 features · 10 classes`.
func describe(_ data: LoadedData) -> String {
    var text = "\(data.train.count) train"
    if let test = data.test { text += " / \(test.count) test" }
    text += " samples · \(data.train.featureCount) features · "
    if case .labels(_, let classes) = data.train.targets {
        text += "\(classes) classes"
    } else {
        text += "\(data.train.outputCount) target\(data.train.outputCount == 1 ? "" : "s")"
    }
    return text
}

/// `1797 samples, fnv1a 0123456789abcdef`: the sample count and a 64-bit FNV-1a hash of every
/// feature and target, to tell whether the data of a resumed run is still the same.
func fingerprint(_ data: Dataset) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    func mix(_ word: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) {
            hash = (hash ^ UInt64((word >> UInt32(shift)) & 0xff)) &* 0x0000_0100_0000_01b3
        }
    }
    for i in 0..<data.features.count { mix(data.features.data[i].bitPattern) }
    switch data.targets {
    case .labels(let labels, _): for label in labels { mix(UInt32(bitPattern: label)) }
    case .values(let values): for i in 0..<values.count { mix(values.data[i].bitPattern) }
    }
    let hex = String(hash, radix: 16)
    return "\(data.count) samples, fnv1a \(String(repeating: "0", count: 16 - hex.count) + hex)"
}
