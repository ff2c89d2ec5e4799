/// [N, d1, d2, …] -> [N, d1·d2·…] (PyTorch's `nn.Flatten()`): a view change, no copy of the
/// values; backward gives the gradient back its input shape.
open class Flatten: Layer {
    private var output: Tensor?     // y, [N, features]
    private var inputGrad: Tensor?  // dx, the input's shape

    /// A flatten layer.
    public init() {}

    open var summary: String { "Flatten" }

    open func outputShape(forInputShape shape: [Int]) throws -> [Int] {
        guard let count = CheckedSize.product(shape) else {
            throw BackpropError.shapeMismatch("input shape \(shapeText(shape)) has more elements than an Int can count")
        }
        return [count]
    }

    // x: [N, …] -> y: [N, features]
    open func forward(_ x: Tensor, backend: any Backend) -> Tensor {
        let y = Tensor.reuse(output, rows: x.rows, cols: x.cols)
        output = y
        backend.copy(x.data, to: y.data, count: x.count)
        inputGrad = Tensor.reuse(inputGrad, shape: x.shape)
        return y
    }

    // dy: [N, features] -> dx: [N, …]
    open func backward(_ dy: Tensor, backend: any Backend, needsInputGradient: Bool) -> Tensor {
        guard let dx = inputGrad else { preconditionFailure("Flatten: backward before forward") }
        if needsInputGradient { backend.copy(dy.data, to: dx.data, count: dx.count) }
        return dx
    }
}
