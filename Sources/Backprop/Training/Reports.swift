/// Progress after one minibatch, for progress bars.
public struct BatchReport: Sendable, Equatable {
    /// 1-based epoch and the total number of epochs.
    public let epoch: Int, epochs: Int
    /// 1-based batch within the epoch and the number of batches per epoch.
    public let batch: Int, batches: Int
    /// Mean training loss over the epoch so far.
    public let loss: Double
    /// Training accuracy over the epoch so far, when the data has one.
    public let accuracy: Double?
    /// Training throughput over the epoch so far.
    public let samplesPerSecond: Double
    /// Seconds since the epoch started.
    public let seconds: Double
}

/// The result of one epoch.
public struct EpochReport: Sendable, Equatable {
    /// 1-based epoch and the total number of epochs.
    public let epoch: Int, epochs: Int
    /// Mean training loss over the epoch (measured before each step's update).
    public let trainLoss: Double
    /// Training accuracy over the epoch, when the data has labels.
    public let trainAccuracy: Double?
    /// Loss and accuracy on the validation set, when one was given.
    public let testLoss: Double?
    /// See ``testLoss``.
    public let testAccuracy: Double?
    /// Training throughput over the epoch.
    public let samplesPerSecond: Double
    /// Wall-clock seconds the epoch took (validation excluded).
    public let seconds: Double
}

/// Outputs for a batch of inputs.
public struct Prediction: Sendable {
    /// (samples, outputs): class probabilities (softmax or sigmoid), or raw outputs for MSE.
    public let probabilities: Tensor
    /// The predicted class per sample, for classifiers (argmax, or output > threshold for one
    /// binary output); nil for regression. The same type as ``Dataset/labels``, so the two
    /// compare directly: `zip(prediction.classes!, data.labels!).filter { $0 == $1 }.count`.
    public let classes: [Int32]?
}
