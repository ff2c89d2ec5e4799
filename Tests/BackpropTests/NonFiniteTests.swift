import Testing
@testable import Backprop

/// Non-finite and edge inputs on every backend (the reference included), against answers
/// written by hand from IEEE 754 arithmetic, BLAS's alpha/beta rules and PyTorch's semantics
/// (see the `Backend` doc comments). Values are chosen so every finite answer is exact.
@Suite("Non-finite and edge inputs")
struct NonFiniteTests {
    static let nan = Float.nan, inf = Float.infinity
    /// A subnormal Float (below 2⁻¹²⁶ ≈ 1.18e-38): flush-to-zero would make it 0.
    static let subnormal = Float(bitPattern: 0x0000_1000)  // 2⁻¹³⁷ ≈ 5.74e-42

    // MARK: - GEMM

    /// C = alpha · A · B + beta · C for small row-major matrices without padding.
    static func gemm(_ backend: any Backend, transA: Bool = false, transB: Bool = false,
                     m: Int, n: Int, k: Int, alpha: Float = 1, a: [Float], b: [Float],
                     beta: Float = 0, c: [Float]? = nil) -> [Float] {
        var out = c ?? [Float](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                out.withUnsafeMutableBufferPointer { c in
                    backend.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                                 a: a.baseAddress!, lda: transA ? m : k, b: b.baseAddress!, ldb: transB ? k : n,
                                 beta: beta, c: c.baseAddress!, ldc: n)
                }
            }
        }
        return out
    }

    @Test("GEMM: NaN and ±∞ in A and B propagate as IEEE arithmetic says", arguments: TestBackends.available)
    func gemmPropagatesNonFinite(name: String) throws {
        let backend = try TestBackends.make(name)
        let (nan, inf) = (Self.nan, Self.inf)
        for (transA, transB) in [(false, false), (true, false), (false, true), (true, true)] {
            // A = [[NaN, 1], [2, 3]], B = [[1, 2], [3, 4]]: row 0 of C is NaN, row 1 = [2+9, 4+12].
            let a: [Float] = transA ? [nan, 2, 1, 3] : [nan, 1, 2, 3]
            let b: [Float] = transB ? [1, 3, 2, 4] : [1, 2, 3, 4]
            let c = Self.gemm(backend, transA: transA, transB: transB, m: 2, n: 2, k: 2, a: a, b: b)
            #expect(sameValues(c, [nan, nan, 11, 16]), "\(name) NaN in A transA=\(transA) transB=\(transB): \(c)")

            // A = [[1, 0], [2, 3]], B = [[∞, 1], [1, -∞]]:
            // C = [[∞ + 0, 1 + 0·(−∞) = NaN], [∞ + 3, 2 − ∞]] = [[∞, NaN], [∞, −∞]].
            let a2: [Float] = transA ? [1, 2, 0, 3] : [1, 0, 2, 3]
            let b2: [Float] = transB ? [inf, 1, 1, -inf] : [inf, 1, 1, -inf]
            let c2 = Self.gemm(backend, transA: transA, transB: transB, m: 2, n: 2, k: 2, a: a2, b: b2)
            #expect(sameValues(c2, [inf, nan, inf, -inf]), "\(name) ±∞ in B transA=\(transA) transB=\(transB): \(c2)")
        }
        // 0 · ∞ is NaN even when the zero is in A (a kernel that skips zeros would give 2).
        #expect(sameValues(Self.gemm(backend, m: 1, n: 1, k: 2, a: [0, 1], b: [inf, 2]), [nan]), "\(name) 0·∞")
        // ∞ + (−∞) is NaN.
        #expect(sameValues(Self.gemm(backend, m: 1, n: 1, k: 2, a: [1, 1], b: [inf, -inf]), [nan]), "\(name) ∞ − ∞")
    }

    @Test("GEMM: overflow gives ∞, subnormals are kept, −0 is zero", arguments: TestBackends.available)
    func gemmOverflowAndSubnormals(name: String) throws {
        let backend = try TestBackends.make(name)
        // 2e38 + 2e38 = 4e38 > Float.greatestFiniteMagnitude (3.4e38): +∞, in either order.
        #expect(Self.gemm(backend, m: 1, n: 1, k: 2, a: [2e38, 2e38], b: [1, 1]) == [.infinity], "\(name)")
        // alpha = 4 times a finite 1e38: +∞; −∞ with alpha = −4.
        #expect(Self.gemm(backend, m: 1, n: 1, k: 1, alpha: 4, a: [1e38], b: [1]) == [.infinity], "\(name)")
        #expect(Self.gemm(backend, m: 1, n: 1, k: 1, alpha: -4, a: [1e38], b: [1]) == [-.infinity], "\(name)")
        // A subnormal times 1, and two normals whose product is subnormal (one rounding): not flushed.
        let s = Self.subnormal
        let product = Float(1e-20) * Float(1e-20)  // 9.99995e-41, a subnormal, correctly rounded
        #expect(product.isSubnormal)
        #expect(Self.gemm(backend, m: 1, n: 1, k: 1, a: [s], b: [1]) == [s], "\(name) subnormal flushed")
        #expect(Self.gemm(backend, m: 1, n: 1, k: 1, a: [1e-20], b: [1e-20]) == [product], "\(name) subnormal product")
        // −0 in A: the result is a zero (the sign of a zero sum is not specified).
        let zero = Self.gemm(backend, m: 2, n: 1, k: 1, a: [-0.0, 0], b: [-3])
        #expect(zero == [0, 0], "\(name) -0: \(zero)")
    }

    @Test("GEMM: alpha ∈ {0, 1, −0.5} × beta ∈ {0, 1, 2.5}", arguments: TestBackends.available)
    func gemmAlphaBetaGrid(name: String) throws {
        let backend = try TestBackends.make(name)
        // A = [[1, 2], [3, 4]], B = [[5, 6], [7, 8]]: A·B = [[19, 22], [43, 50]]; C₀ = [[1, −2], [0.5, 4]].
        let ab: [Float] = [19, 22, 43, 50], c0: [Float] = [1, -2, 0.5, 4]
        for alpha: Float in [0, 1, -0.5] {
            for beta: Float in [0, 1, 2.5] {
                let want = (0..<4).map { alpha * ab[$0] + beta * c0[$0] }  // every value exact in Float
                let got = Self.gemm(backend, m: 2, n: 2, k: 2, alpha: alpha, a: [1, 2, 3, 4], b: [5, 6, 7, 8],
                                    beta: beta, c: c0)
                #expect(got == want, "\(name) alpha=\(alpha) beta=\(beta): \(got) vs \(want)")
            }
        }
    }

    @Test("GEMM: alpha = 0 reads neither A nor B; beta = 0 does not read C", arguments: TestBackends.available)
    func gemmAlphaZeroIgnoresNonFiniteOperands(name: String) throws {
        let backend = try TestBackends.make(name)
        let (nan, inf) = (Self.nan, Self.inf)
        let a: [Float] = [nan, inf, 1, 2], b: [Float] = [-inf, nan, 3, 4]
        let c0: [Float] = [1, -2, 0.5, 4]
        // BLAS: with alpha = 0, C = beta · C and A, B are not referenced.
        for beta: Float in [0, 1, 2.5] {
            let got = Self.gemm(backend, m: 2, n: 2, k: 2, alpha: 0, a: a, b: b, beta: beta, c: c0)
            #expect(got == c0.map { beta * $0 }, "\(name) alpha=0 beta=\(beta): \(got)")
        }
        // beta = 0 over NaN and ∞ in C: C = A·B.
        let got = Self.gemm(backend, m: 2, n: 2, k: 2, a: [1, 2, 3, 4], b: [5, 6, 7, 8], beta: 0, c: [nan, inf, -inf, nan])
        #expect(got == [19, 22, 43, 50], "\(name) beta=0: \(got)")
        // beta = 1 or 2.5 over NaN and ∞ in C: they propagate (∞ stays ∞).
        for beta: Float in [1, 2.5] {
            let got = Self.gemm(backend, m: 2, n: 2, k: 2, a: [1, 2, 3, 4], b: [5, 6, 7, 8], beta: beta, c: [nan, inf, -inf, 1])
            #expect(sameValues(got, [nan, inf, -inf, 50 + beta]), "\(name) beta=\(beta): \(got)")
        }
    }

    // MARK: - Activations

    static func forward(_ backend: any Backend, _ kind: Activation, _ x: [Float]) -> [Float] {
        var y = [Float](repeating: 7, count: x.count)
        backend.activationForward(kind, x: x, y: &y, count: x.count)
        return y
    }

    @Test("activations: NaN stays NaN, ±∞ saturate, subnormals and −0", arguments: TestBackends.available)
    func activationsOnNonFinite(name: String) throws {
        let backend = try TestBackends.make(name)
        let (nan, inf, s) = (Self.nan, Self.inf, Self.subnormal)
        // Each input is repeated past a SIMD width (16) so vector bodies and tails both see it.
        func check(_ kind: Activation, _ x: [Float], _ want: [Float], abs: Double = 0) {
            let x17 = (0..<17).flatMap { _ in x }, want17 = (0..<17).flatMap { _ in want }
            let y = Self.forward(backend, kind, x17)
            #expect(allClose(y, want17, abs: abs, nanMatches: true), "\(name) \(kind)(\(x)) = \(Array(y.prefix(x.count)))")
        }
        // relu as torch.relu: NaN propagates; relu(−∞) = 0; subnormals are kept.
        check(.relu, [nan, inf, -inf, -0.0, s, -s, 2], [nan, inf, 0, 0, s, 0, 2])
        // sigmoid(±∞) = 1, 0; sigmoid(−100) = 3.7e-44 (within 1e-6 of 0).
        check(.sigmoid, [nan, inf, -inf, 0, -0.0, 100, -100], [nan, 1, 0, 0.5, 0.5, 1, 0], abs: 1e-6)
        check(.tanh, [nan, inf, -inf, 0, 20, -20], [nan, 1, -1, 0, 1, -1], abs: 1e-6)
        // tanh of a subnormal is itself (within an ulp of the smallest normal).
        check(.tanh, [s], [s], abs: Double(Float.leastNormalMagnitude))
    }

    @Test("activation backward: NaN in dy propagates where the unit is active", arguments: TestBackends.available)
    func activationBackwardOnNonFinite(name: String) throws {
        let backend = try TestBackends.make(name)
        let y: [Float] = [1, 0, 0.5, 1]
        let dy: [Float] = [.nan, .nan, .infinity, 2]
        var dx = [Float](repeating: 7, count: 4)
        backend.activationBackward(.relu, y: y, dy: dy, dx: &dx, count: 4)
        // relu'(y) = 1{y > 0}: dx = dy where y > 0, else 0 (PyTorch's threshold_backward).
        #expect(sameValues(dx, [.nan, 0, .infinity, 2]), "\(name) relu backward \(dx)")
        backend.activationBackward(.sigmoid, y: y, dy: dy, dx: &dx, count: 4)
        // dy · y(1 − y): NaN·0 = NaN, NaN·0 = NaN, ∞·0.25 = ∞, 2·0 = 0.
        #expect(sameValues(dx, [.nan, .nan, .infinity, 0]), "\(name) sigmoid backward \(dx)")
    }

    // MARK: - Softmax and losses

    @Test("softmax: a row with NaN or +∞ is NaN; −∞ alone is a probability of 0", arguments: TestBackends.available)
    func softmaxOnNonFinite(name: String) throws {
        let backend = try TestBackends.make(name)
        let (nan, inf) = (Self.nan, Self.inf)
        for cols in [3, 17] {
            // Rows: NaN among finite values; NaN among −∞ (not a uniform row); +∞ (∞ − ∞ = NaN);
            // −∞ among finite values ([0, 0, ...] with the first −∞: uniform over the rest).
            let pad = [Float](repeating: -inf, count: cols - 3)
            let x: [Float] = [nan, 0, 1] + pad + [nan, -inf, -inf] + pad + [inf, 0, 1] + pad + [-inf, 0, 0] + pad
            var y = [Float](repeating: 7, count: x.count)
            backend.softmaxRows(x, y: &y, rows: 4, cols: cols)
            for r in 0..<3 {
                let row = y[(r * cols)..<((r + 1) * cols)]
                #expect(row.allSatisfy { $0.isNaN }, "\(name) cols=\(cols) row \(r): \(Array(row))")
            }
            let last = Array(y[(3 * cols)..<(4 * cols)])
            #expect(sameValues(last, [0, 0.5, 0.5] + pad.map { _ in 0 }), "\(name) cols=\(cols) row 3: \(last)")
        }
    }

    @Test("cross-entropy: NaN logits give a NaN loss and NaN gradients", arguments: TestBackends.available)
    func crossEntropyOnNaN(name: String) throws {
        let backend = try TestBackends.make(name)
        let logits: [Float] = [0, .nan, 1, 2, 3, 4]  // rows: [0, NaN, 1], [2, 3, 4]
        var grad = [Float](repeating: 7, count: 6)
        let loss = backend.softmaxCrossEntropy(logits: logits, labels: [0, 2], rows: 2, cols: 3, grad: &grad, scale: 1)
        #expect(loss.isNaN, "\(name) labels loss \(loss)")
        #expect(grad[0..<3].allSatisfy { $0.isNaN }, "\(name) labels grad \(grad)")
        // The finite row is unaffected: p = softmax([2, 3, 4]) = [0.0900, 0.2447, 0.6652]; p − y.
        #expect(allClose(grad[3..<6], [0.09003057, 0.24472847, 0.66524096 - 1], abs: 1e-6), "\(name) \(grad)")
        let targets: [Float] = [0.5, 0.5, 0, 0, 0, 1]
        let lossT = backend.softmaxCrossEntropy(logits: logits, targets: targets, rows: 2, cols: 3, grad: &grad, scale: 1)
        #expect(lossT.isNaN, "\(name) targets loss \(lossT)")
        #expect(grad[0..<3].allSatisfy { $0.isNaN }, "\(name) targets grad \(grad)")
    }

    @Test("MSE and BCE: non-finite inputs give a non-finite loss; huge logits do not overflow",
          arguments: TestBackends.available)
    func elementwiseLossesOnNonFinite(name: String) throws {
        let backend = try TestBackends.make(name)
        var grad = [Float](repeating: 7, count: 2)
        // (NaN − 0)² = NaN.
        #expect(backend.squaredError([.nan, 1], target: [0, 1], count: 2, grad: &grad, scale: 1).isNaN, "\(name)")
        #expect(grad[0].isNaN && grad[1] == 0, "\(name) \(grad)")
        // (∞ − 0)² = ∞, grad = 2·∞.
        #expect(backend.squaredError([.infinity, 1], target: [0, 1], count: 2, grad: &grad, scale: 1) == .infinity, "\(name)")
        #expect(grad == [.infinity, 0], "\(name) \(grad)")
        // (2e19 − (−2e19))² = 1.6e39 overflows a Float term (PyTorch float32 gives ∞).
        #expect(backend.squaredError([2e19, 0], target: [-2e19, 0], count: 2, grad: &grad, scale: 1) == .infinity, "\(name)")
        // BCE on a NaN logit: NaN loss and gradient.
        #expect(backend.binaryCrossEntropyWithLogits([.nan, 0], target: [1, 1], count: 2, grad: &grad, scale: 1).isNaN, "\(name)")
        #expect(grad[0].isNaN && grad[1] == -0.5, "\(name) \(grad)")
        // z = ±1e30 with the right target: max(z, 0) − z·t + log(1 + e^−|z|) = 0 exactly; gradient 0.
        let right = backend.binaryCrossEntropyWithLogits([1e30, -1e30], target: [1, 0], count: 2, grad: &grad, scale: 1)
        #expect(right == 0 && grad == [0, 0], "\(name) huge right logits: \(right) \(grad)")
        // The wrong target: the loss is |z| = 1e30 each (summed in Double), gradient ±1.
        let wrong = backend.binaryCrossEntropyWithLogits([1e30, -1e30], target: [0, 1], count: 2, grad: &grad, scale: 1)
        #expect(isClose(wrong, 2 * Double(Float(1e30)), rel: 1e-6) && grad == [1, -1], "\(name) huge wrong logits: \(wrong) \(grad)")
    }

    // MARK: - Row and buffer ops

    @Test("argmax: NaN counts as the largest value (the first NaN wins), as numpy and PyTorch",
          arguments: TestBackends.available)
    func argmaxWithNaN(name: String) throws {
        let backend = try TestBackends.make(name)
        let nan = Self.nan, inf = Self.inf
        // Rows of 3, then the same rows padded to 19 columns with −∞ (past a SIMD width).
        let rows: [[Float]] = [[1, nan, 3], [nan, 5, nan], [-inf, -inf, -inf], [1, inf, inf], [-0.0, 0, -1], [2, 3, nan]]
        let want: [Int32] = [1, 0, 0, 1, 0, 2]
        for width in [3, 19] {  // padding −∞ never wins
            let x = rows.flatMap { $0 + [Float](repeating: -inf, count: width - 3) }
            var out = [Int32](repeating: -1, count: rows.count)
            backend.argmaxRows(x, rows: rows.count, cols: width, into: &out)
            #expect(out == want, "\(name) width \(width): \(out)")
        }
    }

    @Test("sums, scale and bias propagate NaN and ∞; sum of squares does not overflow in Double",
          arguments: TestBackends.available)
    func bufferOpsOnNonFinite(name: String) throws {
        let backend = try TestBackends.make(name)
        let (nan, inf) = (Self.nan, Self.inf)
        #expect(backend.sumOfSquares([1, nan, 2], count: 3).isNaN, "\(name)")
        #expect(backend.sumOfSquares([1, -inf], count: 2) == .infinity, "\(name)")
        // (1e30)² + (1e30)² = 2e60 (Float 1e30 is 1.0000000150e30): fine in Double.
        let big = Double(Float(1e30))
        #expect(isClose(backend.sumOfSquares([1e30, -1e30], count: 2), 2 * big * big, rel: 1e-12), "\(name)")
        // scale is an IEEE multiply: NaN·s = NaN, ∞·0 = NaN, ∞·−1 = −∞.
        var x: [Float] = [nan, inf, 3, -0.0]
        backend.scale(&x, by: 0, count: 4)
        #expect(sameValues(x, [nan, nan, 0, 0]), "\(name) scale by 0: \(x)")
        x = [nan, inf, 3, -0.0]
        backend.scale(&x, by: -1, count: 4)
        #expect(sameValues(x, [nan, -inf, -3, 0]), "\(name) scale by -1: \(x)")
        // Columns: [NaN, ∞, −∞] + [1, ∞, ∞] = [NaN, ∞, NaN].
        var sums = [Float](repeating: 7, count: 3)
        backend.sumColumns([nan, inf, -inf, 1, inf, inf], rows: 2, cols: 3, into: &sums, accumulate: false)
        #expect(sameValues(sums, [nan, inf, nan]), "\(name) sumColumns: \(sums)")
        var biased: [Float] = [1, 2, 3, 4]
        backend.addBias(&biased, bias: [nan, inf], rows: 2, cols: 2)
        #expect(sameValues(biased, [nan, inf, nan, inf]), "\(name) addBias: \(biased)")
    }

    // MARK: - Optimizers

    @Test("optimizers: a NaN or ∞ gradient makes the parameter NaN (never silently finite)",
          arguments: TestBackends.available)
    func optimizersOnNonFinite(name: String) throws {
        let backend = try TestBackends.make(name)
        let grad: [Float] = [.nan, .infinity, 0.5]
        for (momentum, nesterov) in [(Float(0), false), (0.9, false), (0.9, true)] {
            var param: [Float] = [1, 1, 1], velocity: [Float] = [0, 0, 0]
            velocity.withUnsafeMutableBufferPointer { v in
                backend.sgdUpdate(param: &param, grad: grad, velocity: momentum == 0 ? nil : v.baseAddress,
                                  count: 3, learningRate: 0.1, momentum: momentum, weightDecay: 0, nesterov: nesterov)
            }
            // 1 − 0.1·∞ = −∞; the finite element moves by 0.1·0.5 (momentum: v = g on the first
            // step; Nesterov: g + 0.9·v = 1.9g).
            let third: Float = nesterov ? 1 - 0.1 * 0.95 : 0.95
            #expect(sameValues(param, [.nan, -.infinity, third]), "\(name) sgd mu=\(momentum) nesterov=\(nesterov): \(param)")
        }
        for decoupled in [false, true] {
            var param: [Float] = [1, 1, 1], m: [Float] = [0, 0, 0], v: [Float] = [0, 0, 0]
            backend.adamUpdate(param: &param, grad: grad, m: &m, v: &v, count: 3, learningRate: 0.01,
                               beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, decoupled: decoupled, step: 1)
            // ∞: m̂ = ∞, v̂ = ∞, ∞/∞ = NaN. The finite element takes Adam's first step: lr·sign(g).
            #expect(param[0].isNaN && param[1].isNaN && isClose(Double(param[2]), 0.99, abs: 1e-6),
                    "\(name) adam decoupled=\(decoupled): \(param)")
        }
    }
}
