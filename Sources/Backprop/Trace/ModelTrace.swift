/// `backprop trace --model FILE --input ROW`: one input of the user's own saved network through
/// the forward pass, the loss, the backward pass and one SGD update, in the format of the
/// built-in examples.
extension BackpropTrace {
    /// What the traced input is compared with.
    public enum Target: Sendable, Equatable {
        /// A class id, for cross-entropy and binary cross-entropy models (the type of
        /// ``Dataset/labels`` and ``Prediction/classes``).
        case label(Int32)
        /// One value per output, for MSE models.
        case values([Float])
    }

    /// Traces one input of a loaded checkpoint's dense network.
    ///
    /// The checkpoint's own normalization is applied to `input` first, and the model is the
    /// checkpoint's: its weights change by the one SGD step shown at the end (load the file again
    /// for untouched weights).
    ///
    /// - Parameters:
    ///   - checkpoint: a loaded ``ModelCheckpoint`` of dense, relu, sigmoid, tanh and softmax layers.
    ///   - input: one row of raw features, in the units of the training file.
    ///   - target: the class or the values to compare with; nil takes the model's own predicted
    ///     class (classifiers only), which the trace says.
    ///   - learningRate: η of the SGD update at the end.
    ///   - backend: the engine that computes every number.
    /// - Throws: ``BackpropError/invalidArgument(_:)`` for a layer that cannot be traced, a
    ///   missing or out-of-range target, or a learning rate that is not positive;
    ///   ``BackpropError/shapeMismatch(_:)`` for an input of the wrong length.
    public static func run(
        model checkpoint: ModelCheckpoint, input: [Float], target: Target? = nil,
        learningRate: Float = 0.1, backend: any Backend = SwiftBackend()
    ) throws -> Trace {
        guard learningRate.isFinite, learningRate > 0 else {
            throw BackpropError.invalidArgument("the learning rate must be a positive number, got \(learningRate)")
        }
        let model = checkpoint.model, loss = checkpoint.loss
        for (index, layer) in model.layers.enumerated() where !isTraceable(layer) {
            throw BackpropError.invalidArgument(
                "trace --model walks dense networks (dense, relu, sigmoid, tanh and softmax layers); "
                    + "layer \(index), \(layer.summary), cannot be traced yet")
        }
        guard input.allSatisfy(\.isFinite) else {
            throw BackpropError.invalidArgument("the input row holds a value that is not a finite number")
        }
        let raw = try Tensor(rows: 1, cols: input.count, values: input)
        let width = try model.outputWidth(forInputWidth: input.count)
        let x = try checkpoint.normalizer?.apply(to: raw) ?? raw

        var r = TraceRecorder()
        let layersText = model.layers.map(\.summary).joined(separator: " → ")
        var inputNotes = ["One sample is a (1, \(input.count)) row; the model is \(layersText)."]
        if let normalizer = checkpoint.normalizer {
            inputNotes.append("The checkpoint's \(normalizer.kind.rawValue) normalization, fitted on the training data, "
                              + "maps the raw row to the model's input.")
        }
        r.add("input", "The input row", checkpoint.normalizer == nil ? "x = the row as given" : "x = (row − offset) / divisor",
              checkpoint.normalizer == nil ? [TraceValue("x", x)] : [TraceValue("row", raw), TraceValue("x", x)],
              notes: inputNotes)

        // Forward, keeping each layer's output: a[0] = x, a[i + 1] = layer_i(a[i]).
        var activations = [x]
        for (index, layer) in model.layers.enumerated() {
            let a = activations[index]
            let out = layer.forward(a, backend: backend).copy()
            activations.append(out)
            r.add("forward.\(index)", "Layer \(index): \(layer.summary)", forwardEquation(layer, index: index),
                  forwardValues(layer, input: a, output: out, index: index), notes: forwardNotes(layer))
        }
        let output = activations[activations.count - 1]

        // The loss and dL/d(output), from the engine's loss.
        let (chosenTarget, targetNote) = try resolve(target, output: output, loss: loss, width: width, backend: backend)
        let (lossValue, dOut, targetValue) = try evaluateLoss(loss, output: output, target: chosenTarget, backend: backend)
        r.add("loss", "The loss: \(loss.kind.rawValue)", lossEquation(loss),
              [TraceValue("output", output), targetValue, TraceValue("L", scalar: lossValue),
               TraceValue("dL/doutput", dOut)],
              notes: targetNote.map { [$0] } ?? [])

        // Backward, layer by layer from the last, with the real backward passes.
        model.zeroGrad()
        var gradient = dOut
        for index in model.layers.indices.reversed() {
            let layer = model.layers[index]
            let dx = layer.backward(gradient, backend: backend, needsInputGradient: true).copy()
            var values = [TraceValue("dL/da\(index + 1)", gradient)]
            if let dense = layer as? Dense {
                values += [TraceValue("dL/dW\(index)", dense.weight.grad), TraceValue("dL/db\(index)", dense.bias.grad)]
            }
            values.append(TraceValue("dL/da\(index)", dx))
            r.add("backward.\(index)", "Back through layer \(index): \(layer.summary)",
                  backwardEquation(layer, index: index), values)
            gradient = dx
        }

        let optimizer = SGD(learningRate: learningRate)
        optimizer.step(model.namedParameters, backend: backend)
        let after = model.forward(x, backend: backend).copy()
        let (lossAfter, _, _) = try evaluateLoss(loss, output: after, target: chosenTarget, backend: backend)
        r.add("update", "One SGD step, η = \(formatFixed(Double(learningRate), decimals: 4)), then the same input again",
              "W ← W − η·dL/dW,   b ← b − η·dL/db",
              [TraceValue("output", after), TraceValue("L", scalar: lossAfter)],
              notes: [lossChange(before: lossValue, after: lossAfter)])

        return Trace(example: "model",
                     title: "Your model: one input through \(layersText)",
                     introduction: ["Every number below is computed by the engine on the checkpoint's own weights.",
                                    "aᵢ is the input of layer i (a0 = x); the last a is the model's output."],
                     steps: r.steps, learningRate: learningRate, lossBefore: lossValue, lossAfter: lossAfter)
    }

    static func isTraceable(_ layer: any Layer) -> Bool {
        layer is Dense || layer is ActivationLayer || layer is Softmax
    }

    static func forwardEquation(_ layer: any Layer, index i: Int) -> String {
        switch layer {
        case is Dense: "a\(i + 1) = a\(i)·W\(i) + b\(i)"
        case let activation as ActivationLayer: "a\(i + 1) = \(activation.kind)(a\(i))"
        default: "a\(i + 1) = softmax(a\(i)) = e^a / Σ e^a"
        }
    }

    static func forwardValues(_ layer: any Layer, input: Tensor, output: Tensor, index i: Int) -> [TraceValue] {
        if let dense = layer as? Dense {
            return [TraceValue("a\(i)", input), TraceValue("W\(i)", dense.weight.value),
                    TraceValue("b\(i)", dense.bias.value), TraceValue("a\(i + 1)", output)]
        }
        return [TraceValue("a\(i)", input), TraceValue("a\(i + 1)", output)]
    }

    static func forwardNotes(_ layer: any Layer) -> [String] {
        guard let dense = layer as? Dense else { return [] }
        return ["Shapes: (1, \(dense.inputs))·(\(dense.inputs), \(dense.outputs)) + (1, \(dense.outputs)) → (1, \(dense.outputs))."]
    }

    static func backwardEquation(_ layer: any Layer, index i: Int) -> String {
        switch layer {
        case is Dense:
            "dL/dW\(i) = a\(i)ᵀ·dL/da\(i + 1),   dL/db\(i) = dL/da\(i + 1),   dL/da\(i) = dL/da\(i + 1)·W\(i)ᵀ"
        case let activation as ActivationLayer:
            switch activation.kind {
            case .relu: "dL/da\(i) = dL/da\(i + 1) · 1[a\(i + 1) > 0]"
            case .sigmoid: "dL/da\(i) = dL/da\(i + 1) · a\(i + 1)(1 − a\(i + 1))"
            case .tanh: "dL/da\(i) = dL/da\(i + 1) · (1 − a\(i + 1)²)"
            }
        default:
            "dL/da\(i) = p ⊙ (dL/dp − Σ dL/dp ⊙ p)   (the softmax Jacobian)"
        }
    }

    static func lossEquation(_ loss: Loss) -> String {
        switch loss.kind {
        case .crossEntropy: "L = −log softmax(output)_y,   dL/doutput = p − onehot(y)"
        case .mse: "L = mean (output − t)²,   dL/doutput = 2(output − t) / n"
        case .binaryCrossEntropy: "L = −[t·log σ(output) + (1 − t)·log(1 − σ(output))],   dL/doutput = σ(output) − t"
        }
    }

    /// The target to use, and a note when it was taken from the model's own prediction.
    static func resolve(_ target: Target?, output: Tensor, loss: Loss, width: Int,
                        backend: any Backend) throws -> (Target, String?) {
        if let target { return (target, nil) }
        switch loss.kind {
        case .crossEntropy:
            var guess: Int32 = 0
            backend.argmaxRows(output.data, rows: 1, cols: width, into: &guess)
            return (.label(guess), "No label was given, so the target is the model's own prediction, class \(guess).")
        case .binaryCrossEntropy:
            let positive = loss.predictsPositive(output.data[0])
            return (.label(positive ? 1 : 0), "No label was given, so the target is the model's own prediction, class \(positive ? 1 : 0).")
        case .mse:
            throw BackpropError.invalidArgument("an MSE model needs target values to trace the loss (\(width) of them)")
        }
    }

    /// The loss, dL/d(output) and the target as a trace value.
    static func evaluateLoss(_ loss: Loss, output: Tensor, target: Target,
                             backend: any Backend) throws -> (Double, Tensor, TraceValue) {
        let grad = Tensor(rows: output.rows, cols: output.cols)
        var scratch: Tensor?
        switch (loss.kind, target) {
        case (.crossEntropy, .label(let label)):
            guard (0..<output.cols).contains(Int(label)) else {
                throw BackpropError.invalidArgument("label \(label) is not a class of this model (0 to \(output.cols - 1))")
            }
            var labels = [label]
            let value = loss.compute(output: output, labels: &labels, targets: nil, grad: grad, scratch: &scratch,
                                     backend: backend)
            return (value, grad, TraceValue("y", scalar: Double(label)))
        case (.binaryCrossEntropy, .label(let label)):
            guard label == 0 || label == 1 else {
                throw BackpropError.invalidArgument("label \(label) is not a binary class (0 or 1)")
            }
            let t = try Tensor(rows: 1, cols: 1, values: [Float(label)])
            let value = loss.compute(output: output, labels: nil, targets: t, grad: grad, scratch: &scratch,
                                     backend: backend)
            return (value, grad, TraceValue("t", t))
        case (.mse, .values(let values)):
            guard values.count == output.cols, values.allSatisfy(\.isFinite) else {
                throw BackpropError.invalidArgument("an MSE model needs \(output.cols) finite target values, got \(values.count)")
            }
            let t = try Tensor(rows: 1, cols: values.count, values: values)
            let value = loss.compute(output: output, labels: nil, targets: t, grad: grad, scratch: &scratch,
                                     backend: backend)
            return (value, grad, TraceValue("t", t))
        case (.mse, .label):
            throw BackpropError.invalidArgument("an MSE model takes target values (--target), not a class label")
        case (_, .values):
            throw BackpropError.invalidArgument("a classifier takes a class label (--label), not target values")
        }
    }
}
