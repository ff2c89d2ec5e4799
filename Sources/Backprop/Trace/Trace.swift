/// A named matrix shown in a trace step: its shape, its values and its size (Frobenius norm).
///
/// Vectors are (1, n) rows, as everywhere in Backprop; a scalar such as the loss is (1, 1).
public struct TraceValue: Sendable, Codable, Equatable {
    /// The symbol, e.g. `z1`, `dL/dW2`.
    public let name: String
    /// Rows of the matrix.
    public let rows: Int
    /// Columns of the matrix.
    public let cols: Int
    /// Row-major, `rows * cols` values.
    public let values: [Float]
    /// √(Σ v²), so large matrices can be summarized by their size.
    public let norm: Double

    /// A value with explicit contents.
    /// - Precondition: `values.count == rows * cols`.
    public init(_ name: String, rows: Int, cols: Int, values: [Float]) {
        precondition(values.count == rows * cols, "\(name): \(values.count) values for shape (\(rows), \(cols))")
        self.name = name
        self.rows = rows
        self.cols = cols
        self.values = values
        self.norm = values.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
    }

    /// A snapshot of `tensor` (later changes to the tensor do not show here).
    public init(_ name: String, _ tensor: Tensor) {
        self.init(name, rows: tensor.rows, cols: tensor.cols, values: tensor.scalars)
    }

    /// A (1, 1) value, e.g. the loss.
    public init(_ name: String, scalar: Double) {
        self.init(name, rows: 1, cols: 1, values: [Float(scalar)])
    }

    /// Element (row, col).
    public subscript(row: Int, col: Int) -> Float { values[row * cols + col] }

    /// The one number of a (1, 1) value, else the first element.
    public var scalar: Float { values[0] }
}

/// One step of a forward or backward pass: what is computed, the equation, and the numbers.
public struct TraceStep: Sendable, Codable, Equatable {
    /// A stable key for programs and tests, e.g. `forward.z1`, `backward.dW2`.
    public let id: String
    /// A short heading, e.g. "Hidden layer pre-activation".
    public let title: String
    /// The equation in plain Unicode, e.g. `z1 = x·W1 + b1`.
    public let equation: String
    /// The matrices involved, inputs first and the result last.
    public let values: [TraceValue]
    /// Explanations, one sentence or a small ASCII drawing each.
    public let notes: [String]

    /// A step with the given contents.
    public init(id: String, title: String, equation: String, values: [TraceValue], notes: [String] = []) {
        self.id = id
        self.title = title
        self.equation = equation
        self.values = values
        self.notes = notes
    }

    /// The value called `name` in this step.
    public func value(_ name: String) -> TraceValue? { values.first { $0.name == name } }
}

/// A whole traced example: a network, one sample, a forward pass, a backward pass, one update,
/// and the loss before and after that update.
public struct Trace: Sendable, Codable, Equatable {
    /// The example's key: `worked`, `xor` or `edges`.
    public let example: String
    /// A one-line heading.
    public let title: String
    /// What the network and the sample are, before any step.
    public let introduction: [String]
    /// The forward, loss, backward and update steps, in order.
    public let steps: [TraceStep]
    /// The learning rate of the plain SGD update at the end.
    public let learningRate: Float
    /// The loss on the traced sample before and after the update.
    public let lossBefore: Double
    /// The loss on the traced sample after the update.
    public let lossAfter: Double

    /// The step with this ``TraceStep/id``.
    public func step(_ id: String) -> TraceStep? { steps.first { $0.id == id } }
}

/// Collects steps while an example runs.
struct TraceRecorder {
    private(set) var steps: [TraceStep] = []

    mutating func add(_ id: String, _ title: String, _ equation: String, _ values: [TraceValue],
                      notes: [String] = []) {
        precondition(!steps.contains { $0.id == id }, "duplicate trace step id \(id)")
        steps.append(TraceStep(id: id, title: title, equation: equation, values: values, notes: notes))
    }
}
