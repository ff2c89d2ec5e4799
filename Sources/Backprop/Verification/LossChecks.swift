extension VerificationRun {
    /// Fused softmax + cross-entropy with labels: the gradient and the returned loss.
    func checkCrossEntropyLabels() {
        checkFusedCrossEntropy(label: "softmax_xent_labels", grad: .softmaxCrossEntropyLabels,
                               loss: .softmaxCrossEntropyLabelsLoss) { rows, cols, misaligned, rng in
            let labels = Scratch<Int32>(count: rows, misaligned: misaligned, sentinel: -1)
            for r in 0..<rows { labels[r] = Int32(rng.nextInt(below: cols)) }
            return { backend, z, grad, scale in
                backend.softmaxCrossEntropy(logits: z, labels: labels.pointer, rows: rows, cols: cols,
                                            grad: grad, scale: scale)
            }
        }
    }

    /// Fused softmax + cross-entropy with probability targets (some exactly zero).
    func checkCrossEntropyTargets() {
        checkFusedCrossEntropy(label: "softmax_xent_targets", grad: .softmaxCrossEntropyTargets,
                               loss: .softmaxCrossEntropyTargetsLoss) { rows, cols, misaligned, rng in
            let t = Scratch(count: rows * cols, misaligned: misaligned, uniform: 0, 1, using: &rng)
            for r in 0..<rows {
                let row = t.pointer + r * cols
                for c in stride(from: r % 3, to: cols, by: 3) where cols > 1 { row[c] = 0 }
                var sum: Float = 0
                for c in 0..<cols { sum += row[c] }
                for c in 0..<cols { row[c] = sum > 0 ? row[c] / sum : 1 / Float(cols) }
            }
            return { backend, z, grad, scale in
                backend.softmaxCrossEntropy(logits: z, targets: t.pointer, rows: rows, cols: cols,
                                            grad: grad, scale: scale)
            }
        }
    }

    /// The loop both fused cross-entropy checks share: per matrix shape, draw logits, let
    /// `prepare` draw the targets (after the logits, so the random stream is as before) and return
    /// the call, run it on the reference and the backend, compare gradients and losses.
    private func checkFusedCrossEntropy(
        label name: String, grad gradOp: VerifiedOp, loss lossOp: VerifiedOp,
        prepare: (_ rows: Int, _ cols: Int, _ misaligned: Bool, _ rng: inout SeededGenerator)
            -> (any Backend, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Float) -> Double
    ) {
        var rng = generator(name)
        var gradMeter = meter(gradOp)
        var lossMeter = meter(lossOp)
        for (index, shape) in plan.matrixShapes.enumerated() where shape.cols > 0 {
            let misaligned = index % 2 == 1
            let gradScale = lossScale(index, rows: shape.rows)
            let z = logits(rows: shape.rows, cols: shape.cols, misaligned: misaligned, rng: &rng)
            let call = prepare(shape.rows, shape.cols, misaligned, &rng)
            let expected = Scratch<Float>(count: z.count, misaligned: misaligned)
            let grad = Scratch<Float>(count: z.count, misaligned: misaligned)
            let want = call(reference, z.pointer, expected.pointer, gradScale)
            let got = call(backend, z.pointer, grad.pointer, gradScale)
            let label = "rows=\(shape.rows) cols=\(shape.cols) scale=\(gradScale)\(misaligned ? " misaligned" : "")"
            compareSoftmaxGradient(grad, expected, cols: shape.cols, meter: &gradMeter)
            gradMeter.finishCase(label)
            compareLoss(got, want, count: z.count, input: z, meter: &lossMeter)
            lossMeter.finishCase(label)
        }
        store(gradMeter, for: gradOp)
        store(lossMeter, for: lossOp)
    }

    /// Σ (y − t)² and its gradient.
    func checkSquaredError() {
        checkElementwiseLoss(label: "squared_error", grad: .squaredError, loss: .squaredErrorLoss,
                             inputRange: (-3, 3)) { backend, y, t, count, grad, scale in
            backend.squaredError(y, target: t, count: count, grad: grad, scale: scale)
        }
    }

    /// Binary cross-entropy on logits in [-20, 20), past where e^z saturates a Float sigmoid.
    func checkBinaryCrossEntropy() {
        checkElementwiseLoss(label: "bce_logits", grad: .binaryCrossEntropy, loss: .binaryCrossEntropyLoss,
                             inputRange: (-20, 20)) { backend, z, t, count, grad, scale in
            backend.binaryCrossEntropyWithLogits(z, target: t, count: count, grad: grad, scale: scale)
        }
    }

    private func checkElementwiseLoss(
        label name: String, grad gradOp: VerifiedOp, loss lossOp: VerifiedOp, inputRange: (Float, Float),
        _ call: (any Backend, UnsafePointer<Float>, UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>, Float) -> Double
    ) {
        var rng = generator(name)
        var gradMeter = meter(gradOp)
        var lossMeter = meter(lossOp)
        for (index, count) in plan.counts.enumerated() {
            let misaligned = index % 2 == 1
            let gradScale = lossScale(index, rows: count)
            let y = Scratch(count: count, misaligned: misaligned, uniform: inputRange.0, inputRange.1, using: &rng)
            let t = Scratch(count: count, misaligned: misaligned, uniform: 0, 1, using: &rng)
            let expected = Scratch<Float>(count: count, misaligned: misaligned)
            let grad = Scratch<Float>(count: count, misaligned: misaligned)
            let want = call(reference, y.pointer, t.pointer, count, expected.pointer, gradScale)
            let got = call(backend, y.pointer, t.pointer, count, grad.pointer, gradScale)
            let label = "count=\(count) scale=\(gradScale)\(misaligned ? " misaligned" : "")"
            gradMeter.compare(grad, expected)
            gradMeter.finishCase(label)
            compareLoss(got, want, count: count, input: y, meter: &lossMeter)
            lossMeter.finishCase(label)
        }
        store(gradMeter, for: gradOp)
        store(lossMeter, for: lossOp)
    }

    /// The gradient scale of a case: 1, 1/rows (a mean) or 0.5 in turn.
    private func lossScale(_ index: Int, rows: Int) -> Float {
        switch index % 3 {
        case 0: 1
        case 1: 1 / Float(max(rows, 1))
        default: 0.5
        }
    }

    private func compareSoftmaxGradient(
        _ grad: Scratch<Float>, _ expected: Scratch<Float>, cols: Int, meter: inout ErrorMeter
    ) {
        let tolerance = meter.tolerance
        meter.compare(grad, expected) {
            tolerance.allowed(reference: Double(expected[$0]), terms: cols, scale: Double(abs(expected[$0])))
        }
    }

    private func compareLoss(_ got: Double, _ want: Double, count: Int, input: Scratch<Float>, meter: inout ErrorMeter) {
        let allowed = meter.tolerance.allowed(reference: want, terms: count, scale: 1 + input.maxMagnitude)
        meter.compare(got, want, allowed: allowed)
    }
}
