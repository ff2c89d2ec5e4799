/// The primitive operations ``OpVerifier`` compares, one per ``Backend`` requirement (the
/// activation and loss requirements split by kind, and a loss's returned value apart from its
/// gradient, since each has its own tolerance).
public enum VerifiedOp: String, Sendable, CaseIterable, Codable, CustomStringConvertible {
    case gemm = "gemm"
    case addBias = "add_bias"
    case sumColumns = "sum_columns"
    case reluForward = "relu_forward"
    case sigmoidForward = "sigmoid_forward"
    case tanhForward = "tanh_forward"
    case reluBackward = "relu_backward"
    case sigmoidBackward = "sigmoid_backward"
    case tanhBackward = "tanh_backward"
    case softmaxRows = "softmax_rows"
    case softmaxCrossEntropyLabels = "softmax_xent_labels"
    case softmaxCrossEntropyLabelsLoss = "softmax_xent_labels_loss"
    case softmaxCrossEntropyTargets = "softmax_xent_targets"
    case softmaxCrossEntropyTargetsLoss = "softmax_xent_targets_loss"
    case squaredError = "squared_error"
    case squaredErrorLoss = "squared_error_loss"
    case binaryCrossEntropy = "bce_logits"
    case binaryCrossEntropyLoss = "bce_logits_loss"
    case argmaxRows = "argmax_rows"
    case fill = "fill"
    case copy = "copy"
    case scale = "scale"
    case sumOfSquares = "sum_of_squares"
    case sgdUpdate = "sgd_update"
    case adamUpdate = "adam_update"
    case im2col = "im2col"
    case col2im = "col2im"
    case swapLeadingAxes = "swap_leading_axes"
    case maxPool2dForward = "maxpool2d_forward"
    case maxPool2dBackward = "maxpool2d_backward"
    case avgPool2dForward = "avgpool2d_forward"
    case avgPool2dBackward = "avgpool2d_backward"
    case addChannelBias = "add_channel_bias"
    case sumChannels = "sum_channels"
    case batchNormStatistics = "batchnorm_statistics"
    case batchNormForward = "batchnorm_forward"
    case batchNormBackward = "batchnorm_backward"
    case multiply = "multiply"
    case conv2dForward = "conv2d_forward"
    case conv2dBackwardData = "conv2d_backward_data"
    case conv2dBackwardWeight = "conv2d_backward_weight"

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
