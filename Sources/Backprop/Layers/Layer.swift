/// A trainable tensor and its gradient.
///
/// Write gradients only through ``accumulateGradient(_:)-([Float])`` or ``writeGradient(_:)``: the library,
/// not the layer, decides whether a write overwrites the buffer (the first write after a reset)
/// or adds to it (a second backward pass before the optimizer step), so a layer written outside
/// the module gets PyTorch's semantics: gradients accumulate across backward calls until reset.
public final class Parameter: @unchecked Sendable {
    /// The local name inside its layer: `weight` or `bias`.
    public let name: String
    /// The current value.
    public let value: Tensor
    /// The storage of dL/dvalue, same shape as `value`. While ``gradIsZero`` is true the
    /// gradient is logically zero whatever this buffer holds; read it through ``gradient``.
    public let grad: Tensor
    /// True after a reset (``zeroGrad()`` or the trainer's per-step reset) until a backward pass
    /// writes the gradient: then the next write overwrites instead of adding, which makes the
    /// reset free.
    public private(set) var gradIsZero = true

    /// A parameter with initial `value` and a zero gradient of the same shape.
    public init(name: String, value: Tensor) {
        self.name = name
        self.value = value
        self.grad = Tensor(shape: value.shape)
    }

    /// The gradient as values (zeros after a reset with no backward pass since).
    public var gradient: [Float] {
        gradIsZero ? Array(repeating: 0, count: grad.count) : grad.scalars
    }

    /// Lets `write` store a gradient contribution into ``grad``. `accumulate` tells it how:
    /// false means the buffer is logically zero and must be overwritten (GEMM beta 0), true
    /// means the contribution must be added (beta 1). Afterwards the gradient is marked written.
    ///
    /// ```swift
    /// weight.writeGradient { grad, accumulate in
    ///     backend.gemm(..., beta: accumulate ? 1 : 0, c: grad.data, ...)
    /// }
    /// ```
    public func writeGradient(_ write: (_ grad: Tensor, _ accumulate: Bool) -> Void) {
        write(grad, !gradIsZero)
        gradIsZero = false
    }

    /// grad (+)= contribution, elementwise: the simplest correct way for a layer to report dL/dvalue.
    /// - Precondition: `contribution` points at ``Tensor/count`` floats of `value`'s shape.
    public func accumulateGradient(_ contribution: UnsafePointer<Float>) {
        writeGradient { grad, accumulate in
            if accumulate {
                for i in 0..<grad.count { grad.data[i] += contribution[i] }
            } else {
                grad.data.update(from: contribution, count: grad.count)
            }
        }
    }

    /// grad (+)= contribution, elementwise.
    /// - Precondition: `contribution.count == value.count`.
    public func accumulateGradient(_ contribution: [Float]) {
        precondition(contribution.count == value.count,
                     "\(name): gradient of \(contribution.count) values for a parameter of shape \(value.shape)")
        contribution.withUnsafeBufferPointer { accumulateGradient($0.baseAddress!) }
    }

    /// Replaces the gradient with `source` (``Tensor/count`` floats), whatever it held: for
    /// library code that has already combined the old value in, such as the all-reduce.
    func replaceGradient(from source: UnsafePointer<Float>) {
        grad.data.update(from: source, count: grad.count)
        gradIsZero = false
    }

    /// Sets the gradient to zero (PyTorch's `zero_grad`).
    public func zeroGrad() {
        grad.data.update(repeating: 0, count: grad.count)
        gradIsZero = true
    }

    /// Marks the gradient as zero without writing it: the trainer's per-step reset, free
    /// because the next backward pass overwrites the gradient instead of adding to it.
    func discardGrad() {
        gradIsZero = true
    }
}

/// A non-trainable tensor a layer keeps across steps, such as batch norm's running statistics:
/// saved in checkpoints and restored with the parameters, never seen by optimizers, weight
/// decay or gradient clipping (PyTorch's `register_buffer`).
public final class Buffer: @unchecked Sendable {
    /// The local name inside its layer, e.g. `running_mean`.
    public let name: String
    /// The current value.
    public let value: Tensor

    /// A buffer holding `value`.
    public init(name: String, value: Tensor) {
        self.name = name
        self.value = value
    }
}

/// Whether a network is training (dropout drops, batch norm uses and updates batch statistics)
/// or evaluating (dropout is the identity, batch norm uses its running statistics).
public enum LayerMode: Sendable, Equatable {
    /// Fitting: dropout drops, batch norm uses and updates batch statistics.
    case training
    /// Evaluating or predicting: dropout is the identity, batch norm uses its running statistics.
    case evaluation
}

/// One stage of a network: forward maps a batch of inputs to outputs, backward maps the
/// gradient of the loss with respect to the outputs to the gradient with respect to the inputs
/// and reports the parameters' gradients.
///
/// Tensors are `[batch] + sample shape`, NCHW for images. Layers own the tensors they return and
/// reuse them on the next call (``Tensor/reuse(_:shape:)``), so a training step allocates nothing
/// in steady state. Copy a returned tensor if you need to keep it.
///
/// To write a layer outside the module: implement ``summary``, ``outputShape(forInputShape:)``,
/// ``forward(_:backend:)`` and ``backward(_:backend:needsInputGradient:)``; list trainable
/// tensors in ``parameters`` and report their gradients with ``Parameter/accumulateGradient(_:)-([Float])``
/// or ``Parameter/writeGradient(_:)`` (never by writing ``Parameter/grad`` directly); list
/// non-trainable state in ``buffers``; react to ``setMode(_:)`` if training and evaluation differ;
/// register a ``LayerKind`` to save it in checkpoints.
public protocol Layer: AnyObject {
    /// A short description, e.g. `Dense(64 → 32)`.
    var summary: String { get }
    /// The trainable parameters with their local names (empty for activations).
    var parameters: [Parameter] { get }
    /// The non-trainable state with local names (empty by default).
    var buffers: [Buffer] { get }
    /// Parameters with names relative to this layer (``Parameter/name`` by default; a nested
    /// ``Sequential`` prefixes `layers.N.`).
    var namedParameters: [(name: String, parameter: Parameter)] { get }
    /// Buffers with names relative to this layer.
    var namedBuffers: [(name: String, buffer: Buffer)] { get }
    /// The shape of one output sample for the shape of one input sample (batch excluded), e.g.
    /// `[1, 28, 28] -> [6, 28, 28]`. Called before any work so mismatches surface early.
    /// - Throws: ``BackpropError/shapeMismatch(_:)`` naming the expected and the given shape.
    func outputShape(forInputShape shape: [Int]) throws -> [Int]
    /// Re-draws the parameters from `rng` (no-op for layers without parameters).
    func initialize(using rng: inout SeededGenerator)
    /// Switches between training and evaluation behaviour (no-op by default).
    func setMode(_ mode: LayerMode)
    /// x: [batch] + input shape -> y: [batch] + output shape. Remembers what backward needs.
    /// `x` belongs to the caller (``Sequential/predict(_:loss:backend:)`` passes the user's own
    /// tensor): read it, keep a reference for backward, but never write it or change its shape.
    func forward(_ x: Tensor, backend: any Backend) -> Tensor
    /// dy: [batch] + output shape -> dx: [batch] + input shape, using the tensors saved by the
    /// last forward, reporting dL/dparameter through ``Parameter/accumulateGradient(_:)-([Float])``. When
    /// `needsInputGradient` is false (the first layer), dx may be skipped and the returned tensor
    /// is unspecified.
    func backward(_ dy: Tensor, backend: any Backend, needsInputGradient: Bool) -> Tensor
}

extension Layer {
    public var parameters: [Parameter] { [] }
    public var buffers: [Buffer] { [] }
    public var namedParameters: [(name: String, parameter: Parameter)] { parameters.map { ($0.name, $0) } }
    public var namedBuffers: [(name: String, buffer: Buffer)] { buffers.map { ($0.name, $0) } }
    public func initialize(using rng: inout SeededGenerator) {}
    public func setMode(_ mode: LayerMode) {}
}

/// Text for shape errors: `[1, 28, 28]`.
func shapeText(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
}
