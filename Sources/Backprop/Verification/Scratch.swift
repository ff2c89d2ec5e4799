/// A test buffer with guard cells on both sides, so a backend that writes outside its
/// `count` elements is caught, and an optional one-element offset so that the first element
/// is not 16-byte aligned (the protocol promises no alignment).
final class Scratch<Element: Equatable> {
    /// Guard cells after the last element.
    static var guardCount: Int { 16 }

    let count: Int
    private let offset: Int
    private let sentinel: Element
    private let base: UnsafeMutablePointer<Element>

    /// The first element.
    var pointer: UnsafeMutablePointer<Element> { base + offset }

    init(count: Int, misaligned: Bool, sentinel: Element) {
        self.count = count
        self.offset = misaligned ? 1 : 0
        self.sentinel = sentinel
        let total = offset + count + Self.guardCount
        base = UnsafeMutablePointer<Element>.allocate(capacity: total)
        base.initialize(repeating: sentinel, count: total)
    }

    /// A buffer with the same layout and contents.
    convenience init(copying other: Scratch<Element>) {
        self.init(count: other.count, misaligned: other.offset == 1, sentinel: other.sentinel)
        pointer.update(from: other.pointer, count: count)
    }

    deinit {
        base.deallocate()
    }

    subscript(index: Int) -> Element {
        get { pointer[index] }
        set { pointer[index] = newValue }
    }

    /// Whether every guard cell still holds the sentinel.
    var guardsIntact: Bool {
        (0..<offset).allSatisfy { base[$0] == sentinel }
            && (0..<Self.guardCount).allSatisfy { pointer[count + $0] == sentinel }
    }
}

extension Scratch where Element == Float {
    /// The sentinel in the guard cells: a value no op produces from the test inputs.
    static var floatSentinel: Float { -7777.25 }

    convenience init(count: Int, misaligned: Bool) {
        self.init(count: count, misaligned: misaligned, sentinel: Scratch.floatSentinel)
    }

    /// A buffer holding `value` everywhere.
    convenience init(count: Int, misaligned: Bool, repeating value: Float) {
        self.init(count: count, misaligned: misaligned)
        pointer.update(repeating: value, count: count)
    }

    /// A buffer of values uniform in [low, high).
    convenience init(
        count: Int, misaligned: Bool, uniform low: Float, _ high: Float, using rng: inout SeededGenerator
    ) {
        self.init(count: count, misaligned: misaligned)
        for i in 0..<count { pointer[i] = rng.uniform(low, high) }
    }

    /// Writes `values` in turn at indices 0, every, 2·every, … (wrapping to the start of the
    /// list), over the whole buffer.
    func scatter(_ values: [Float], every: Int) {
        for (n, i) in stride(from: every / 2, to: count, by: every).enumerated() {
            pointer[i] = values[n % values.count]
        }
    }

    /// The largest |value| (NaN and the infinities ignored).
    var maxMagnitude: Double {
        var m = 0.0
        for i in 0..<count where pointer[i].isFinite { m = max(m, Double(abs(pointer[i]))) }
        return m
    }
}

extension SeededGenerator {
    /// A Float uniform in [low, high).
    mutating func uniform(_ low: Float, _ high: Float) -> Float {
        low + (high - low) * Float(nextUnit())
    }
}
