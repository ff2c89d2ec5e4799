#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A row-major matrix of `Float32`: a batch of `rows` vectors of `cols` features each.
///
/// `Tensor` is a reference type, like `torch.Tensor` or `MLXArray`: layers keep their weights,
/// gradients and activations in tensors and update them in place, so a training step allocates
/// nothing once its buffers exist. Copy with ``copy()`` when you need an independent value.
///
/// Storage is 64-byte aligned (one cache line, one AVX-512 vector), so every backend reads it
/// directly through ``data`` without copies.
public final class Tensor: @unchecked Sendable {
    /// Number of rows (the batch dimension).
    public private(set) var rows: Int
    /// Number of columns (the feature dimension).
    public private(set) var cols: Int
    /// Number of floats the storage holds; `rows * cols <= capacity`.
    public let capacity: Int
    /// The first element; element (r, c) is at `data[r * cols + c]`.
    public let data: UnsafeMutablePointer<Float>

    /// The element count, `rows * cols`.
    public var count: Int { rows * cols }
    /// The shape as `(rows, cols)`.
    public var shape: (rows: Int, cols: Int) { (rows, cols) }

    /// A tensor of the given shape filled with `value`.
    /// - Precondition: `rows >= 0`, `cols >= 0`.
    public init(rows: Int, cols: Int, repeating value: Float = 0) {
        precondition(rows >= 0 && cols >= 0, "Tensor shape must be non-negative, got (\(rows), \(cols))")
        let (count, overflow) = rows.multipliedReportingOverflow(by: cols)
        precondition(!overflow, "Tensor shape (\(rows), \(cols)) overflows")
        self.rows = rows
        self.cols = cols
        self.capacity = count
        self.data = Tensor.allocate(count)
        data.initialize(repeating: value, count: count)
    }

    /// A tensor of the given shape holding `values` in row-major order.
    /// - Throws: ``BackpropError/shapeMismatch(_:)`` when `values.count != rows * cols`.
    public convenience init(rows: Int, cols: Int, values: [Float]) throws {
        guard rows >= 0, cols >= 0, values.count == rows * cols else {
            throw BackpropError.shapeMismatch(
                "\(values.count) values cannot fill a tensor of shape (\(rows), \(cols)), which needs \(rows * cols)")
        }
        self.init(rows: rows, cols: cols)
        values.withUnsafeBufferPointer { buffer in
            if let base = buffer.baseAddress { data.update(from: base, count: buffer.count) }
        }
    }

    /// A tensor from nested rows, e.g. `Tensor([[1, 2], [3, 4]])`.
    /// - Throws: ``BackpropError/shapeMismatch(_:)`` when the rows have different lengths.
    public convenience init(_ nested: [[Float]]) throws {
        let cols = nested.first?.count ?? 0
        if let bad = nested.firstIndex(where: { $0.count != cols }) {
            throw BackpropError.shapeMismatch(
                "row \(bad) has \(nested[bad].count) values but row 0 has \(cols)")
        }
        try self.init(rows: nested.count, cols: cols, values: nested.flatMap { $0 })
    }

    deinit {
        free(data)
    }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        var raw: UnsafeMutableRawPointer?
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        // Round up to a multiple of the alignment, as aligned_alloc requires.
        let rounded = (bytes + 63) & ~63
        guard posix_memalign(&raw, 64, rounded) == 0, let raw else {
            fatalError("Backprop: out of memory allocating \(bytes) bytes for a tensor")
        }
        return raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    /// Element (row, col).
    public subscript(row: Int, col: Int) -> Float {
        get {
            precondition(row >= 0 && row < rows && col >= 0 && col < cols,
                         "index (\(row), \(col)) is outside a tensor of shape (\(rows), \(cols))")
            return data[row * cols + col]
        }
        set {
            precondition(row >= 0 && row < rows && col >= 0 && col < cols,
                         "index (\(row), \(col)) is outside a tensor of shape (\(rows), \(cols))")
            data[row * cols + col] = newValue
        }
    }

    /// All elements in row-major order.
    public var scalars: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

    /// The elements of one row.
    public func row(_ r: Int) -> [Float] {
        precondition(r >= 0 && r < rows, "row \(r) is outside a tensor with \(rows) rows")
        return Array(UnsafeBufferPointer(start: data + r * cols, count: cols))
    }

    /// The rows as nested arrays.
    public var nested: [[Float]] { (0..<rows).map(row) }

    /// An independent copy.
    public func copy() -> Tensor {
        let t = Tensor(rows: rows, cols: cols)
        t.data.update(from: data, count: count)
        return t
    }

    /// Changes the shape in place, keeping the storage, when the new shape fits the capacity.
    /// Used for the last, smaller minibatch of an epoch. Contents are unspecified afterwards.
    func reshapeInPlace(rows: Int, cols: Int) {
        precondition(rows * cols <= capacity, "reshape to (\(rows), \(cols)) exceeds capacity \(capacity)")
        self.rows = rows
        self.cols = cols
    }

    /// Returns `existing` reshaped to (rows, cols) when its storage is large enough, else a new
    /// tensor. Layers keep their activation buffers with this, so steady-state steps do not allocate.
    static func reuse(_ existing: Tensor?, rows: Int, cols: Int) -> Tensor {
        if let existing, rows * cols <= existing.capacity {
            existing.reshapeInPlace(rows: rows, cols: cols)
            return existing
        }
        return Tensor(rows: rows, cols: cols)
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = nested.prefix(8).map { row in
            "[" + row.prefix(8).map { String(format4($0)) }.joined(separator: ", ")
                + (row.count > 8 ? ", …" : "") + "]"
        }
        return "Tensor(\(rows)x\(cols)) [" + shown.joined(separator: ", ") + (rows > 8 ? ", …" : "") + "]"
    }
}

/// Formats a value with four decimals without Foundation.
func format4(_ x: Float) -> String {
    formatFixed(Double(x), decimals: 4)
}

/// Formats `x` with a fixed number of decimals (Foundation-free, used in descriptions and traces).
func formatFixed(_ x: Double, decimals: Int) -> String {
    if x.isNaN { return "nan" }
    if x.isInfinite { return x < 0 ? "-inf" : "inf" }
    if abs(x) >= 1e15 { return String(x) }
    var p = 1.0
    for _ in 0..<decimals { p *= 10 }
    let scaled = (abs(x) * p).rounded()
    let negative = x < 0 && scaled != 0
    let whole = Int(scaled / p)
    var frac = String(Int(scaled.truncatingRemainder(dividingBy: p)))
    while frac.count < decimals { frac = "0" + frac }
    return (negative ? "-" : "") + String(whole) + (decimals > 0 ? "." + frac : "")
}
