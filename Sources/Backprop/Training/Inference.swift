extension Sequential {
    /// Loss, accuracy and (for classes) the confusion matrix of this model on `data`,
    /// computed in batches of `batchSize` without changing any parameter, in evaluation mode
    /// (the model is left in evaluation mode, as after ``eval()``).
    /// - Throws: ``BackpropError/shapeMismatch(_:)`` when the data does not fit the model.
    public func evaluate(_ data: Dataset, loss: Loss, backend: any Backend, batchSize: Int = 512) throws -> Evaluation {
        guard batchSize >= 1 else { throw BackpropError.invalidArgument("batch size must be at least 1, got \(batchSize)") }
        let sampleShape = data.sampleShape
        let width = try outputShape(forInputShape: sampleShape).reduce(1, *)
        guard width == data.outputCount else {
            throw BackpropError.shapeMismatch("the model outputs \(width) values per sample but the data needs \(data.outputCount)")
        }
        var confusion = data.labels.map { _ in Array(repeating: Array(repeating: 0, count: width), count: width) }
        var lossSum = 0.0, correct = 0
        eval()
        var scratch: Tensor?
        var lower = 0
        while lower < data.count {
            let rows = min(batchSize, data.count - lower)
            let x = try Tensor(shape: [rows] + sampleShape,
                               values: Array(UnsafeBufferPointer(start: data.features.data + lower * data.featureCount,
                                                                 count: rows * data.featureCount)))
            let output = forward(x, backend: backend)
            let grad = Tensor(rows: output.rows, cols: output.cols)
            switch data.targets {
            case .labels(let labels, _):
                let batchLabels = Array(labels[lower..<lower + rows])
                lossSum += batchLabels.withUnsafeBufferPointer {
                    loss.compute(output: output, labels: $0.baseAddress, targets: nil, grad: grad,
                                 scratch: &scratch, backend: backend)
                } * Double(rows)
                var predicted = [Int32](repeating: 0, count: rows)
                predicted.withUnsafeMutableBufferPointer {
                    backend.argmaxRows(output.data, rows: rows, cols: output.cols, into: $0.baseAddress!)
                }
                for r in 0..<rows {
                    let actual = Int(batchLabels[r]), guess = Int(predicted[r])
                    confusion![actual][guess] += 1
                    if actual == guess { correct += 1 }
                }
            case .values(let targets):
                let t = try Tensor(rows: rows, cols: targets.cols,
                                   values: Array(UnsafeBufferPointer(start: targets.data + lower * targets.cols,
                                                                     count: rows * targets.cols)))
                lossSum += loss.compute(output: output, labels: nil, targets: t, grad: grad,
                                        scratch: &scratch, backend: backend) * Double(rows)
                if width == 1 {
                    for r in 0..<rows where loss.predictsPositive(output.data[r]) == (t.data[r] > 0.5) { correct += 1 }
                }
            }
            lower += rows
        }
        let hasAccuracy = data.labels != nil || width == 1
        let meanLoss = lossSum / Double(max(data.count, 1))
        return Evaluation(loss: loss.reduction == .sum ? lossSum : meanLoss,
                          accuracy: hasAccuracy ? Double(correct) / Double(max(data.count, 1)) : nil,
                          count: data.count, confusion: confusion)
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
