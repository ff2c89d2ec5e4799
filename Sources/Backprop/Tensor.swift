#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A contiguous row-major array of `Float32` with a shape of any rank, e.g. `[batch, features]`
/// or `[batch, channels, height, width]` (NCHW, as in PyTorch).
///
/// Every tensor also has a 2-D view for matrix code: ``rows`` is the first dimension (the batch)
/// and ``cols`` the product of the others, so a `[N, C, H, W]` tensor is a `(N, C·H·W)` matrix.
/// A rank-1 tensor `[n]` is the `(1, n)` matrix.
///
/// `Tensor` is a reference type, like `torch.Tensor` or `MLXArray`: layers keep their weights,
/// gradients and activations in tensors and update them in place, so a training step allocates
/// nothing once its buffers exist (see ``reuse(_:shape:)``). Copy with ``copy()`` when you need
/// an independent value.
///
/// Storage is 64-byte aligned (one cache line, one AVX-512 vector), so every backend reads it
/// directly through ``data`` without copies.
public final class Tensor: @unchecked Sendable {
    /// The dimensions, outermost first; element (i, j, k, …) is at the row-major offset.
    public private(set) var shape: [Int]
    /// The first dimension (the batch), or 1 for a rank-0 or rank-1 tensor.
    public private(set) var rows: Int
    /// The product of the dimensions after the first (for rank 1: the only dimension).
    public private(set) var cols: Int
    /// Number of floats the storage holds; `count <= capacity`.
    public let capacity: Int
    /// The first element; in the 2-D view element (r, c) is at `data[r * cols + c]`.
    public let data: UnsafeMutablePointer<Float>

    /// The element count, the product of ``shape``.
    public var count: Int { rows * cols }
    /// The number of dimensions.
    public var rank: Int { shape.count }

    /// A tensor of the given shape filled with `value`.
    /// - Precondition: every dimension is non-negative and the count does not overflow.
    public init(shape: [Int], repeating value: Float = 0) {
        let count = Tensor.elementCount(shape)
        self.shape = shape
        (self.rows, self.cols) = Tensor.matrixView(shape, count: count)
        self.capacity = count
        self.data = Tensor.allocate(count)
        data.initialize(repeating: value, count: count)
    }

    /// A `(rows, cols)` tensor filled with `value`.
    /// - Precondition: `rows >= 0`, `cols >= 0`.
    public convenience init(rows: Int, cols: Int, repeating value: Float = 0) {
        precondition(rows >= 0 && cols >= 0, "Tensor shape must be non-negative, got (\(rows), \(cols))")
        self.init(shape: [rows, cols], repeating: value)
    }

    /// A tensor of the given shape holding `values` in row-major order.
    /// - Throws: ``BackpropError/shapeMismatch(_:)`` when a dimension is negative or
    ///   `values.count` is not the product of `shape`.
    public convenience init(shape: [Int], values: [Float]) throws {
        guard shape.allSatisfy({ $0 >= 0 }), let count = Tensor.checkedCount(shape), values.count == count else {
            throw BackpropError.shapeMismatch(
                "\(values.count) values cannot fill a tensor of shape \(shape)")
        }
        self.init(shape: shape)
        values.withUnsafeBufferPointer { buffer in
            if let base = buffer.baseAddress { data.update(from: base, count: buffer.count) }
        }
    }

    /// A `(rows, cols)` tensor holding `values` in row-major order.
    /// - Throws: ``BackpropError/shapeMismatch(_:)`` when `values.count != rows * cols`.
    public convenience init(rows: Int, cols: Int, values: [Float]) throws {
        guard rows >= 0, cols >= 0, values.count == rows * cols else {
            throw BackpropError.shapeMismatch(
                "\(values.count) values cannot fill a tensor of shape (\(rows), \(cols)), which needs \(rows * cols)")
        }
        try self.init(shape: [rows, cols], values: values)
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

    /// The product of `shape`, or nil when a dimension is negative or the product overflows.
    static func checkedCount(_ shape: [Int]) -> Int? {
        var count = 1
        for dim in shape {
            guard dim >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            if overflow { return nil }
            count = product
        }
        return count
    }

    private static func elementCount(_ shape: [Int]) -> Int {
        guard let count = checkedCount(shape) else {
            preconditionFailure("Tensor shape \(shape) has a negative dimension or overflows")
        }
        return count
    }

    // [d0, d1, …] -> (d0, d1·…); [n] -> (1, n); [] -> (1, 1)
    private static func matrixView(_ shape: [Int], count: Int) -> (rows: Int, cols: Int) {
        if shape.count < 2 { return (1, count) }
        return (shape[0], shape[0] == 0 ? shape.dropFirst().reduce(1, *) : count / shape[0])
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

    /// Element (row, col) of the 2-D view.
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

    /// The elements of one row of the 2-D view.
    public func row(_ r: Int) -> [Float] {
        precondition(r >= 0 && r < rows, "row \(r) is outside a tensor with \(rows) rows")
        return Array(UnsafeBufferPointer(start: data + r * cols, count: cols))
    }

    /// The rows of the 2-D view as nested arrays.
    public var nested: [[Float]] { (0..<rows).map(row) }

    /// An independent copy with the same shape.
    public func copy() -> Tensor {
        let t = Tensor(shape: shape)
        t.data.update(from: data, count: count)
        return t
    }

    /// Changes the shape in place, keeping the storage. Contents are unspecified afterwards
    /// unless the element count is unchanged (then this is a view change, like `torch.reshape`).
    /// Allocates nothing when `shape` equals the current shape.
    /// - Throws: ``BackpropError/shapeMismatch(_:)`` when the new shape does not fit ``capacity``.
    public func reshape(to shape: [Int]) throws {
        guard let count = Tensor.checkedCount(shape), count <= capacity else {
            throw BackpropError.shapeMismatch("shape \(shape) does not fit a tensor with capacity \(capacity)")
        }
        setShape(shape, count: count)
    }

    private func setShape(_ newShape: [Int], count: Int) {
        if newShape != shape { shape = newShape }
        (rows, cols) = Tensor.matrixView(newShape, count: count)
    }

    /// Changes the shape to (rows, cols) in place when it fits the capacity. Used for the last,
    /// smaller minibatch of an epoch. Contents are unspecified afterwards.
    func reshapeInPlace(rows: Int, cols: Int) {
        precondition(rows * cols <= capacity, "reshape to (\(rows), \(cols)) exceeds capacity \(capacity)")
        if !(shape.count == 2 && shape[0] == rows && shape[1] == cols) { shape = [rows, cols] }
        self.rows = rows
        self.cols = cols
    }

    /// Returns `existing` reshaped to `shape` when its storage is large enough, else a new tensor.
    /// Layers keep their output buffers with this, so steady-state steps allocate nothing (the
    /// shape array is stored only when it differs from the current one). Contents are unspecified.
    public static func reuse(_ existing: Tensor?, shape: [Int]) -> Tensor {
        let count = elementCount(shape)
        if let existing, count <= existing.capacity {
            existing.setShape(shape, count: count)
            return existing
        }
        return Tensor(shape: shape)
    }

    /// Returns `existing` reshaped to (rows, cols) when its storage is large enough, else a new
    /// `(rows, cols)` tensor (see ``reuse(_:shape:)``).
    public static func reuse(_ existing: Tensor?, rows: Int, cols: Int) -> Tensor {
        if let existing, rows * cols <= existing.capacity {
            existing.reshapeInPlace(rows: rows, cols: cols)
            return existing
        }
        return Tensor(rows: rows, cols: cols)
    }

    /// Returns `existing` reshaped to `[batch] + sample` without building an array when it
    /// already has that shape (the steady state of a layer's forward pass).
    public static func reuse(_ existing: Tensor?, batch: Int, sample: [Int]) -> Tensor {
        if let existing, existing.shape.count == sample.count + 1, existing.shape[0] == batch,
           existing.shape.dropFirst().elementsEqual(sample) {
            return existing
        }
        return reuse(existing, shape: [batch] + sample)
    }

    /// The dimensions after the first (a sample's shape when the first is the batch).
    public var sampleShape: [Int] { Array(shape.dropFirst()) }
}

extension Tensor: CustomStringConvertible {
    /// `Tensor(2x3) [[…], […]]`: the shape and up to 8 × 8 leading values (4 decimals), for printing.
    public var description: String {
        let shown = nested.prefix(8).map { row in
            "[" + row.prefix(8).map { String(format4($0)) }.joined(separator: ", ")
                + (row.count > 8 ? ", …" : "") + "]"
        }
        return "Tensor(\(shape.map(String.init).joined(separator: "x"))) [" + shown.joined(separator: ", ") + (rows > 8 ? ", …" : "") + "]"
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
