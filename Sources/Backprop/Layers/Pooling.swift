/// 2-D max pooling over NCHW images (PyTorch's `nn.MaxPool2d(kernel, stride)`, no padding).
/// Backward sends each output gradient to the position of its window's maximum.
open class MaxPool2d: Layer {
    /// k: each window is k × k.
    public let kernelSize: Int
    /// The step between windows on both axes.
    public let stride: Int
    private var window: Window2d?
    private var outputSample: [Int] = []
    private var inputShape: [Int] = []
    private var output: Tensor?      // y, [N, C, H', W']
    private var argmax: [Int32] = [] // per output element, the index of its maximum in the plane
    private var inputGrad: Tensor?   // dx, [N, C, H, W]

    /// Max pooling over `kernelSize` × `kernelSize` windows.
    ///
    /// - Parameters:
    ///   - kernelSize: k, the side of each square window.
    ///   - stride: defaults to the kernel size (non-overlapping windows).
    public init(_ kernelSize: Int, stride: Int? = nil) {
        precondition(kernelSize > 0 && (stride ?? 1) > 0, "MaxPool2d needs a positive kernel size and stride")
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
    }

    open var summary: String { "MaxPool2d(\(kernelSize)" + (stride != kernelSize ? ", stride \(stride)" : "") + ")" }

    open func outputShape(forInputShape shape: [Int]) throws -> [Int] {
        try pooledShape(shape, kernel: kernelSize, stride: stride)
    }

    // x: [N, C, H, W] -> y: [N, C, H', W']
    open func forward(_ x: Tensor, backend: any Backend) -> Tensor {
        let w = poolWindow(for: x, kernel: kernelSize, stride: stride, cached: &window, outputSample: &outputSample)
        inputShape = x.shape
        let y = Tensor.reuse(output, batch: x.shape[0], sample: outputSample)
        output = y
        if argmax.count < y.count { argmax = Array(repeating: 0, count: y.count) }
        argmax.withUnsafeMutableBufferPointer {
            backend.maxPool2dForward(x.data, planes: x.shape[0] * x.shape[1], window: w, y: y.data, argmax: $0.baseAddress!)
        }
        return y
    }

    // dy: [N, C, H', W'] -> dx: [N, C, H, W]
    open func backward(_ dy: Tensor, backend: any Backend, needsInputGradient: Bool) -> Tensor {
        guard let w = window, let y = output else { preconditionFailure("\(summary): backward before forward") }
        precondition(dy.count == y.count, "\(summary): gradient shape mismatch")
        let dx = Tensor.reuse(inputGrad, shape: inputShape)
        inputGrad = dx
        guard needsInputGradient else { return dx }
        argmax.withUnsafeBufferPointer {
            backend.maxPool2dBackward(dy.data, argmax: $0.baseAddress!, planes: inputShape[0] * inputShape[1],
                                      window: w, dx: dx.data)
        }
        return dx
    }
}

/// 2-D average pooling over NCHW images (PyTorch's `nn.AvgPool2d(kernel, stride)`, no padding).
open class AvgPool2d: Layer {
    /// k: each window is k × k.
    public let kernelSize: Int
    /// The step between windows on both axes.
    public let stride: Int
    private var window: Window2d?
    private var outputSample: [Int] = []
    private var inputShape: [Int] = []
    private var output: Tensor?     // y, [N, C, H', W']
    private var inputGrad: Tensor?  // dx, [N, C, H, W]

    /// Average pooling over `kernelSize` × `kernelSize` windows.
    ///
    /// - Parameters:
    ///   - kernelSize: k, the side of each square window.
    ///   - stride: defaults to the kernel size (non-overlapping windows).
    public init(_ kernelSize: Int, stride: Int? = nil) {
        precondition(kernelSize > 0 && (stride ?? 1) > 0, "AvgPool2d needs a positive kernel size and stride")
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
    }

    open var summary: String { "AvgPool2d(\(kernelSize)" + (stride != kernelSize ? ", stride \(stride)" : "") + ")" }

    open func outputShape(forInputShape shape: [Int]) throws -> [Int] {
        try pooledShape(shape, kernel: kernelSize, stride: stride)
    }

    // x: [N, C, H, W] -> y: [N, C, H', W']
    open func forward(_ x: Tensor, backend: any Backend) -> Tensor {
        let w = poolWindow(for: x, kernel: kernelSize, stride: stride, cached: &window, outputSample: &outputSample)
        inputShape = x.shape
        let y = Tensor.reuse(output, batch: x.shape[0], sample: outputSample)
        output = y
        backend.avgPool2dForward(x.data, planes: x.shape[0] * x.shape[1], window: w, y: y.data)
        return y
    }

    // dy: [N, C, H', W'] -> dx: [N, C, H, W]
    open func backward(_ dy: Tensor, backend: any Backend, needsInputGradient: Bool) -> Tensor {
        guard let w = window, let y = output else { preconditionFailure("\(summary): backward before forward") }
        precondition(dy.count == y.count, "\(summary): gradient shape mismatch")
        let dx = Tensor.reuse(inputGrad, shape: inputShape)
        inputGrad = dx
        guard needsInputGradient else { return dx }
        backend.avgPool2dBackward(dy.data, planes: inputShape[0] * inputShape[1], window: w, dx: dx.data)
        return dx
    }
}

/// The mean of each channel over its whole plane: [N, C, H, W] -> [N, C]
/// (PyTorch's `nn.AdaptiveAvgPool2d(1)` followed by `nn.Flatten()`).
open class GlobalAvgPool2d: Layer {
    private var inputShape: [Int] = []
    private var output: Tensor?     // y, [N, C]
    private var inputGrad: Tensor?  // dx, [N, C, H, W]
    private var window: Window2d?

    /// A global average pooling layer.
    public init() {}

    open var summary: String { "GlobalAvgPool2d" }

    open func outputShape(forInputShape shape: [Int]) throws -> [Int] {
        guard shape.count == 3, shape.allSatisfy({ $0 > 0 }) else {
            throw BackpropError.shapeMismatch("expects input shape [C, H, W], got \(shapeText(shape))")
        }
        return [shape[0]]
    }

    private func geometry(_ x: Tensor) -> Window2d {
        if let w = window, w.height == x.shape[2], w.width == x.shape[3] { return w }
        let w = Window2d(channels: 1, height: x.shape[2], width: x.shape[3],
                         kernelHeight: x.shape[2], kernelWidth: x.shape[3])
        window = w
        return w
    }

    // x: [N, C, H, W] -> y: [N, C]
    open func forward(_ x: Tensor, backend: any Backend) -> Tensor {
        precondition(x.rank == 4, "\(summary): input shape \(x.shape)")
        let w = geometry(x)
        inputShape = x.shape
        let y = Tensor.reuse(output, rows: x.shape[0], cols: x.shape[1])
        output = y
        backend.avgPool2dForward(x.data, planes: x.shape[0] * x.shape[1], window: w, y: y.data)
        return y
    }

    // dy: [N, C] -> dx: [N, C, H, W]
    open func backward(_ dy: Tensor, backend: any Backend, needsInputGradient: Bool) -> Tensor {
        guard let w = window else { preconditionFailure("\(summary): backward before forward") }
        let dx = Tensor.reuse(inputGrad, shape: inputShape)
        inputGrad = dx
        guard needsInputGradient else { return dx }
        backend.avgPool2dBackward(dy.data, planes: inputShape[0] * inputShape[1], window: w, dx: dx.data)
        return dx
    }
}

// [C, H, W] -> [C, H', W'] for a k×k window with stride s and no padding.
func pooledShape(_ shape: [Int], kernel: Int, stride: Int) throws -> [Int] {
    guard shape.count == 3, shape.allSatisfy({ $0 > 0 }) else {
        throw BackpropError.shapeMismatch("expects input shape [C, H, W], got \(shapeText(shape))")
    }
    guard shape[1] >= kernel, shape[2] >= kernel else {
        throw BackpropError.shapeMismatch("a \(kernel)x\(kernel) window does not fit input shape \(shapeText(shape))")
    }
    return [shape[0], (shape[1] - kernel) / stride + 1, (shape[2] - kernel) / stride + 1]
}

// The window of a pooling layer for x: [N, C, H, W], recomputed only when H or W change.
func poolWindow(for x: Tensor, kernel: Int, stride: Int, cached: inout Window2d?, outputSample: inout [Int]) -> Window2d {
    precondition(x.rank == 4, "pooling expects [N, C, H, W], got \(x.shape)")
    if let w = cached, w.height == x.shape[2], w.width == x.shape[3], outputSample.first == x.shape[1] { return w }
    let w = Window2d(channels: 1, height: x.shape[2], width: x.shape[3], kernelHeight: kernel,
                     kernelWidth: kernel, stride: stride)
    cached = w
    outputSample = [x.shape[1], w.outHeight, w.outWidth]
    return w
}
