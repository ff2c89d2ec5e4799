import Foundation
import Testing
@testable import Backprop

/// A backend with one deliberate bug, to show that `OpVerifier` catches each kind.
private final class FaultyBackend: Backend {
    enum Fault {
        case gemmOffByRelative, gemmReadsC, gemmIgnoresLdc, softmaxSkew, argmaxLastTie, biasOverrun
        /// One NaN in C where the reference is finite.
        case gemmWritesNaN
        /// alpha = 0 still multiplies A and B (0 · NaN = NaN), against BLAS.
        case gemmReadsOperandsWhenAlphaIsZero
        /// relu(NaN) = 0, i.e. the old `x > 0 ? x : 0`.
        case reluZeroesNaN
    }

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
        case .gemmWritesNaN:
            reference.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                           b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            if m * n * k > 1 { c[(m - 1) * ldc + n - 1] = .nan }
        case .gemmReadsOperandsWhenAlphaIsZero where alpha == 0:
            // C = beta·C + 0·(A·B): exact for finite A·B, NaN where A·B has a NaN or ∞.
            reference.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0, a: a, lda: lda,
                           b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            let product = UnsafeMutablePointer<Float>.allocate(capacity: max(m * n, 1))
            defer { product.deallocate() }
            reference.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1, a: a, lda: lda,
                           b: b, ldb: ldb, beta: 0, c: product, ldc: n)
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] += 0 * product[i * n + j] } }
        default:
            reference.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                           b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        }
    }

    func softmaxRows(_ x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        SwiftBackend().softmaxRows(x, y: y, rows: rows, cols: cols)
        if fault == .softmaxSkew { for i in 0..<(rows * cols) { y[i] *= 1.0001 } }
    }

    func activationForward(_ kind: Activation, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int) {
        guard fault == .reluZeroesNaN && kind == .relu else {
            return SwiftBackend().activationForward(kind, x: x, y: y, count: count)
        }
        for i in 0..<count { y[i] = x[i] > 0 ? x[i] : 0 }
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
        #expect(records.map(\.op) == VerifiedOp.allCases)
        #expect(records.allSatisfy { $0.pass && $0.maxAbsError == 0 && $0.backend == "swift" && $0.cases > 0 })
    }

    @Test("a deliberate bug fails its op and only its op", arguments: [
        (FaultyBackend.Fault.gemmOffByRelative, VerifiedOp.gemm),
        (.gemmReadsC, .gemm),
        (.gemmIgnoresLdc, .gemm),
        (.softmaxSkew, .softmaxRows),
        (.argmaxLastTie, .argmaxRows),
        (.biasOverrun, .addBias),
        (.gemmWritesNaN, .gemm),
        (.gemmReadsOperandsWhenAlphaIsZero, .gemm),
        (.reluZeroesNaN, .reluForward),
    ])
    fileprivate func catchesFault(fault: FaultyBackend.Fault, op: VerifiedOp) {
        let records = OpVerifier().verify(FaultyBackend(fault), ops: [op, .copy])
        #expect(records.map(\.op) == [op, .copy])
        #expect(records.first?.pass == false, "\(fault) was not caught")
        #expect(records.first?.worstCase.isEmpty == false)
        #expect(records.last?.pass == true)
    }

    @Test("NaN never matches NaN unless specified; a NaN error is never lost by max")
    func meterIsNaNSafe() {
        var meter = ErrorMeter(tolerance: VerifiedOp.copy.tolerance)
        meter.compare(.nan, .nan, allowed: 1)
        meter.finishCase("NaN against NaN, not expected")
        #expect(meter.record(backend: "t", op: .copy).pass == false)

        var expected = ErrorMeter(tolerance: VerifiedOp.copy.tolerance)
        expected.compare(.nan, .nan, allowed: 0, nanExpected: true)
        expected.compare(.infinity, .infinity, allowed: 0, nanExpected: true)
        expected.finishCase("NaN where NaN is specified")
        #expect(expected.record(backend: "t", op: .copy).pass == true)

        // An error of 0.5 first, then a NaN result: `max(0.5, .nan)` would keep 0.5.
        var late = ErrorMeter(tolerance: VerifiedOp.sgdUpdate.tolerance)
        late.compare(1.5, 1, allowed: 1)
        late.compare(.nan, 1, allowed: 1)
        late.compare(.infinity, 1, allowed: 1)
        late.finishCase("late NaN")
        let record = late.record(backend: "t", op: .sgdUpdate)
        #expect(record.pass == false && record.maxAbsError == .infinity && record.worstRatio == .infinity)

        // ∞ against a finite value, or −∞ against +∞.
        for (got, want) in [(Double.infinity, 3.0), (-.infinity, .infinity), (2, .infinity)] {
            var meter = ErrorMeter(tolerance: VerifiedOp.gemm.tolerance)
            meter.compare(got, want, allowed: 1e30, nanExpected: true)
            meter.finishCase("\(got) vs \(want)")
            #expect(meter.record(backend: "t", op: .gemm).pass == false, "\(got) vs \(want)")
        }
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

    /// `backprop verify` covers every primitive: each requirement of the `Backend` protocol (read
    /// from Backend.swift, so a primitive added later without a check fails here) has a
    /// ``VerifiedOp`` of the same name (activations and losses split by kind), and every op
    /// belongs to a check.
    @Test("every Backend requirement is a verified op, and every op has a check")
    func everyPrimitiveIsVerified() throws {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/Backprop/Backend.swift")
        let text = try String(contentsOf: source, encoding: .utf8)
        let start = try #require(text.range(of: "public protocol Backend: "))
        let body = text[start.upperBound...]
        let end = try #require(body.range(of: "\n}\n"))
        let requirements = body[..<end.lowerBound].matches(of: #/\n    func (\w+)/#).map { String($0.output.1) }
        #expect(requirements.count >= 30 && requirements.contains("im2col") && requirements.contains("batchNormBackward"))
        let verified = Set(VerifiedOp.allCases.map { $0.rawValue.replacingOccurrences(of: "_", with: "") })
        // The requirements whose ops are named by kind.
        let byKind = ["activationForward": "reluforward", "activationBackward": "relubackward",
                      "softmaxCrossEntropy": "softmaxxentlabels", "binaryCrossEntropyWithLogits": "bcelogits"]
        for name in requirements {
            let op = byKind[name] ?? name.lowercased()
            #expect(verified.contains(op), "Backend.\(name) has no VerifiedOp, so `backprop verify` does not check it")
        }
        // Every op belongs to a check that runs it (referenceIsExact runs them all).
        #expect(Set(VerificationRun.checks.flatMap(\.ops)) == Set(VerifiedOp.allCases))
    }
}
