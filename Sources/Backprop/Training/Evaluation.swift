/// What a model scored on a dataset: ``Sequential/evaluate(_:loss:backend:batchSize:)``'s result.
///
/// Classification — data with class labels, or a classification loss (cross-entropy, binary
/// cross-entropy) — gives an accuracy and a confusion matrix; MSE on real-valued targets is
/// regression and gives the loss and the mean absolute error. Switch on the case, or take the
/// one you expect:
///
/// ```swift
/// let accuracy = try trainer.evaluate(test).classification?.accuracy
/// switch try model.evaluate(test, loss: .mse(), backend: backend) {
/// case .classification(let result): print(result.accuracy, result.confusion)
/// case .regression(let result): print(result.loss, result.meanAbsoluteError)
/// }
/// ```
public enum Evaluation: Sendable, Equatable {
    /// Accuracy, confusion matrix and loss, for classification.
    case classification(Classification)
    /// Loss and mean absolute error, for regression.
    case regression(Regression)

    /// The result of a classifier: loss, accuracy and confusion matrix.
    public struct Classification: Sendable, Equatable {
        /// The loss, reduced as the loss says (the mean unless it sums).
        public let loss: Double
        /// Fraction of correct decisions: the confusion matrix's diagonal over its total.
        public let accuracy: Double
        /// Number of samples.
        public let count: Int
        /// `confusion[actual][predicted]` counts: one decision per sample (the argmax of the
        /// outputs against the label or the target row's argmax), or for binary cross-entropy one
        /// per output value (2×2: logit > 0 against target > 0.5).
        public let confusion: [[Int]]

        /// A classification result from its confusion matrix.
        ///
        /// - Parameters:
        ///   - loss: the loss over the samples.
        ///   - count: the number of samples.
        ///   - confusion: `confusion[actual][predicted]` counts; ``accuracy`` is its diagonal
        ///     over its total (0 for an empty matrix).
        public init(loss: Double, count: Int, confusion: [[Int]]) {
            self.loss = loss
            self.count = count
            self.confusion = confusion
            let total = confusion.reduce(0) { $0 + $1.reduce(0, +) }
            let diagonal = confusion.indices.reduce(0) { $0 + confusion[$1][$1] }
            accuracy = total == 0 ? 0 : Double(diagonal) / Double(total)
        }

        /// Number of correct decisions (the confusion matrix's diagonal).
        public var correct: Int { confusion.indices.reduce(0) { $0 + confusion[$1][$1] } }

        /// Per class: correct predictions of the class / all predictions of the class (0 when none).
        public var precision: [Double] {
            confusion.indices.map { c in
                let predicted = confusion.reduce(0) { $0 + $1[c] }
                return predicted == 0 ? 0 : Double(confusion[c][c]) / Double(predicted)
            }
        }

        /// Per class: correct predictions of the class / samples of the class (0 when none).
        public var recall: [Double] {
            confusion.indices.map { c in
                let actual = support[c]
                return actual == 0 ? 0 : Double(confusion[c][c]) / Double(actual)
            }
        }

        /// Per class: how many decisions had the class as the true one.
        public var support: [Int] { confusion.map { $0.reduce(0, +) } }
    }

    /// The result of a regression: loss and mean absolute error.
    public struct Regression: Sendable, Equatable {
        /// The loss, reduced as the loss says (the mean squared error unless it sums).
        public let loss: Double
        /// Mean of |output − target| over every output value.
        public let meanAbsoluteError: Double
        /// Number of samples.
        public let count: Int

        /// A regression result.
        ///
        /// - Parameters:
        ///   - loss: the loss over the samples.
        ///   - meanAbsoluteError: mean of |output − target| over every output value.
        ///   - count: the number of samples.
        public init(loss: Double, meanAbsoluteError: Double, count: Int) {
            self.loss = loss
            self.meanAbsoluteError = meanAbsoluteError
            self.count = count
        }
    }

    /// The loss, whichever the kind.
    public var loss: Double {
        switch self {
        case .classification(let result): result.loss
        case .regression(let result): result.loss
        }
    }

    /// Number of samples, whichever the kind.
    public var count: Int {
        switch self {
        case .classification(let result): result.count
        case .regression(let result): result.count
        }
    }

    /// The classification result, or nil for a regression.
    public var classification: Classification? {
        if case .classification(let result) = self { return result }
        return nil
    }

    /// The regression result, or nil for a classification.
    public var regression: Regression? {
        if case .regression(let result) = self { return result }
        return nil
    }
}

// Source compatibility with 0.1, where `Evaluation` was one struct with optional fields.
extension Evaluation {
    /// The accuracy of a classification, nil for a regression.
    @available(*, deprecated, message: "use classification?.accuracy, or switch on the evaluation")
    public var accuracy: Double? { classification?.accuracy }

    /// The confusion matrix of a classification, nil for a regression.
    @available(*, deprecated, message: "use classification?.confusion")
    public var confusion: [[Int]]? { classification?.confusion }

    /// Per-class precision of a classification, nil for a regression.
    @available(*, deprecated, message: "use classification?.precision")
    public var precision: [Double]? { classification?.precision }

    /// Per-class recall of a classification, nil for a regression.
    @available(*, deprecated, message: "use classification?.recall")
    public var recall: [Double]? { classification?.recall }

    /// A classification when `confusion` is given, else a regression with an unknown (NaN)
    /// mean absolute error; `accuracy` is ignored (it follows from the confusion matrix).
    @available(*, deprecated, message: "use .classification(.init(loss:count:confusion:)) or .regression(.init(loss:meanAbsoluteError:count:))")
    public init(loss: Double, accuracy: Double?, count: Int, confusion: [[Int]]?) {
        if let confusion {
            self = .classification(Classification(loss: loss, count: count, confusion: confusion))
        } else {
            self = .regression(Regression(loss: loss, meanAbsoluteError: .nan, count: count))
        }
    }
}
