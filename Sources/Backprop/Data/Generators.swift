/// Small synthetic datasets, fully determined by their seed.
public enum Generators {
    /// 5 × 5 grey patches (25 features in [0, 1]) labelled 1 for a vertical edge, dark on the
    /// left and bright on the right, and 0 otherwise.
    ///
    /// Positives put the edge between any two columns with varied dark and bright levels.
    /// Negatives are a balanced mix of the look-alikes a classifier must reject: flat patches,
    /// textured patches (±0.15 around one level), horizontal edges, and reversed (bright-to-dark)
    /// vertical edges. Textures are bounded rather than uniform noise over [0, 1], because some
    /// uniform-noise patches really do contain a dark-to-bright vertical edge, which would make
    /// the labels wrong rather than the task hard. All patches
    /// get Gaussian noise (σ = 0.05). Classes alternate before a seeded shuffle, so they are
    /// balanced (the extra sample of an odd count is a negative).
    /// - Throws: ``BackpropError/invalidArgument(_:)`` when `count < 1`.
    public static func edges(count: Int, seed: UInt64) throws -> Dataset {
        guard count >= 1 else { throw BackpropError.invalidArgument("edges needs count >= 1, got \(count)") }
        var rng = SeededGenerator(seed: seed)
        let side = 5
        let x = Tensor(rows: count, cols: side * side)
        var labels = [Int32](repeating: 0, count: count)
        var order = Array(0..<count)
        rng.shuffle(&order)
        for (i, row) in order.enumerated() {
            let positive = i % 2 == 1
            labels[row] = positive ? 1 : 0
            let dark = 0.3 * rng.nextUnit()
            let bright = 0.7 + 0.3 * rng.nextUnit()
            let edge = 1 + rng.nextInt(below: side - 1)  // first bright column (or row), 1...4
            let kind = positive ? -1 : rng.nextInt(below: 4)
            let flat = rng.nextUnit()
            for r in 0..<side {
                for c in 0..<side {
                    var v: Double
                    switch kind {
                    case -1: v = c < edge ? dark : bright   // the positive: dark | bright
                    case 0: v = flat                        // uniform
                    case 1: v = flat + 0.3 * (rng.nextUnit() - 0.5)  // texture: ±0.15 around a level
                    case 2: v = r < edge ? dark : bright    // horizontal edge
                    default: v = c < edge ? bright : dark   // reversed vertical edge
                    }
                    v += 0.05 * rng.nextNormal()
                    x[row, c + r * side] = Float(min(max(v, 0), 1))
                }
            }
        }
        return try Dataset(features: x, labels: labels, classCount: 2, imageShape: (side, side))
    }

    /// The four XOR points (0,0), (0,1), (1,0), (1,1) with targets 0, 1, 1, 0: regression
    /// targets of shape (4, 1) by default, or class labels with two classes.
    public static func xor(targets: TargetKind = .values) -> Dataset {
        let x = try! Tensor([[0, 0], [0, 1], [1, 0], [1, 1]])
        switch targets {
        case .values: return try! Dataset(features: x, targets: Tensor([[0], [1], [1], [0]]))
        case .labels: return try! Dataset(features: x, labels: [0, 1, 1, 0], classCount: 2)
        }
    }
}
