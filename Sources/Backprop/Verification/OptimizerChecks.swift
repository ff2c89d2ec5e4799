extension VerificationRun {
    /// Three SGD steps with and without momentum, Nesterov and weight decay; compares the
    /// parameters and the velocity.
    func checkSGD() {
        var rng = generator("sgd_update")
        var meter = meter(.sgdUpdate)
        let settings: [(momentum: Float, weightDecay: Float, nesterov: Bool)] = [
            (0, 0, false), (0.9, 0, false), (0.9, 1e-4, true), (0, 5e-4, false),
        ]
        for (index, count) in plan.counts.enumerated() {
            let misaligned = index % 2 == 1
            let s = settings[index % settings.count]
            let param = Scratch(count: count, misaligned: misaligned, uniform: -1, 1, using: &rng)
            let velocity = Scratch(count: count, misaligned: misaligned, repeating: 0)
            let expectedParam = Scratch(copying: param), expectedVelocity = Scratch(copying: velocity)
            for _ in 0..<3 {
                let grad = Scratch(count: count, misaligned: misaligned, uniform: -1, 1, using: &rng)
                for (backend, p, v) in [(reference as any Backend, expectedParam, expectedVelocity),
                                        (self.backend, param, velocity)] {
                    backend.sgdUpdate(
                        param: p.pointer, grad: grad.pointer, velocity: s.momentum == 0 ? nil : v.pointer,
                        count: count, learningRate: 0.05, momentum: s.momentum,
                        weightDecay: s.weightDecay, nesterov: s.nesterov)
                }
            }
            meter.compare(param, expectedParam)
            meter.compare(velocity, expectedVelocity)
            meter.finishCase("count=\(count) momentum=\(s.momentum) weightDecay=\(s.weightDecay)"
                + (s.nesterov ? " nesterov" : "") + (misaligned ? " misaligned" : ""))
        }
        store(meter, for: .sgdUpdate)
    }

    /// Three Adam or AdamW steps (steps 1 to 3, so the bias correction varies); compares the
    /// parameters and both moments.
    func checkAdam() {
        var rng = generator("adam_update")
        var meter = meter(.adamUpdate)
        for (index, count) in plan.counts.enumerated() {
            let misaligned = index % 2 == 1
            let decoupled = index % 2 == 0
            let weightDecay: Float = index % 3 == 0 ? 0 : 0.01
            let param = Scratch(count: count, misaligned: misaligned, uniform: -1, 1, using: &rng)
            let m = Scratch(count: count, misaligned: misaligned, repeating: 0)
            let v = Scratch(count: count, misaligned: misaligned, repeating: 0)
            let expected = (param: Scratch(copying: param), m: Scratch(copying: m), v: Scratch(copying: v))
            for step in 1...3 {
                let grad = Scratch(count: count, misaligned: misaligned, uniform: -1, 1, using: &rng)
                for (backend, p, first, second) in [(reference as any Backend, expected.param, expected.m, expected.v),
                                                     (self.backend, param, m, v)] {
                    backend.adamUpdate(
                        param: p.pointer, grad: grad.pointer, m: first.pointer, v: second.pointer, count: count,
                        learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8,
                        weightDecay: weightDecay, decoupled: decoupled, step: step)
                }
            }
            meter.compare(param, expected.param)
            meter.compare(m, expected.m)
            meter.compare(v, expected.v)
            meter.finishCase("count=\(count) \(decoupled ? "AdamW" : "Adam") weightDecay=\(weightDecay)"
                + (misaligned ? " misaligned" : ""))
        }
        store(meter, for: .adamUpdate)
    }
}
