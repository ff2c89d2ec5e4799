/// Batch normalization over the channel dimension, with PyTorch's semantics: in training mode
/// each channel is normalized with the batch's mean and biased variance, and the running
/// estimates move by `momentum` (0.1) toward the batch mean and the unbiased variance; in
/// evaluation mode the running estimates are used. eps = 1e-5. Affine weight (γ, ones) and bias
/// (β, zeros) are parameters; `running_mean` and `running_var` are buffers (never optimized).
///
/// Backward works in both modes, as in PyTorch: after a training-mode forward it differentiates
/// through the batch statistics; after an evaluation-mode forward the running estimates are
/// constants, so dx = γ·dy / sqrt(running_var + eps), dγ = Σ dy·x̂ and dβ = Σ dy (input
/// gradients of a trained model, e.g. a saliency map, or fine-tuning with frozen statistics).
///
/// Subclasses fix the input rank: ``BatchNorm1d`` takes [N, C], ``BatchNorm2d`` [N, C, H, W].
open class BatchNorm: Layer {
    /// C: the number of channels (features) normalized.
    public let features: Int
    /// How far the running estimates move toward each batch's statistics (PyTorch's default 0.1).
    public let momentum: Float
    /// Added to the variance before the square root (PyTorch's default 1e-5).
    public let epsilon: Float
    /// γ: [C].
    public let weight: Parameter
    /// β: [C].
    public let bias: Parameter
    /// [C], starts at 0.
    public let runningMean: Buffer
    /// [C], starts at 1.
    public let runningVariance: Buffer
    /// How many spatial dimensions follow the channel: 0 for 1-D, 2 for 2-D.
    let spatialRank: Int
    private var mode: LayerMode = .training
    private var usedBatchStatistics = false
    private let batchMean: Tensor      // [C]
    private let batchVariance: Tensor  // [C], biased
    private let zeros: Tensor          // [C], the mean and shift of the evaluation-mode dx
    private var input: Tensor?         // x of an evaluation-mode forward (x̂ is rebuilt from it)
    private var normalized: Tensor?    // xhat, same shape as x
    private var output: Tensor?        // y, same shape as x
    private var inputGrad: Tensor?     // dx, same shape as x

    init(features: Int, spatialRank: Int, momentum: Float, epsilon: Float) {
        precondition(features > 0 && momentum >= 0 && momentum <= 1 && epsilon > 0,
                     "BatchNorm needs positive features and eps and a momentum in [0, 1]")
        self.features = features
        self.spatialRank = spatialRank
        self.momentum = momentum
        self.epsilon = epsilon
        weight = Parameter(name: "weight", value: Tensor(shape: [features], repeating: 1))
        bias = Parameter(name: "bias", value: Tensor(shape: [features]))
        runningMean = Buffer(name: "running_mean", value: Tensor(shape: [features]))
        runningVariance = Buffer(name: "running_var", value: Tensor(shape: [features], repeating: 1))
        batchMean = Tensor(shape: [features])
        batchVariance = Tensor(shape: [features])
        zeros = Tensor(shape: [features])
    }

    open var summary: String { "BatchNorm\(spatialRank == 0 ? 1 : 2)d(\(features))" }
    open var parameters: [Parameter] { [weight, bias] }
    open var buffers: [Buffer] { [runningMean, runningVariance] }

    open func setMode(_ mode: LayerMode) { self.mode = mode }

    open func initialize(using rng: inout SeededGenerator) {
        weight.value.data.update(repeating: 1, count: features)
        bias.value.data.update(repeating: 0, count: features)
        runningMean.value.data.update(repeating: 0, count: features)
        runningVariance.value.data.update(repeating: 1, count: features)
    }

    open func outputShape(forInputShape shape: [Int]) throws -> [Int] {
        guard shape.count == spatialRank + 1, shape[0] == features else {
            let expected = spatialRank == 0 ? "[\(features)]" : "[\(features), H, W]"
            throw BackpropError.shapeMismatch("expects input shape \(expected), got \(shapeText(shape))")
        }
        return shape
    }

    // x: [N, C, S…] -> y: same shape
    open func forward(_ x: Tensor, backend: any Backend) -> Tensor {
        let batch = x.rows, spatial = x.cols / features
        let y = Tensor.reuse(output, shape: x.shape)
        output = y
        usedBatchStatistics = mode == .training
        guard usedBatchStatistics else {
            input = x
            backend.batchNormForward(x.data, batch: batch, channels: features, spatial: spatial,
                                     mean: runningMean.value.data, variance: runningVariance.value.data,
                                     epsilon: epsilon, gamma: weight.value.data, beta: bias.value.data,
                                     xhat: nil, y: y.data)
            return y
        }
        input = nil
        let xhat = Tensor.reuse(normalized, shape: x.shape)
        normalized = xhat
        backend.batchNormStatistics(x.data, batch: batch, channels: features, spatial: spatial,
                                    mean: batchMean.data, variance: batchVariance.data)
        backend.batchNormForward(x.data, batch: batch, channels: features, spatial: spatial,
                                 mean: batchMean.data, variance: batchVariance.data, epsilon: epsilon,
                                 gamma: weight.value.data, beta: bias.value.data, xhat: xhat.data, y: y.data)
        // running = (1 − momentum)·running + momentum·batch, with the unbiased variance.
        let m = batch * spatial
        let unbiased = m > 1 ? Float(m) / Float(m - 1) : 1
        for c in 0..<features {
            runningMean.value.data[c] += momentum * (batchMean.data[c] - runningMean.value.data[c])
            runningVariance.value.data[c] += momentum * (batchVariance.data[c] * unbiased - runningVariance.value.data[c])
        }
        return y
    }

    // dy: [N, C, S…] -> dx, dγ, dβ
    open func backward(_ dy: Tensor, backend: any Backend, needsInputGradient: Bool) -> Tensor {
        guard let y = output else { preconditionFailure("\(summary): backward before forward") }
        let batch = y.rows, spatial = y.cols / features
        let dx = Tensor.reuse(inputGrad, shape: y.shape)
        inputGrad = dx
        guard usedBatchStatistics, let xhat = normalized else {
            return backwardWithRunningStatistics(dy, dx: dx, backend: backend, needsInputGradient: needsInputGradient)
        }
        weight.writeGradient { dgamma, accumulateGamma in
            bias.writeGradient { dbeta, accumulateBeta in
                // When only one of the two was reset by hand, clear it and accumulate into both.
                let accumulate = accumulateGamma && accumulateBeta
                if accumulateGamma != accumulateBeta {
                    (accumulateGamma ? dbeta : dgamma).data.update(repeating: 0, count: features)
                }
                backend.batchNormBackward(
                    dy.data, xhat: xhat.data, batch: batch, channels: features, spatial: spatial,
                    variance: batchVariance.data, epsilon: epsilon, gamma: weight.value.data,
                    dx: needsInputGradient ? dx.data : nil, dgamma: dgamma.data, dbeta: dbeta.data,
                    accumulate: accumulate || accumulateGamma != accumulateBeta)
            }
        }
        return dx
    }

    // Evaluation mode: y = γ (x − running_mean) / sqrt(running_var + eps) + β is affine in x,
    // so dy: [N, C, S…] -> dx = γ·dy / sqrt(running_var + eps), dγ = Σ_{n,s} dy·x̂, dβ = Σ_{n,s} dy.
    private func backwardWithRunningStatistics(
        _ dy: Tensor, dx: Tensor, backend: any Backend, needsInputGradient: Bool
    ) -> Tensor {
        guard let x = input else { preconditionFailure("\(summary): backward before forward") }
        let batch = x.rows, spatial = x.cols / features
        // x̂ = (x − running_mean) / sqrt(running_var + eps), then dy·x̂ in place; dx holds the
        // by-product y until it is overwritten below.
        let product = Tensor.reuse(normalized, shape: x.shape)
        normalized = product
        backend.batchNormForward(x.data, batch: batch, channels: features, spatial: spatial,
                                 mean: runningMean.value.data, variance: runningVariance.value.data,
                                 epsilon: epsilon, gamma: weight.value.data, beta: bias.value.data,
                                 xhat: product.data, y: dx.data)
        backend.multiply(dy.data, product.data, into: product.data, count: product.count)
        weight.writeGradient { dgamma, accumulate in
            backend.sumChannels(product.data, batch: batch, channels: features, spatial: spatial,
                                into: dgamma.data, accumulate: accumulate)
        }
        bias.writeGradient { dbeta, accumulate in
            backend.sumChannels(dy.data, batch: batch, channels: features, spatial: spatial,
                                into: dbeta.data, accumulate: accumulate)
        }
        if needsInputGradient {
            // The same per-channel affine map with mean 0 and shift 0, applied to dy.
            backend.batchNormForward(dy.data, batch: batch, channels: features, spatial: spatial,
                                     mean: zeros.data, variance: runningVariance.value.data, epsilon: epsilon,
                                     gamma: weight.value.data, beta: zeros.data, xhat: nil, y: dx.data)
        }
        return dx
    }
}

/// Batch normalization of [N, C] features (PyTorch's `nn.BatchNorm1d(C)` on 2-D input).
open class BatchNorm1d: BatchNorm {
    /// Batch normalization of `features` features; γ starts at ones, β at zeros, running statistics at (0, 1).
    public init(_ features: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) {
        super.init(features: features, spatialRank: 0, momentum: momentum, epsilon: epsilon)
    }
}

/// Batch normalization of [N, C, H, W] images per channel (PyTorch's `nn.BatchNorm2d(C)`).
open class BatchNorm2d: BatchNorm {
    /// Batch normalization of `channels` channels; γ starts at ones, β at zeros, running statistics at (0, 1).
    public init(_ channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) {
        super.init(features: channels, spatialRank: 2, momentum: momentum, epsilon: epsilon)
    }
}
