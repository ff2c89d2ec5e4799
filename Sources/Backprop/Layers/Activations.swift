/// An elementwise activation layer: y = f(x). Backward uses the saved output y, since each
/// supported f' is a function of y (relu: y > 0, sigmoid: y(1 − y), tanh: 1 − y²).
open class ActivationLayer: Layer {
    /// Which function f this layer applies.
    public let kind: Activation
    private var output: Tensor?     // y, same shape as x
    private var inputGrad: Tensor?  // dx, same shape as x

    /// A layer applying `kind` elementwise.
    public init(_ kind: Activation) { self.kind = kind }

    open var summary: String {
        switch kind {
        case .relu: "ReLU"
        case .sigmoid: "Sigmoid"
        case .tanh: "Tanh"
        }
    }

    open func outputShape(forInputShape shape: [Int]) throws -> [Int] { shape }

    open func forward(_ x: Tensor, backend: any Backend) -> Tensor {
        let y = Tensor.reuse(output, shape: x.shape)
        output = y
        backend.activationForward(kind, x: x.data, y: y.data, count: x.count)
        return y
    }

    /// The output buffer for (rows, cols), reused from the last call, for a dense layer that
    /// writes this layer's forward output in its own GEMM (see `Dense.forward(_:fusing:backend:)`).
    func reuseOutput(rows: Int, cols: Int) -> Tensor {
        let y = Tensor.reuse(output, rows: rows, cols: cols)
        output = y
        return y
    }

    /// The forward output y of the last call (nil before the first).
    var lastOutput: Tensor? { output }

    open func backward(_ dy: Tensor, backend: any Backend, needsInputGradient: Bool) -> Tensor {
        guard let y = output else { preconditionFailure("\(summary): backward before forward") }
        precondition(dy.count == y.count, "\(summary): gradient shape mismatch")
        let dx = Tensor.reuse(inputGrad, shape: y.shape)
        inputGrad = dx
        if needsInputGradient {
            backend.activationBackward(kind, y: y.data, dy: dy.data, dx: dx.data, count: y.count)
        }
        return dx
    }
}

/// y = max(x, 0).
open class ReLU: ActivationLayer {
    /// A ReLU layer.
    public init() { super.init(.relu) }
}

/// y = 1 / (1 + e^−x).
open class Sigmoid: ActivationLayer {
    /// A sigmoid layer.
    public init() { super.init(.sigmoid) }
}

/// y = tanh(x).
open class Tanh: ActivationLayer {
    /// A tanh layer.
    public init() { super.init(.tanh) }
}
