#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A small, fast, seedable random number generator (xoshiro256**, seeded through SplitMix64).
///
/// The same seed gives the same sequence on every machine: weight initialization, shuffling
/// and data splits use only this generator and integer arithmetic to turn bits into numbers.
/// Its ``state`` can be saved in a checkpoint and restored to resume a run exactly.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Equatable {
    /// The four 64-bit words of xoshiro256** state.
    public var state: (UInt64, UInt64, UInt64, UInt64) {
        get { (s0, s1, s2, s3) }
        set { (s0, s1, s2, s3) = newValue }
    }
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// A generator whose whole sequence is determined by `seed`.
    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    /// A generator restored from a saved ``state``.
    public init(state: (UInt64, UInt64, UInt64, UInt64)) {
        (s0, s1, s2, s3) = state
    }

    /// True when both generators are in the same state (they will draw the same numbers).
    public static func == (a: SeededGenerator, b: SeededGenerator) -> Bool {
        a.s0 == b.s0 && a.s1 == b.s1 && a.s2 == b.s2 && a.s3 == b.s3
    }

    /// The next 64 random bits (xoshiro256**).
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// A uniform `Double` in [0, 1) from the top 53 bits.
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A uniform integer in `0..<bound` (Lemire's method, unbiased).
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "bound must be positive")
        let b = UInt64(bound)
        var product = next().multipliedFullWidth(by: b)
        if product.low < b {
            let threshold = (0 &- b) % b
            while product.low < threshold { product = next().multipliedFullWidth(by: b) }
        }
        return Int(product.high)
    }

    /// A standard normal sample (Box–Muller).
    public mutating func nextNormal() -> Double {
        let u1 = 1 - nextUnit()  // in (0, 1], so log is finite
        let u2 = nextUnit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// Fisher–Yates shuffle written here, so the order never depends on the standard library.
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            array.swapAt(i, nextInt(below: i + 1))
        }
    }
}

/// How a weight matrix is initialized. `fanIn`/`fanOut` are the layer's input/output widths.
public enum Initializer: String, Sendable, CaseIterable {
    /// He/Kaiming uniform: U(−b, b), b = √(6 / fanIn). For ReLU layers.
    case heUniform
    /// He/Kaiming normal: N(0, 2 / fanIn).
    case heNormal
    /// Xavier/Glorot uniform: U(−b, b), b = √(6 / (fanIn + fanOut)). For sigmoid/tanh layers.
    case xavierUniform
    /// Xavier/Glorot normal: N(0, 2 / (fanIn + fanOut)).
    case xavierNormal
    /// All zeros (biases).
    case zeros

    /// Fills `tensor` from `rng`.
    public func fill(_ tensor: Tensor, fanIn: Int, fanOut: Int, using rng: inout SeededGenerator) {
        let n = tensor.count
        switch self {
        case .zeros:
            tensor.data.update(repeating: 0, count: n)
        case .heUniform, .xavierUniform:
            let bound = self == .heUniform
                ? (6.0 / Double(max(fanIn, 1))).squareRoot()
                : (6.0 / Double(max(fanIn + fanOut, 1))).squareRoot()
            for i in 0..<n { tensor.data[i] = Float((2 * rng.nextUnit() - 1) * bound) }
        case .heNormal, .xavierNormal:
            let std = self == .heNormal
                ? (2.0 / Double(max(fanIn, 1))).squareRoot()
                : (2.0 / Double(max(fanIn + fanOut, 1))).squareRoot()
            for i in 0..<n { tensor.data[i] = Float(rng.nextNormal() * std) }
        }
    }
}
