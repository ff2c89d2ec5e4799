/// How features are rescaled before training.
public enum Normalization: String, Sendable, CaseIterable {
    /// Features as they are.
    case none
    /// Per feature, min ↦ 0 and max ↦ 1 (over the training set).
    case scale
    /// Per feature, zero mean and unit (population) standard deviation.
    case standardize
}

/// A per-feature affine map `x' = (x - offset) / divisor`, fitted on training data and then
/// applied unchanged to training, test and inference inputs.
///
/// A feature that is constant on the training set gets divisor 1, so it is only shifted
/// (to 0) and never divided by zero. ``parameters`` flattens the map to `[Float]` so a
/// checkpoint can store it next to the weights.
public struct Normalizer: Sendable, Equatable {
    /// Which statistics the map was fitted with.
    public let kind: Normalization
    /// Per feature: the value subtracted (min for ``Normalization/scale``, mean for
    /// ``Normalization/standardize``, 0 for ``Normalization/none``).
    public let offset: [Float]
    /// Per feature: what the shifted value is divided by (max − min, std, or 1); never 0.
    public let divisor: [Float]

    /// Number of features the normalizer was fitted on.
    public var featureCount: Int { offset.count }

    /// Fits on `features`: (samples, features).
    public init(fitting kind: Normalization, to features: Tensor) {
        let (n, f) = (features.rows, features.cols)
        // Accumulate in Double (a mean over 60000 floats loses digits in Float), walking the
        // rows in memory order with one accumulator per feature.
        var lo = [Double](repeating: .infinity, count: f)
        var hi = [Double](repeating: -.infinity, count: f)
        var mean = [Double](repeating: 0, count: f)
        var squares = [Double](repeating: 0, count: f)
        for r in 0..<n {
            for c in 0..<f {
                let v = Double(features.data[r * f + c])
                lo[c] = min(lo[c], v); hi[c] = max(hi[c], v); mean[c] += v
            }
        }
        if n > 0 { for c in 0..<f { mean[c] /= Double(n) } }
        if kind == .standardize {
            for r in 0..<n {
                for c in 0..<f {
                    let d = Double(features.data[r * f + c]) - mean[c]
                    squares[c] += d * d
                }
            }
        }
        var offset = [Float](repeating: 0, count: f)
        var divisor = [Float](repeating: 1, count: f)
        for c in 0..<f where n > 0 {
            switch kind {
            case .none:
                break
            case .scale:
                offset[c] = Float(lo[c])
                if hi[c] > lo[c] { divisor[c] = Float(hi[c] - lo[c]) }
            case .standardize:
                let std = (squares[c] / Double(n)).squareRoot()
                offset[c] = Float(mean[c])
                // Below this the feature is constant up to rounding; dividing would blow it up.
                if std > 1e-7 * max(abs(mean[c]), 1) { divisor[c] = Float(std) }
            }
        }
        self.kind = kind
        self.offset = offset
        self.divisor = divisor
    }

    /// Fits on a dataset's features.
    public init(fitting kind: Normalization, to dataset: Dataset) {
        self.init(fitting: kind, to: dataset.features)
    }

    /// `offset` followed by `divisor`: 2 × featureCount floats.
    public var parameters: [Float] { offset + divisor }

    /// Restores a normalizer from ``parameters``.
    /// - Throws: ``BackpropError/invalidArgument(_:)`` for an odd count or a divisor that is
    ///   zero or not finite.
    public init(kind: Normalization, parameters: [Float]) throws {
        guard parameters.count % 2 == 0 else {
            throw BackpropError.invalidArgument(
                "normalizer parameters must be offsets then divisors (an even count), got \(parameters.count)")
        }
        let half = parameters.count / 2
        let divisor = Array(parameters[half...])
        if let bad = divisor.firstIndex(where: { $0 == 0 || !$0.isFinite }) {
            throw BackpropError.invalidArgument("normalizer divisor \(bad) is \(divisor[bad]); it must be finite and non-zero")
        }
        if let bad = parameters[..<half].firstIndex(where: { !$0.isFinite }) {
            throw BackpropError.invalidArgument("normalizer offset \(bad) is \(parameters[bad]); it must be finite")
        }
        self.kind = kind
        self.offset = Array(parameters[..<half])
        self.divisor = divisor
    }

    /// A normalized copy of `features`: (samples, featureCount).
    /// - Throws: ``BackpropError/shapeMismatch(_:)`` when the feature count differs from the fit.
    public func apply(to features: Tensor) throws -> Tensor {
        guard features.cols == featureCount else {
            throw BackpropError.shapeMismatch(
                "normalizer was fitted on \(featureCount) features but the data has \(features.cols)")
        }
        let out = features.copy()
        let f = featureCount
        for r in 0..<features.rows {
            for c in 0..<f { out.data[r * f + c] = (out.data[r * f + c] - offset[c]) / divisor[c] }
        }
        return out
    }

    /// The dataset with normalized features and the same targets.
    public func apply(to dataset: Dataset) throws -> Dataset {
        let x = try apply(to: dataset.features)
        var result: Dataset
        switch dataset.targets {
        case .labels(let labels, let classCount):
            result = try Dataset(features: x, labels: labels, classCount: classCount)
        case .values(let t):
            result = try Dataset(features: x, targets: t)
        }
        result.imageShape = dataset.imageShape
        return try result.withSampleShape(dataset.sampleShape)
    }
}
