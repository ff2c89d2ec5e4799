/// A trainable tensor and its gradient.
public final class Parameter: @unchecked Sendable {
    /// The local name inside its layer: `weight` or `bias`.
    public let name: String
    /// The current value.
    public let value: Tensor
    /// dL/dvalue, same shape as `value`. After ``Sequential/zeroGrad()`` it is logically zero:
    /// the next backward pass overwrites it instead of adding to it (see ``gradIsZero``).
    public let grad: Tensor
    /// True after `zeroGrad` until a backward pass writes the gradient. Layers read it to
    /// overwrite (beta = 0) rather than accumulate (beta = 1), which makes zeroing free.
    public internal(set) var gradIsZero = true

    public init(name: String, value: Tensor) {
        self.name = name
        self.value = value
        self.grad = Tensor(rows: value.rows, cols: value.cols)
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

/// One stage of a network: forward maps a batch of inputs to outputs, backward maps the
/// gradient of the loss with respect to the outputs to the gradient with respect to the inputs
/// (and adds the parameters' gradients to ``Parameter/grad``).
///
/// Layers own the tensors they return and reuse them on the next call, so a training step
/// allocates nothing in steady state. Copy a returned tensor if you need to keep it.
public protocol Layer: AnyObject {
    /// A short description, e.g. `Dense(64 → 32)`.
    var summary: String { get }
    /// The trainable parameters with their local names (empty for activations).
    var parameters: [Parameter] { get }
    /// The output width for an input width.
    /// - Throws: ``BackpropError/shapeMismatch(_:)`` when this layer cannot take that input.
    func outputWidth(forInputWidth width: Int) throws -> Int
    /// Re-draws the parameters from `rng` (no-op for layers without parameters).
    func initialize(using rng: inout SeededGenerator)
    /// x: (batch, in) -> y: (batch, out). Remembers what backward needs.
    func forward(_ x: Tensor, backend: any Backend) -> Tensor
    /// dy: (batch, out) -> dx: (batch, in), using the tensors saved by the last forward.
    /// Adds dL/dparameter to each parameter's gradient. When `needsInputGradient` is false
    /// (the first layer), dx may be skipped and the returned tensor is unspecified.
    func backward(_ dy: Tensor, backend: any Backend, needsInputGradient: Bool) -> Tensor
}

extension Layer {
    public var parameters: [Parameter] { [] }
    public func initialize(using rng: inout SeededGenerator) {}
}
