extension VerificationRun {
    /// x: (rows, cols) += bias: (cols).
    func checkAddBias() {
        var rng = generator("add_bias")
        var meter = meter(.addBias)
        for (index, shape) in plan.matrixShapes.enumerated() {
            let misaligned = index % 2 == 1
            let x = Scratch(count: shape.rows * shape.cols, misaligned: misaligned, uniform: -2, 2, using: &rng)
            let bias = Scratch(count: shape.cols, misaligned: misaligned, uniform: -1, 1, using: &rng)
            let expected = Scratch(copying: x)
            reference.addBias(expected.pointer, bias: bias.pointer, rows: shape.rows, cols: shape.cols)
            backend.addBias(x.pointer, bias: bias.pointer, rows: shape.rows, cols: shape.cols)
            meter.compare(x, expected)
            meter.finishCase("rows=\(shape.rows) cols=\(shape.cols)\(misaligned ? " misaligned" : "")")
        }
        store(meter, for: .addBias)
    }

    /// x: (rows, cols) -> out: (cols), overwriting and accumulating in turn.
    func checkSumColumns() {
        var rng = generator("sum_columns")
        var meter = meter(.sumColumns)
        for (index, shape) in plan.matrixShapes.enumerated() {
            let misaligned = index % 2 == 1
            let accumulate = index % 3 == 1
            let x = Scratch(count: shape.rows * shape.cols, misaligned: misaligned, uniform: -1, 1, using: &rng)
            // Without `accumulate` the output starts as NaN, which must be overwritten.
            let out = accumulate
                ? Scratch(count: shape.cols, misaligned: misaligned, uniform: -1, 1, using: &rng)
                : Scratch(count: shape.cols, misaligned: misaligned, repeating: .nan)
            let expected = Scratch(copying: out)
            reference.sumColumns(x.pointer, rows: shape.rows, cols: shape.cols, into: expected.pointer, accumulate: accumulate)
            backend.sumColumns(x.pointer, rows: shape.rows, cols: shape.cols, into: out.pointer, accumulate: accumulate)
            let scale = max(x.maxMagnitude, accumulate ? out.maxMagnitude : 0)
            let tolerance = meter.tolerance
            meter.compare(out, expected) {
                tolerance.allowed(reference: Double(expected[$0]), terms: shape.rows + 1, scale: scale)
            }
            meter.finishCase("rows=\(shape.rows) cols=\(shape.cols)\(accumulate ? " accumulate" : "")"
                + (misaligned ? " misaligned" : ""))
        }
        store(meter, for: .sumColumns)
    }

    /// Row-wise softmax of logits in [-10, 10), some rows all -inf, every other case in place.
    /// With five rows or more, row 3 is a NaN among −∞ and row 4 holds +∞: both NaN by the
    /// protocol, so NaN in the reference is the specified answer in those cases.
    func checkSoftmaxRows() {
        var rng = generator("softmax_rows")
        var meter = meter(.softmaxRows)
        for (index, shape) in plan.matrixShapes.enumerated() {
            let misaligned = index % 2 == 1
            let inPlace = index % 4 >= 2
            let x = logits(rows: shape.rows, cols: shape.cols, misaligned: misaligned, rng: &rng)
            for c in 0..<shape.cols where shape.rows > 2 { x[2 * shape.cols + c] = -.infinity }
            let nonFinite = shape.rows >= 5
            if nonFinite {
                for c in 0..<shape.cols { x[3 * shape.cols + c] = -.infinity }
                x[3 * shape.cols + shape.cols / 2] = .nan
                x[4 * shape.cols + shape.cols - 1] = .infinity
            }
            let expected = Scratch<Float>(count: x.count, misaligned: misaligned)
            reference.softmaxRows(x.pointer, y: expected.pointer, rows: shape.rows, cols: shape.cols)
            let y = inPlace ? x : Scratch<Float>(count: x.count, misaligned: misaligned)
            backend.softmaxRows(x.pointer, y: y.pointer, rows: shape.rows, cols: shape.cols)
            let tolerance = meter.tolerance
            meter.compare(y, expected, nanExpected: nonFinite) {
                tolerance.allowed(reference: Double(expected[$0]), terms: shape.cols, scale: Double(abs(expected[$0])))
            }
            meter.finishCase("rows=\(shape.rows) cols=\(shape.cols)\(inPlace ? " in place" : "")"
                + (misaligned ? " misaligned" : "") + (nonFinite ? " with NaN and +∞ rows" : ""))
        }
        store(meter, for: .softmaxRows)
    }

    /// out[r] = argmax of row r; rows 0 and 1 hold ties, which go to the first index; with four
    /// rows or more, row 3 holds two NaN (the first wins) and row 2 a +∞.
    func checkArgmaxRows() {
        var rng = generator("argmax_rows")
        var meter = meter(.argmaxRows)
        for (index, shape) in plan.matrixShapes.enumerated() where shape.cols > 0 {
            let misaligned = index % 2 == 1
            let x = Scratch(count: shape.rows * shape.cols, misaligned: misaligned, uniform: -1, 1, using: &rng)
            if shape.rows > 0 { for c in 0..<shape.cols { x[c] = 0.5 } }
            if shape.rows > 1 && shape.cols > 2 { x[shape.cols + 1] = 3; x[2 * shape.cols - 1] = 3 }
            if shape.rows > 3 && shape.cols > 2 {
                x[2 * shape.cols + shape.cols - 1] = .infinity
                x[3 * shape.cols + 1] = .nan
                x[3 * shape.cols + shape.cols - 1] = .nan
            }
            let expected = Scratch<Int32>(count: shape.rows, misaligned: misaligned, sentinel: -7)
            let out = Scratch<Int32>(count: shape.rows, misaligned: misaligned, sentinel: -7)
            reference.argmaxRows(x.pointer, rows: shape.rows, cols: shape.cols, into: expected.pointer)
            backend.argmaxRows(x.pointer, rows: shape.rows, cols: shape.cols, into: out.pointer)
            for r in 0..<shape.rows { meter.compareExactly(Float(out[r]), Float(expected[r])) }
            meter.requireGuards(out)
            meter.finishCase("rows=\(shape.rows) cols=\(shape.cols)\(misaligned ? " misaligned" : "")")
        }
        store(meter, for: .argmaxRows)
    }

    /// Logits uniform in [-10, 10).
    func logits(rows: Int, cols: Int, misaligned: Bool, rng: inout SeededGenerator) -> Scratch<Float> {
        Scratch(count: rows * cols, misaligned: misaligned, uniform: -10, 10, using: &rng)
    }
}
