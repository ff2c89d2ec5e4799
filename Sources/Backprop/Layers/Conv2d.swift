/// A 2-D convolution over NCHW images (PyTorch's `nn.Conv2d` with square kernels, one stride and
/// one padding for both axes, no groups or dilation).
///
/// On a backend whose ``Backend/prefersDirectConvolution`` is true (the `c` backend), a stride-1
/// convolution runs the backend's direct convolution (``Backend/conv2dForward(_:batch:window:weight:bias:outChannels:y:)``
/// and its two gradients), with no patch matrix. Otherwise it is computed for the whole batch as
/// im2col + one GEMM: the patches become a (C·k·k, N·H'·W') matrix and z = W·col, with W stored
/// (out, in, k, k) = (out, C·k·k) row-major (PyTorch's layout); z (out, N, H'·W') is moved to
/// NCHW. Backward: dz = dy moved back, dW (+)= dz·colᵀ, db (+)= Σ dy, dcol = Wᵀ·dz folded back
/// by col2im.
open class Conv2d: Layer {
    /// C_in: channels of the input.
    public let inChannels: Int
    /// C_out: channels of the output (the number of filters).
    public let outChannels: Int
    /// k: the kernel is k × k.
    public let kernelSize: Int
    /// The step between kernel positions on both axes.
    public let stride: Int
    /// Zeros added on every side of the input.
    public let padding: Int
    /// W: [out, in, k, k].
    public let weight: Parameter
    /// b: [out], or nil for a convolution without bias.
    public let bias: Parameter?

    private var window: Window2d?         // geometry of the last input
    private var outputSample: [Int] = []  // [out, H', W'], kept so forward builds no arrays
    private var input: Tensor?            // x, [N, in, H, W]; not owned
    private var columns: Tensor?          // col, (C·k·k, N·H'·W')
    private var mixed: Tensor?            // z = W·col, (out, N·H'·W'); dz in backward
    private var output: Tensor?           // y, [N, out, H', W']
    private var columnGrad: Tensor?       // dcol, (C·k·k, N·H'·W')
    private var inputGrad: Tensor?        // dx, [N, in, H, W]
    private var direct = false            // the last forward ran the direct convolution

    /// A convolution from `inChannels` to `outChannels` with a `kernelSize` × `kernelSize` kernel (weights drawn by ``initialize(using:)``).
    ///
    /// - Precondition: channels and kernel size positive, stride positive, padding non-negative.
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true) {
        precondition(inChannels > 0 && outChannels > 0 && kernelSize > 0 && stride > 0 && padding >= 0,
                     "Conv2d needs positive channels, kernel and stride and a non-negative padding")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        weight = Parameter(name: "weight", value: Tensor(shape: [outChannels, inChannels, kernelSize, kernelSize]))
        self.bias = bias ? Parameter(name: "bias", value: Tensor(shape: [outChannels])) : nil
    }

    open var summary: String {
        "Conv2d(\(inChannels) → \(outChannels), k\(kernelSize)"
            + (stride != 1 ? ", stride \(stride)" : "") + (padding != 0 ? ", pad \(padding)" : "")
            + (bias == nil ? ", no bias" : "") + ")"
    }

    open var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

    // [in, H, W] -> [out, H', W']
    open func outputShape(forInputShape shape: [Int]) throws -> [Int] {
        guard shape.count == 3, shape[0] == inChannels else {
            throw BackpropError.shapeMismatch(
                "expects input shape [\(inChannels), H, W], got \(shapeText(shape))")
        }
        let w = geometry(height: shape[1], width: shape[2])
        guard w.fits else {
            throw BackpropError.shapeMismatch(
                "a \(kernelSize)x\(kernelSize) kernel does not fit input shape \(shapeText(shape)) with padding \(padding)")
        }
        return [outChannels, w.outHeight, w.outWidth]
    }

    private func geometry(height: Int, width: Int) -> Window2d {
        Window2d(channels: inChannels, height: height, width: width, kernelHeight: kernelSize,
                 kernelWidth: kernelSize, stride: stride, padding: padding)
    }

    open func initialize(using rng: inout SeededGenerator) {
        let fanIn = inChannels * kernelSize * kernelSize, fanOut = outChannels * kernelSize * kernelSize
        Initializer.heUniform.fill(weight.value, fanIn: fanIn, fanOut: fanOut, using: &rng)
        if let bias { Initializer.zeros.fill(bias.value, fanIn: fanIn, fanOut: fanOut, using: &rng) }
    }

    // x: [N, in, H, W] -> y: [N, out, H', W']
    open func forward(_ x: Tensor, backend: any Backend) -> Tensor {
        precondition(x.rank == 4 && x.shape[1] == inChannels, "\(summary): input shape \(x.shape)")
        let batch = x.shape[0]
        let w: Window2d
        if let last = window, last.height == x.shape[2], last.width == x.shape[3] {
            w = last
        } else {
            w = geometry(height: x.shape[2], width: x.shape[3])
            window = w
            outputSample = [outChannels, w.outHeight, w.outWidth]
        }
        input = x
        direct = stride == 1 && backend.prefersDirectConvolution
        if direct {
            let y = Tensor.reuse(output, batch: batch, sample: outputSample)
            output = y
            // x: [N, in, H, W] -> y: [N, out, H', W'], bias added in the same pass
            backend.conv2dForward(x.data, batch: batch, window: w, weight: weight.value.data,
                                  bias: bias?.value.data, outChannels: outChannels, y: y.data)
            return y
        }
        let positions = batch * w.outPositions
        let col = Tensor.reuse(columns, rows: w.patchSize, cols: positions)
        columns = col
        let z = Tensor.reuse(mixed, rows: outChannels, cols: positions)
        mixed = z
        let y = Tensor.reuse(output, batch: batch, sample: outputSample)
        output = y
        backend.im2col(x.data, batch: batch, window: w, col: col.data)
        // W: (out, C·k·k) · col: (C·k·k, N·H'·W') -> z: (out, N, H'·W'), one GEMM for the batch
        backend.gemm(transA: false, transB: false, m: outChannels, n: positions, k: w.patchSize,
                     alpha: 1, a: weight.value.data, lda: w.patchSize, b: col.data, ldb: positions,
                     beta: 0, c: z.data, ldc: positions)
        // z: (out, N, H'·W') -> y: (N, out, H'·W')
        backend.swapLeadingAxes(z.data, a: outChannels, b: batch, inner: w.outPositions, y: y.data)
        if let bias {
            backend.addChannelBias(y.data, bias: bias.value.data, batch: batch, channels: outChannels,
                                   spatial: w.outPositions)
        }
        return y
    }

    // dy: [N, out, H', W'] -> dW: [out, in, k, k], db: [out], dx: [N, in, H, W]
    open func backward(_ dy: Tensor, backend: any Backend, needsInputGradient: Bool) -> Tensor {
        guard let x = input, let w = window else { preconditionFailure("\(summary): backward before forward") }
        let batch = x.shape[0], positions = batch * w.outPositions
        precondition(dy.count == outChannels * positions, "\(summary): gradient shape mismatch")
        if direct { return directBackward(dy, x: x, window: w, backend: backend, needsInputGradient: needsInputGradient) }
        guard let col = columns, let dz = mixed else { preconditionFailure("\(summary): backward before forward") }
        // dy: (N, out, H'·W') -> dz: (out, N·H'·W') (reusing the forward's z buffer)
        backend.swapLeadingAxes(dy.data, a: batch, b: outChannels, inner: w.outPositions, y: dz.data)
        weight.writeGradient { grad, accumulate in
            // dz: (out, N·H'·W') · colᵀ: (N·H'·W', C·k·k) -> dW: (out, C·k·k)
            backend.gemm(transA: false, transB: true, m: outChannels, n: w.patchSize, k: positions,
                         alpha: 1, a: dz.data, lda: positions, b: col.data, ldb: positions,
                         beta: accumulate ? 1 : 0, c: grad.data, ldc: w.patchSize)
        }
        bias?.writeGradient { grad, accumulate in
            backend.sumChannels(dy.data, batch: batch, channels: outChannels, spatial: w.outPositions,
                                into: grad.data, accumulate: accumulate)
        }
        let dx = Tensor.reuse(inputGrad, shape: x.shape)
        inputGrad = dx
        guard needsInputGradient else { return dx }
        let dcol = Tensor.reuse(columnGrad, rows: w.patchSize, cols: positions)
        columnGrad = dcol
        // Wᵀ: (C·k·k, out) · dz: (out, N·H'·W') -> dcol: (C·k·k, N·H'·W')
        backend.gemm(transA: true, transB: false, m: w.patchSize, n: positions, k: outChannels,
                     alpha: 1, a: weight.value.data, lda: w.patchSize, b: dz.data, ldb: positions,
                     beta: 0, c: dcol.data, ldc: positions)
        backend.col2im(dcol.data, batch: batch, window: w, dx: dx.data)
        return dx
    }

    // The direct path: dy: [N, out, H', W'] -> dW, db, dx without a patch matrix.
    private func directBackward(_ dy: Tensor, x: Tensor, window w: Window2d, backend: any Backend,
                                needsInputGradient: Bool) -> Tensor {
        let batch = x.shape[0]
        // dW and db in one pass over dy
        weight.writeGradient { grad, accumulate in
            if let bias {
                bias.writeGradient { biasGrad, accumulateBias in
                    backend.conv2dBackwardWeight(x.data, dy: dy.data, batch: batch, window: w, outChannels: outChannels,
                                                 into: grad.data, accumulate: accumulate,
                                                 bias: biasGrad.data, accumulateBias: accumulateBias)
                }
            } else {
                backend.conv2dBackwardWeight(x.data, dy: dy.data, batch: batch, window: w, outChannels: outChannels,
                                             into: grad.data, accumulate: accumulate, bias: nil, accumulateBias: false)
            }
        }
        let dx = Tensor.reuse(inputGrad, shape: x.shape)
        inputGrad = dx
        guard needsInputGradient else { return dx }
        backend.conv2dBackwardData(dy.data, batch: batch, window: w, weight: weight.value.data,
                                   outChannels: outChannels, dx: dx.data)
        return dx
    }
}
