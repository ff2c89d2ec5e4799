/// An elementwise activation layer: y = f(x). Backward uses the saved output y, since each
/// supported f' is a function of y (relu: y > 0, sigmoid: y(1 − y), tanh: 1 − y²).
public class ActivationLayer: Layer {
    public let kind: Activation
    private var output: Tensor?     // y, (batch, width)
    private var inputGrad: Tensor?  // dx, (batch, width)

    public init(_ kind: Activation) { self.kind = kind }

    public var summary: String {
        switch kind {
        case .relu: "ReLU"
        case .sigmoid: "Sigmoid"
        case .tanh: "Tanh"
        }
    }

    public func outputWidth(forInputWidth width: Int) throws -> Int { width }

    public func forward(_ x: Tensor, backend: any Backend) -> Tensor {
        let y = Tensor.reuse(output, rows: x.rows, cols: x.cols)
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

    public func backward(_ dy: Tensor, backend: any Backend, needsInputGradient: Bool) -> Tensor {
        guard let y = output else { preconditionFailure("\(summary): backward before forward") }
        precondition(dy.rows == y.rows && dy.cols == y.cols, "\(summary): gradient shape mismatch")
        let dx = Tensor.reuse(inputGrad, rows: y.rows, cols: y.cols)
        inputGrad = dx
        if needsInputGradient {
            backend.activationBackward(kind, y: y.data, dy: dy.data, dx: dx.data, count: y.count)
        }
        return dx
    }
}

/// y = max(x, 0).
public final class ReLU: ActivationLayer {
    public init() { super.init(.relu) }
}

/// y = 1 / (1 + e^−x).
public final class Sigmoid: ActivationLayer {
    public init() { super.init(.sigmoid) }
}

/// y = tanh(x).
public final class Tanh: ActivationLayer {
    public init() { super.init(.tanh) }
}
