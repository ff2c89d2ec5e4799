extension Sequential {
    /// Loss and, for classification, accuracy and confusion matrix of this model on `data`
    /// (for regression, the mean absolute error), computed in batches of `batchSize` without
    /// changing any parameter, in evaluation mode (the model is left in evaluation mode, as
    /// after ``eval()``).
    ///
    /// This is the one evaluation of the library; ``Trainer/evaluate(_:batchSize:)`` calls it with
    /// the trainer's loss and backend, and ``ModelCheckpoint/evaluate(_:backend:)`` with the
    /// checkpoint's loss after applying its saved normalization to raw data.
    ///
    /// The result is a classification for data with class labels or a classification loss
    /// (cross-entropy, binary cross-entropy), a regression for MSE on target values; see
    /// ``Evaluation`` for how the decisions are made.
    /// - Throws: ``BackpropError/shapeMismatch(_:)`` when the data does not fit the model,
    ///   ``BackpropError/invalidArgument(_:)`` for a batch size below 1.
    public func evaluate(_ data: Dataset, loss: Loss, backend: any Backend, batchSize: Int = 512) throws -> Evaluation {
        guard batchSize >= 1 else { throw BackpropError.invalidArgument("batch size must be at least 1, got \(batchSize)") }
        let sampleShape = data.sampleShape
        let width = try outputShape(forInputShape: sampleShape).reduce(1, *)
        guard width == data.outputCount else {
            throw BackpropError.shapeMismatch("the model outputs \(width) values per sample but the data needs \(data.outputCount)")
        }
        let rule = DecisionRule(loss: loss, data: data)
        let classes = rule.classCount(width: width)
        var confusion = Array(repeating: Array(repeating: 0, count: rule == .regression ? 0 : classes),
                              count: rule == .regression ? 0 : classes)
        var lossSum = 0.0, absoluteErrorSum = 0.0
        eval()
        var scratch: Tensor?
        var predicted = [Int32]()
        var lower = 0
        while lower < data.count {
            let rows = min(batchSize, data.count - lower)
            let x = try Tensor(shape: [rows] + sampleShape,
                               values: Array(UnsafeBufferPointer(start: data.features.data + lower * data.featureCount,
                                                                 count: rows * data.featureCount)))
            let output = forward(x, backend: backend)
            let grad = Tensor(rows: output.rows, cols: output.cols)
            // A mean loss is weighted by the batch's rows; a summed one is already a sum.
            let weight = loss.reduction == .sum ? 1 : Double(rows)
            switch data.targets {
            case .labels(let labels, _):
                let batchLabels = Array(labels[lower..<lower + rows])
                batchLabels.withUnsafeBufferPointer {
                    lossSum += loss.compute(output: output, labels: $0.baseAddress, targets: nil, grad: grad,
                                            scratch: &scratch, backend: backend) * weight
                    rule.forEachDecision(output: output, labels: $0.baseAddress, targets: nil, backend: backend,
                                         predicted: &predicted) { confusion[$0][$1] += 1 }
                }
            case .values(let targets):
                let t = try Tensor(rows: rows, cols: targets.cols,
                                   values: Array(UnsafeBufferPointer(start: targets.data + lower * targets.cols,
                                                                     count: rows * targets.cols)))
                lossSum += loss.compute(output: output, labels: nil, targets: t, grad: grad,
                                        scratch: &scratch, backend: backend) * weight
                rule.forEachDecision(output: output, labels: nil, targets: t.data, backend: backend,
                                     predicted: &predicted) { confusion[$0][$1] += 1 }
                if rule == .regression {
                    for i in 0..<t.count { absoluteErrorSum += Double(abs(output.data[i] - t.data[i])) }
                }
            }
            lower += rows
        }
        let meanLoss = lossSum / Double(max(data.count, 1))
        let reported = loss.reduction == .sum ? lossSum : meanLoss
        if rule == .regression {
            let values = max(data.count * width, 1)
            return .regression(.init(loss: reported, meanAbsoluteError: absoluteErrorSum / Double(values), count: data.count))
        }
        return .classification(.init(loss: reported, count: data.count, confusion: confusion))
    }

    /// Probabilities (or raw outputs for MSE) and predicted classes for the samples of `x`,
    /// `[samples] + sample shape` (a `(samples, features)` matrix is taken as flat samples),
    /// in evaluation mode (the model is left in evaluation mode).
    /// - Throws: ``BackpropError/shapeMismatch(_:)`` when `x` does not fit the model.
    public func predict(_ x: Tensor, loss: Loss, backend: any Backend) throws -> Prediction {
        let width = try outputShape(forInputShape: x.rank < 2 ? [x.cols] : x.sampleShape).reduce(1, *)
        eval()
        let output = forward(x, backend: backend).copy()
        switch loss.outputActivation {
        case .softmax:
            backend.softmaxRows(output.data, y: output.data, rows: output.rows, cols: output.cols)
        case .sigmoid:
            backend.activationForward(.sigmoid, x: output.data, y: output.data, count: output.count)
        case .identity:
            break
        }
        var classes: [Int32]?
        if loss.kind == .crossEntropy || (width > 1 && loss.kind == .mse) {
            var out = [Int32](repeating: 0, count: output.rows)
            out.withUnsafeMutableBufferPointer {
                backend.argmaxRows(output.data, rows: output.rows, cols: output.cols, into: $0.baseAddress!)
            }
            classes = out
        } else if width == 1 {
            classes = (0..<output.rows).map { output.data[$0] > 0.5 ? 1 : 0 }
        }
        return Prediction(probabilities: output, classes: classes)
    }
}
