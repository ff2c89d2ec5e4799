/// A set of samples: a feature matrix and, per sample, a class label or a target vector.
///
/// Features are a `(samples, features)` tensor. Classification data carries `Int32` labels in
/// `0..<classCount`; regression data carries a `(samples, outputs)` target tensor.
public struct Dataset: @unchecked Sendable {
    /// What the network is trained to produce for each sample.
    public enum Targets {
        /// One class index per sample, each in `0..<classCount`.
        case labels([Int32], classCount: Int)
        /// One target row per sample: a (samples, outputs) tensor.
        case values(Tensor)
    }

    /// (samples, features).
    public let features: Tensor
    /// What the network should output for each sample: class labels or target rows.
    public let targets: Targets
    /// When the features are images, their (height, width), so reports can draw them.
    public var imageShape: (height: Int, width: Int)? { didSet { refreshSampleShape() } }
    /// The shape one sample is given to the network in, set with ``withSampleShape(_:)``.
    private var explicitSampleShape: [Int]? { didSet { refreshSampleShape() } }

    /// The shape of one sample as the network sees it (NCHW without N): the shape set with
    /// ``withSampleShape(_:)``, else `[1, height, width]` for images (MNIST `[1, 28, 28]`,
    /// digits `[1, 8, 8]`, edges `[1, 5, 5]`), else `[features]`. Stored, so reading it in a
    /// training step allocates nothing.
    public private(set) var sampleShape: [Int] = []

    private mutating func refreshSampleShape() {
        if let explicitSampleShape {
            sampleShape = explicitSampleShape
        } else if let imageShape, imageShape.height * imageShape.width == featureCount {
            sampleShape = [1, imageShape.height, imageShape.width]
        } else {
            sampleShape = [featureCount]
        }
    }

    /// This data with each sample seen as `shape`, e.g. `[3, 32, 32]` for colour images.
    /// Sets ``imageShape`` to the last two dimensions of a rank-3 shape.
    /// - Throws: ``BackpropError/shapeMismatch(_:)`` when the shape's element count is not
    ///   ``featureCount`` or a dimension is not positive.
    public func withSampleShape(_ shape: [Int]) throws -> Dataset {
        guard !shape.isEmpty, shape.allSatisfy({ $0 > 0 }), Tensor.checkedCount(shape) == featureCount else {
            throw BackpropError.shapeMismatch(
                "sample shape \(shapeText(shape)) does not hold the \(featureCount) features of each sample")
        }
        var result = self
        result.explicitSampleShape = shape
        if shape.count == 3 { result.imageShape = (shape[1], shape[2]) }
        return result
    }

    /// Number of samples.
    public var count: Int { features.rows }
    /// Number of features per sample.
    public var featureCount: Int { features.cols }
    /// Width of the network's output: the class count, or the target width.
    public var outputCount: Int {
        switch targets {
        case .labels(_, let classCount): classCount
        case .values(let t): t.cols
        }
    }
    /// The labels, for classification data.
    public var labels: [Int32]? {
        if case .labels(let labels, _) = targets { return labels }
        return nil
    }

    /// Classification data.
    /// - Throws: ``BackpropError/shapeMismatch(_:)`` when there is not one label per row, and
    ///   ``BackpropError/invalidArgument(_:)`` when a label is outside `0..<classCount`.
    public init(features: Tensor, labels: [Int32], classCount: Int? = nil,
                imageShape: (height: Int, width: Int)? = nil) throws {
        guard labels.count == features.rows else {
            throw BackpropError.shapeMismatch(
                "\(features.rows) feature rows but \(labels.count) labels")
        }
        let classes = classCount ?? (Int(labels.max() ?? 0) + 1)
        guard classes >= 1 else { throw BackpropError.invalidArgument("class count must be at least 1") }
        if let bad = labels.firstIndex(where: { $0 < 0 || Int($0) >= classes }) {
            throw BackpropError.invalidArgument(
                "label \(labels[bad]) of sample \(bad) is outside 0..<\(classes)")
        }
        self.features = features
        self.targets = .labels(labels, classCount: classes)
        self.imageShape = imageShape
        refreshSampleShape()
    }

    /// Regression (or multi-output) data.
    /// - Throws: ``BackpropError/shapeMismatch(_:)`` when the row counts differ.
    public init(features: Tensor, targets: Tensor, imageShape: (height: Int, width: Int)? = nil) throws {
        guard targets.rows == features.rows else {
            throw BackpropError.shapeMismatch(
                "\(features.rows) feature rows but \(targets.rows) target rows")
        }
        self.features = features
        self.targets = .values(targets)
        self.imageShape = imageShape
        refreshSampleShape()
    }

    /// The samples at `indices`, in that order (copies the rows).
    public func subset(_ indices: [Int]) -> Dataset {
        let x = Tensor(rows: indices.count, cols: featureCount)
        for (row, index) in indices.enumerated() {
            (x.data + row * featureCount).update(from: features.data + index * featureCount, count: featureCount)
        }
        var result: Dataset
        switch targets {
        case .labels(let labels, let classCount):
            result = try! Dataset(features: x, labels: indices.map { labels[$0] }, classCount: classCount)
        case .values(let t):
            let y = Tensor(rows: indices.count, cols: t.cols)
            for (row, index) in indices.enumerated() {
                (y.data + row * t.cols).update(from: t.data + index * t.cols, count: t.cols)
            }
            result = try! Dataset(features: x, targets: y)
        }
        result.imageShape = imageShape
        result.explicitSampleShape = explicitSampleShape
        return result
    }

    /// Splits into (train, test) after a seeded shuffle; `testFraction` of the samples
    /// (rounded, at least one when there are two or more samples) go to the test set.
    /// - Throws: ``BackpropError/invalidArgument(_:)`` unless `0 <= testFraction < 1`.
    public func split(testFraction: Double, seed: UInt64) throws -> (train: Dataset, test: Dataset) {
        guard testFraction >= 0, testFraction < 1 else {
            throw BackpropError.invalidArgument("test fraction must be in [0, 1), got \(testFraction)")
        }
        var rng = SeededGenerator(seed: seed)
        var order = Array(0..<count)
        rng.shuffle(&order)
        var testCount = Int((Double(count) * testFraction).rounded())
        if testFraction > 0 && count >= 2 { testCount = max(1, min(testCount, count - 1)) }
        return (subset(Array(order[testCount...])), subset(Array(order[..<testCount])))
    }
}
