/// The primitive operations ``OpVerifier`` compares, one per ``Backend`` requirement (the
/// activation and loss requirements split by kind, and a loss's returned value apart from its
/// gradient, since each has its own tolerance).
public enum VerifiedOp: String, Sendable, CaseIterable, Codable, CustomStringConvertible {
    /// GEMM: C = α·op(A)·op(B) + β·C.
    case gemm = "gemm"
    /// Adds a bias row to every row.
    case addBias = "add_bias"
    /// Sums each column over the rows.
    case sumColumns = "sum_columns"
    /// ReLU forward.
    case reluForward = "relu_forward"
    /// Sigmoid forward.
    case sigmoidForward = "sigmoid_forward"
    /// Tanh forward.
    case tanhForward = "tanh_forward"
    /// ReLU backward.
    case reluBackward = "relu_backward"
    /// Sigmoid backward.
    case sigmoidBackward = "sigmoid_backward"
    /// Tanh backward.
    case tanhBackward = "tanh_backward"
    /// Softmax of each row.
    case softmaxRows = "softmax_rows"
    /// The gradient of softmax cross-entropy with class labels.
    case softmaxCrossEntropyLabels = "softmax_xent_labels"
    /// The loss value of softmax cross-entropy with class labels.
    case softmaxCrossEntropyLabelsLoss = "softmax_xent_labels_loss"
    /// The gradient of softmax cross-entropy with target rows.
    case softmaxCrossEntropyTargets = "softmax_xent_targets"
    /// The loss value of softmax cross-entropy with target rows.
    case softmaxCrossEntropyTargetsLoss = "softmax_xent_targets_loss"
    /// The gradient of the squared error.
    case squaredError = "squared_error"
    /// The loss value of the squared error.
    case squaredErrorLoss = "squared_error_loss"
    /// The gradient of binary cross-entropy on logits.
    case binaryCrossEntropy = "bce_logits"
    /// The loss value of binary cross-entropy on logits.
    case binaryCrossEntropyLoss = "bce_logits_loss"
    /// The index of each row's maximum.
    case argmaxRows = "argmax_rows"
    /// Fills a buffer with one value.
    case fill = "fill"
    /// Copies a buffer.
    case copy = "copy"
    /// Multiplies a buffer by a scalar.
    case scale = "scale"
    /// The sum of squares of a buffer.
    case sumOfSquares = "sum_of_squares"
    /// The SGD update.
    case sgdUpdate = "sgd_update"
    /// The Adam update.
    case adamUpdate = "adam_update"
    /// Unfolds image patches into columns.
    case im2col = "im2col"
    /// Folds columns back into images, adding overlaps (the adjoint of im2col).
    case col2im = "col2im"
    /// Swaps the two leading axes of a 3-D array.
    case swapLeadingAxes = "swap_leading_axes"
    /// Max pooling forward, with argmax indices.
    case maxPool2dForward = "maxpool2d_forward"
    /// Max pooling backward.
    case maxPool2dBackward = "maxpool2d_backward"
    /// Average pooling forward.
    case avgPool2dForward = "avgpool2d_forward"
    /// Average pooling backward.
    case avgPool2dBackward = "avgpool2d_backward"
    /// Adds a per-channel bias.
    case addChannelBias = "add_channel_bias"
    /// Sums each channel over batch and positions.
    case sumChannels = "sum_channels"
    /// Per-channel batch mean and variance.
    case batchNormStatistics = "batchnorm_statistics"
    /// Batch normalization forward.
    case batchNormForward = "batchnorm_forward"
    /// Batch normalization backward.
    case batchNormBackward = "batchnorm_backward"
    /// Elementwise product.
    case multiply = "multiply"
    /// Direct 2-D convolution forward, bias included.
    case conv2dForward = "conv2d_forward"
    /// Direct 2-D convolution input gradient.
    case conv2dBackwardData = "conv2d_backward_data"
    /// Direct 2-D convolution weight (and bias) gradient.
    case conv2dBackwardWeight = "conv2d_backward_weight"

    /// The op's name in reports, e.g. `gemm`, `softmax_xent_labels`.
    public var description: String { rawValue }

    /// The forward op of an activation.
    static func forward(_ kind: Activation) -> VerifiedOp {
        switch kind {
        case .relu: .reluForward
        case .sigmoid: .sigmoidForward
        case .tanh: .tanhForward
        }
    }

    /// The backward op of an activation.
    static func backward(_ kind: Activation) -> VerifiedOp {
        switch kind {
        case .relu: .reluBackward
        case .sigmoid: .sigmoidBackward
        case .tanh: .tanhBackward
        }
    }
}
