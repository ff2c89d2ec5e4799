import Testing
@testable import Backprop

/// A backend with one deliberate bug, to show that `OpVerifier` catches each kind.
private final class FaultyBackend: Backend {
    enum Fault { case gemmOffByRelative, gemmReadsC, gemmIgnoresLdc, softmaxSkew, argmaxLastTie, biasOverrun }

    let name = "faulty"
    let detail = "test double"
    let fault: Fault
    init(_ fault: Fault) { self.fault = fault }

    func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let reference = SwiftBackend()
        switch fault {
        case .gemmOffByRelative:
            reference.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                           b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= 1.001 } }
        case .gemmReadsC:
            // beta · C computed even when beta is 0, so NaN in C propagates.
            let saved = (0..<m).flatMap { i in (0..<n).map { c[i * ldc + $0] } }
            reference.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                           b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] += beta * saved[i * n + j] * 0 } }
        case .gemmIgnoresLdc:
            // Writes rows n apart; with ldc > n the result lands in the wrong cells.
            reference.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                           b: b, ldb: ldb, beta: beta, c: c, ldc: n)
        default:
            reference.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                           b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        }
    }

    func softmaxRows(_ x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        SwiftBackend().softmaxRows(x, y: y, rows: rows, cols: cols)
        if fault == .softmaxSkew { for i in 0..<(rows * cols) { y[i] *= 1.0001 } }
    }

    func argmaxRows(_ x: UnsafePointer<Float>, rows: Int, cols: Int, into out: UnsafeMutablePointer<Int32>) {
        guard fault == .argmaxLastTie else { return SwiftBackend().argmaxRows(x, rows: rows, cols: cols, into: out) }
        for r in 0..<rows {
            var best = 0
            for c in 0..<cols where x[r * cols + c] >= x[r * cols + best] { best = c }
            out[r] = Int32(best)
        }
    }

    func addBias(_ x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, rows: Int, cols: Int) {
        SwiftBackend().addBias(x, bias: bias, rows: rows, cols: cols)
        if fault == .biasOverrun && rows * cols > 0 { x[rows * cols] = 0 }
    }
}

@Suite("Op verifier")
struct VerifierTests {
    @Test("the reference matches itself exactly")
    func referenceIsExact() {
        let records = OpVerifier().verify(SwiftBackend())
        #expect(records.allSatisfy { $0.pass && $0.maxAbsError == 0 && $0.backend == "swift" })
    }

    @Test("a deliberate bug fails its op and only its op", arguments: [
        (FaultyBackend.Fault.gemmOffByRelative, VerifiedOp.gemm),
        (.gemmReadsC, .gemm),
        (.gemmIgnoresLdc, .gemm),
        (.softmaxSkew, .softmaxRows),
        (.argmaxLastTie, .argmaxRows),
        (.biasOverrun, .addBias),
    ])
    fileprivate func catchesFault(fault: FaultyBackend.Fault, op: VerifiedOp) {
        let records = OpVerifier().verify(FaultyBackend(fault), ops: [op, .copy])
        #expect(records.map(\.op) == [op, .copy])
        #expect(records.first?.pass == false, "\(fault) was not caught")
        #expect(records.first?.worstCase.isEmpty == false)
        #expect(records.last?.pass == true)
    }

    @Test("the same seed gives the same records; another seed other cases")
    func seeded() {
        let backend = FaultyBackend(.gemmOffByRelative)
        let first = OpVerifier(seed: 1).verify(backend, ops: [.gemm])
        #expect(first == OpVerifier(seed: 1).verify(backend, ops: [.gemm]))
        #expect(first != OpVerifier(seed: 2).verify(backend, ops: [.gemm]))
    }

    @Test("tolerances: GEMM grows with K, exact ops allow nothing")
    func tolerances() {
        let gemm = VerifiedOp.gemm.tolerance
        #expect(gemm.allowed(reference: 0, terms: 1000, scale: 1) > 10 * gemm.allowed(reference: 0, terms: 10, scale: 1))
        #expect(VerifiedOp.copy.tolerance.allowed(reference: 5) == 0)
        #expect(VerifiedOp.copy.tolerance.description == "exact")
        #expect(VerifiedOp.sigmoidForward.tolerance.description == "|Δ| ≤ 1e-06 + 1e-05·|ref|")
    }
}
