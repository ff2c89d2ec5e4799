/// Prediction straight from a checkpoint, and checkpoints straight from a trainer: the saved
/// normalization and output activation are applied for the caller, as a PyTorch or Keras user
/// expects of a saved model.
extension ModelCheckpoint {
    /// Classes and probabilities (or regression outputs) for raw feature rows, in the same units
    /// as the training file: the saved ``normalizer`` is applied first, then the model, then the
    /// output activation of the saved ``loss`` (softmax for cross-entropy, sigmoid for binary
    /// cross-entropy, none for MSE).
    ///
    /// Flat rows are given the saved ``inputShape`` (a CSV row of 784 values becomes a
    /// `[1, 28, 28]` image for a CNN).
    ///
    /// - Parameters:
    ///   - features: (samples, features) raw inputs, or [samples] + ``inputShape``; not
    ///     modified. With an ``inputShape`` (a CNN's `1x28x28`), a flat row is one flattened sample.
    ///   - backend: where to compute (``defaultBackend(threads:)`` when in doubt).
    /// - Returns: the ``Prediction``; `classes` is set for classifiers. For binary
    ///   cross-entropy `probabilities` has one column, σ(logit), the probability of class 1.
    /// - Throws: ``BackpropError/shapeMismatch(_:)`` when the rows have the wrong width.
    public func predict(_ features: Tensor, backend: any Backend) throws -> Prediction {
        var inputs = try normalizer?.apply(to: features) ?? features
        if let inputShape, features.rank == 2, features.cols == inputShape.reduce(1, *) {
            if inputs === features { inputs = features.copy() }
            try inputs.reshape(to: [inputs.rows] + inputShape)
        }
        return try model.predict(inputs, loss: loss, backend: backend)
    }

    /// ``predict(_:backend:)`` for rows given as arrays, e.g. parsed from a CSV line.
    ///
    /// - Parameters:
    ///   - rows: one array of raw feature values per sample; all the same length.
    ///   - backend: where to compute.
    /// - Throws: ``BackpropError/shapeMismatch(_:)`` for ragged or wrongly sized rows.
    public func predict(rows: [[Float]], backend: any Backend) throws -> Prediction {
        let width = rows.first?.count ?? 0
        guard rows.allSatisfy({ $0.count == width }) else {
            throw BackpropError.shapeMismatch("prediction rows have different lengths (\(Set(rows.map(\.count)).sorted()))")
        }
        let features = try Tensor(rows: rows.count, cols: width, values: rows.flatMap { $0 })
        return try predict(features, backend: backend)
    }

    /// ``Sequential/evaluate(_:loss:backend:batchSize:)`` of the saved model with its saved loss,
    /// on a dataset of raw features (same units as the training file): the saved normalization
    /// is applied first, and flat samples are given the saved ``inputShape``. The path
    /// `backprop eval` takes.
    ///
    /// - Parameters:
    ///   - data: raw features and their labels or targets.
    ///   - backend: where to compute.
    /// - Throws: ``BackpropError/shapeMismatch(_:)`` when the data does not fit the model.
    public func evaluate(_ data: Dataset, backend: any Backend) throws -> Evaluation {
        var inputs = try normalizer?.apply(to: data) ?? data
        if let inputShape, inputs.sampleShape != inputShape, inputs.featureCount == inputShape.reduce(1, *) {
            inputs = try inputs.withSampleShape(inputShape)
        }
        return try model.evaluate(inputs, loss: loss, backend: backend)
    }
}

extension Trainer {
    /// A checkpoint of this trainer's model that knows its loss and class count, with the
    /// optimizer's state and the run's progress so that training can resume from it.
    ///
    /// - Parameters:
    ///   - normalizer: the normalization fitted on the training data, saved so that
    ///     ``ModelCheckpoint/predict(_:backend:)`` takes raw features.
    ///   - classCount: the number of classes; nil (the default) infers it from the loss and the
    ///     model: the output width for cross-entropy, 2 for one binary output, none for MSE.
    /// - Throws: ``BackpropError/shapeMismatch(_:)`` when the class count cannot be inferred
    ///   because the model has no fixed output width.
    public func checkpoint(normalizer: Normalizer? = nil, classCount: Int? = nil) throws -> ModelCheckpoint {
        var classes = classCount
        if classes == nil, loss.kind != .mse, let width = model.outputWidthIfFixed {
            classes = loss.kind == .crossEntropy ? width : 2
        }
        return ModelCheckpoint(model: model, loss: loss, normalizer: normalizer, classCount: classes,
                               optimizer: optimizer, trainingState: state)
    }

    /// Saves ``checkpoint(normalizer:classCount:)`` atomically to `path`.
    ///
    /// - Parameters:
    ///   - path: the file to write (replaced atomically).
    ///   - normalizer: the normalization fitted on the training data, if any.
    /// - Throws: ``BackpropError/io(path:message:)`` when the file cannot be written.
    public func save(to path: String, normalizer: Normalizer? = nil) throws {
        try checkpoint(normalizer: normalizer).save(to: path)
    }
}

extension Sequential {
    /// The width of the last layer that fixes one (a ``Dense``), or nil for a model without.
    var outputWidthIfFixed: Int? {
        for layer in layers.reversed() {
            if let dense = layer as? Dense { return dense.outputs }
        }
        return nil
    }
}
