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

/// Loss and accuracy on a dataset; for classification also the confusion matrix.
public struct Evaluation: Sendable, Equatable {
    /// The mean loss.
    public let loss: Double
    /// Fraction of correct predictions, when the data has classes (or one binary output).
    public let accuracy: Double?
    /// Number of samples.
    public let count: Int
    /// confusion[actual][predicted] counts, for classification data.
    public let confusion: [[Int]]?

    /// Per class: correct predictions of the class / all predictions of the class (0 when none).
    public var precision: [Double]? {
        confusion.map { m in
            (0..<m.count).map { c in
                let predicted = m.reduce(0) { $0 + $1[c] }
                return predicted == 0 ? 0 : Double(m[c][c]) / Double(predicted)
            }
        }
    }

    /// Per class: correct predictions of the class / samples of the class (0 when none).
    public var recall: [Double]? {
        confusion.map { m in
            m.indices.map { c in
                let actual = m[c].reduce(0, +)
                return actual == 0 ? 0 : Double(m[c][c]) / Double(actual)
            }
        }
    }
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
