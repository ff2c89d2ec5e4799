extension VerificationRun {
    /// GEMM on every planned case. Padding cells of A and B hold NaN (a backend that uses
    /// them poisons C); C's padding holds the sentinel and must come back unchanged; with
    /// beta = 0, C's window starts as NaN, which must not propagate.
    func checkGemm() {
        var rng = generator("gemm")
        var meter = meter(.gemm)
        for gemmCase in plan.gemmCases {
            measure(gemmCase, meter: &meter, rng: &rng)
            meter.finishCase(gemmCase.description)
        }
        store(meter, for: .gemm)
    }

    private func measure(_ g: VerificationPlan.GemmCase, meter: inout ErrorMeter, rng: inout SeededGenerator) {
        // A is stored (m, k), or (k, m) when transposed; B (k, n), or (n, k); C (m, n).
        let a = StoredMatrix(rows: g.transA ? g.k : g.m, width: g.transA ? g.m : g.k, pad: g.padA,
                             misaligned: g.misaligned, padding: .nan, rng: &rng)
        let b = StoredMatrix(rows: g.transB ? g.n : g.k, width: g.transB ? g.k : g.n, pad: g.padB,
                             misaligned: g.misaligned, padding: .nan, rng: &rng)
        let c = StoredMatrix(rows: g.m, width: g.n, pad: g.padC, misaligned: g.misaligned,
                             padding: Scratch.floatSentinel, rng: &rng)
        if g.beta == 0 {
            for i in 0..<g.m { for j in 0..<g.n { c.buffer[i * c.ld + j] = .nan } }
        }
        if g.nonFinite {
            // A few NaN and ±∞ in the windows of A, B and C; whether an element of C comes out
            // NaN, +∞ or −∞ does not depend on the order of the sums, so the reference's answer
            // is the specified one.
            a.poison(&rng)
            b.poison(&rng)
            if g.beta != 0 { c.poison(&rng) }
        }
        let expected = Scratch(copying: c.buffer)
        let result = Scratch(copying: c.buffer)
        for (backend, out) in [(reference as any Backend, expected), (self.backend, result)] {
            backend.gemm(
                transA: g.transA, transB: g.transB, m: g.m, n: g.n, k: g.k,
                alpha: g.alpha, a: a.buffer.pointer, lda: a.ld, b: b.buffer.pointer, ldb: b.ld,
                beta: g.beta, c: out.pointer, ldc: c.ld)
        }
        // The bound on |Δ| for every element of C (see `VerifiedOp.tolerance`).
        let scale = Double(abs(g.alpha)) * a.maxMagnitude * b.maxMagnitude
            + (g.beta == 0 ? 0 : Double(abs(g.beta)) * c.maxMagnitude)
        let allowed = meter.tolerance.allowed(reference: 0, terms: g.k + 2, scale: scale)
        for i in 0..<g.m {
            for j in 0..<c.ld {
                let index = i * c.ld + j
                if j < g.n {
                    meter.compare(Double(result[index]), Double(expected[index]), allowed: allowed,
                                  nanExpected: g.nonFinite)
                } else {
                    meter.compareExactly(result[index], expected[index])
                }
            }
        }
        meter.requireGuards(result)
    }
}

/// A row-major matrix of `rows` rows of `width` values, each row followed by `pad` padding
/// cells holding `padding`; values uniform in [-1, 1).
private struct StoredMatrix {
    let ld: Int
    let buffer: Scratch<Float>
    let maxMagnitude: Double

    init(rows: Int, width: Int, pad: Int, misaligned: Bool, padding: Float, rng: inout SeededGenerator) {
        ld = width + pad
        buffer = Scratch(count: rows * ld, misaligned: misaligned)
        var largest = 0.0
        for i in 0..<rows {
            for j in 0..<ld {
                let value = j < width ? rng.uniform(-1, 1) : padding
                buffer[i * ld + j] = value
                if j < width { largest = max(largest, Double(abs(value))) }
            }
        }
        maxMagnitude = largest
        self.rows = rows
        self.width = width
    }

    private let rows: Int, width: Int

    /// Writes NaN, +∞ and −∞ at three seeded places of the window (not the padding); the
    /// magnitudes the tolerance uses stay those of the finite values.
    func poison(_ rng: inout SeededGenerator) {
        guard rows > 0 && width > 0 else { return }
        for value in [Float.nan, .infinity, -.infinity] {
            buffer[rng.nextInt(below: rows) * ld + rng.nextInt(below: width)] = value
        }
    }
}
