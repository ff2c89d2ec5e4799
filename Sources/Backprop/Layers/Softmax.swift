/// Row-wise softmax, for a network's inference output.
///
/// For training a classifier, end the network with logits and use ``Loss/crossEntropy(_:)``,
/// which fuses softmax with the loss (dL/dz = p − y) and is faster and more accurate.
/// Backward is the full Jacobian-vector product dx = y ⊙ (dy − Σ_c dy·y), row by row.
open class Softmax: Layer {
    private var output: Tensor?     // y, (batch, classes)
    private var inputGrad: Tensor?  // dx, (batch, classes)

    /// A softmax layer.
    public init() {}

    open var summary: String { "Softmax" }

    open func outputShape(forInputShape shape: [Int]) throws -> [Int] {
        guard shape.count == 1 else {
            throw BackpropError.shapeMismatch("expects flat input [classes], got \(shapeText(shape))")
        }
        return shape
    }

    open func forward(_ x: Tensor, backend: any Backend) -> Tensor {
        let y = Tensor.reuse(output, shape: x.shape)
        output = y
        backend.softmaxRows(x.data, y: y.data, rows: x.rows, cols: x.cols)
        return y
    }

    // Not a hot path (softmax outputs are for inference), so plain Swift on any backend.
    open func backward(_ dy: Tensor, backend: any Backend, needsInputGradient: Bool) -> Tensor {
        guard let y = output else { preconditionFailure("Softmax: backward before forward") }
        let dx = Tensor.reuse(inputGrad, shape: y.shape)
        inputGrad = dx
        guard needsInputGradient else { return dx }
        let cols = y.cols
        for r in 0..<y.rows {
            let yr = y.data + r * cols, dyr = dy.data + r * cols, dxr = dx.data + r * cols
            var dot: Float = 0
            for c in 0..<cols { dot += dyr[c] * yr[c] }
            for c in 0..<cols { dxr[c] = yr[c] * (dyr[c] - dot) }
        }
        return dx
    }
}
