extension VerificationRun {
    /// Every activation forward and backward; every other case runs in place (y = x, dx = dy).
    func checkActivations() {
        var rng = generator("activations")
        for kind in Activation.allCases {
            var forward = meter(.forward(kind))
            var backward = meter(.backward(kind))
            for (index, count) in plan.counts.enumerated() {
                let misaligned = index % 2 == 1
                let inPlace = index % 4 >= 2
                let label = "count=\(count)\(inPlace ? " in place" : "")\(misaligned ? " misaligned" : "")"
                // Wide enough to saturate sigmoid and tanh; exact zeros exercise relu's edge.
                let x = Scratch(count: count, misaligned: misaligned, uniform: -12, 12, using: &rng)
                for i in stride(from: 0, to: count, by: 17) { x[i] = 0 }
                // Every fourth case also holds NaN, ±∞, −0 and subnormals, scattered so that they
                // land in SIMD bodies and tails; NaN in the reference is then the specified answer.
                let special = index % 4 == 3 && count >= 8
                if special { x.scatter(Self.specialValues, every: 13) }
                let y = Scratch<Float>(count: count, misaligned: misaligned)
                reference.activationForward(kind, x: x.pointer, y: y.pointer, count: count)
                let result = inPlace ? Scratch(copying: x) : Scratch<Float>(count: count, misaligned: misaligned)
                backend.activationForward(kind, x: inPlace ? result.pointer : x.pointer, y: result.pointer, count: count)
                forward.compare(result, y, nanExpected: special)
                forward.finishCase(label + (special ? " with NaN, ±∞, −0, subnormals" : ""))

                // Backward from the reference forward output, so only the backward op differs.
                let dy = Scratch(count: count, misaligned: misaligned, uniform: -1, 1, using: &rng)
                let dx = Scratch<Float>(count: count, misaligned: misaligned)
                reference.activationBackward(kind, y: y.pointer, dy: dy.pointer, dx: dx.pointer, count: count)
                let gradient = inPlace ? Scratch(copying: dy) : Scratch<Float>(count: count, misaligned: misaligned)
                backend.activationBackward(
                    kind, y: y.pointer, dy: inPlace ? gradient.pointer : dy.pointer, dx: gradient.pointer, count: count)
                backward.compare(gradient, dx, nanExpected: special)
                backward.finishCase(label + (special ? " with NaN, ±∞, −0, subnormals" : ""))
            }
            store(forward, for: .forward(kind))
            store(backward, for: .backward(kind))
        }
    }

    /// Non-finite and edge values the checks mix into some cases.
    static let specialValues: [Float] = [
        .nan, .infinity, -.infinity, -0.0, Float(bitPattern: 0x0000_1000), -Float.leastNonzeroMagnitude,
        Float.greatestFiniteMagnitude, -Float.greatestFiniteMagnitude,
    ]

    /// fill, copy, scale and sumOfSquares, which need no tolerance beyond rounding.
    func checkBufferOps() {
        var rng = generator("buffer_ops")
        var fill = meter(.fill), copy = meter(.copy), scale = meter(.scale), squares = meter(.sumOfSquares)
        for (index, count) in plan.counts.enumerated() {
            let misaligned = index % 2 == 1
            let label = "count=\(count)\(misaligned ? " misaligned" : "")"
            let value = rng.uniform(-3, 3)

            let expectedFill = Scratch(count: count, misaligned: misaligned, uniform: -1, 1, using: &rng)
            let filled = Scratch(copying: expectedFill)
            reference.fill(expectedFill.pointer, value: value, count: count)
            backend.fill(filled.pointer, value: value, count: count)
            fill.compare(filled, expectedFill)
            fill.finishCase(label)

            let source = Scratch(count: count, misaligned: misaligned, uniform: -1, 1, using: &rng)
            let copied = Scratch<Float>(count: count, misaligned: !misaligned)
            backend.copy(source.pointer, to: copied.pointer, count: count)
            copy.compare(copied, source)
            copy.finishCase(label + " to the other alignment")

            let expectedScale = Scratch(copying: source)
            let scaled = Scratch(copying: source)
            reference.scale(expectedScale.pointer, by: value, count: count)
            backend.scale(scaled.pointer, by: value, count: count)
            scale.compare(scaled, expectedScale)
            scale.finishCase(label)

            let want = reference.sumOfSquares(source.pointer, count: count)
            let got = backend.sumOfSquares(source.pointer, count: count)
            squares.compare(got, want, allowed: squares.tolerance.allowed(reference: want))
            squares.finishCase(label)
        }
        store(fill, for: .fill)
        store(copy, for: .copy)
        store(scale, for: .scale)
        store(squares, for: .sumOfSquares)
    }
}
