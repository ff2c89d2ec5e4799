import Testing
@testable import Backprop

/// Every backend that can run on this machine (`swift` always), built with two threads, and
/// the plugins of `BACKPROP_PLUGIN_PATH` (scripts/test points it at .build/plugins, so the
/// `example` and `blis` plugins run this suite too; a load error fails
/// `PluginTests.thePluginPathOfThisRunLoads`). The process environment is honoured, so
/// `BACKPROP_OPENBLAS_DISABLE=1 swift test` runs the suite as on a machine without OpenBLAS.
private let availableBackendNames: [String] = {
    _ = try? BackendPlugins.loadFromEnvironment()
    let entries = (try? BackendRegistry.entries(threads: 2, environment: ProcessEnvironment.current)) ?? []
    return entries.filter(\.available).map(\.name)
}()

private func makeBackend(_ name: String) throws -> any Backend {
    try BackendRegistry.make(name: name, threads: 2, environment: ProcessEnvironment.current)
}

/// C = alpha · op(A) · op(B) + beta · C on arrays; returns the whole C buffer, padding included.
private func gemm(
    _ backend: any Backend, transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: [Float], lda: Int, b: [Float], ldb: Int, beta: Float = 0, c: [Float], ldc: Int
) -> [Float] {
    var out = c
    a.withUnsafeBufferPointer { a in
        b.withUnsafeBufferPointer { b in
            out.withUnsafeMutableBufferPointer { c in
                backend.gemm(transA: transA, transB: transB, m: m, n: n, k: k,
                             alpha: alpha, a: a.baseAddress!, lda: lda, b: b.baseAddress!, ldb: ldb,
                             beta: beta, c: c.baseAddress!, ldc: ldc)
            }
        }
    }
    return out
}

/// Every backend against the pure-Swift reference, op by op, through `OpVerifier`; and
/// GEMM edge cases with hand-computed answers.
@Suite("Backend equivalence")
struct EquivalenceTests {
    @Test("the registry offers at least the reference backend")
    func referenceIsAvailable() {
        #expect(availableBackendNames.contains("swift"))
    }

    @Test("every op matches the reference within its tolerance", arguments: availableBackendNames)
    func everyOpMatches(name: String) throws {
        let records = OpVerifier().verify(try makeBackend(name))
        #expect(records.count == VerifiedOp.allCases.count)
        for record in records {
            #expect(record.cases > 0, "\(record.op) ran no case")
            #expect(record.pass, """
                \(name) \(record.op): max abs \(record.maxAbsError), max rel \(record.maxRelError), \
                \(record.worstRatio)× the tolerance (\(record.tolerance)) at \(record.worstCase)
                """)
        }
    }

    @Test("beta = 0 ignores NaN in C", arguments: availableBackendNames)
    func betaZeroIgnoresNaN(name: String) throws {
        let backend = try makeBackend(name)
        // A: (2, 2), B: (2, 2) -> C: (2, 2) = [[19, 22], [43, 50]] · 2
        let c = gemm(backend, m: 2, n: 2, k: 2, alpha: 2, a: [1, 2, 3, 4], lda: 2,
                     b: [5, 6, 7, 8], ldb: 2, beta: 0, c: [.nan, .nan, .nan, .infinity], ldc: 2)
        #expect(c == [38, 44, 86, 100])
    }

    @Test("k = 0 scales C by beta", arguments: availableBackendNames)
    func emptyInnerDimension(name: String) throws {
        let backend = try makeBackend(name)
        // A: (2, 0), B: (0, 3); the one-float arrays stand in for empty storage.
        let scaled = gemm(backend, m: 2, n: 3, k: 0, alpha: 1, a: [0], lda: 0, b: [0], ldb: 3,
                          beta: 2, c: [1, 2, 3, 4, 5, 6], ldc: 3)
        #expect(scaled == [2, 4, 6, 8, 10, 12])
        let zeroed = gemm(backend, transA: true, transB: true, m: 2, n: 3, k: 0, a: [0], lda: 2,
                          b: [0], ldb: 0, beta: 0, c: [.nan, 1, 2, 3, 4, .nan], ldc: 3)
        #expect(zeroed == [0, 0, 0, 0, 0, 0])
    }

    @Test("m = 0 and n = 0 leave C untouched", arguments: availableBackendNames)
    func emptyOutput(name: String) throws {
        let backend = try makeBackend(name)
        let c: [Float] = [7, 8, 9]
        #expect(gemm(backend, m: 0, n: 3, k: 2, a: [1, 2], lda: 2, b: [1, 2, 3, 4, 5, 6], ldb: 3,
                     beta: 0, c: c, ldc: 3) == c)
        #expect(gemm(backend, m: 3, n: 0, k: 2, a: [1, 2, 3, 4, 5, 6], lda: 2, b: [1], ldb: 0,
                     beta: 0, c: c, ldc: 0) == c)
    }

    @Test("leading dimensions larger than the widths", arguments: availableBackendNames)
    func paddedLeadingDimensions(name: String) throws {
        let backend = try makeBackend(name)
        // A: (2, 3) in rows of 5, B: (3, 2) in rows of 4, C: (2, 2) in rows of 3.
        // The padding of A and B is NaN (must not be used); C's padding (-1) must survive.
        let a: [Float] = [1, 2, 3, .nan, .nan,
                          4, 5, 6, .nan, .nan]
        let b: [Float] = [1, 0, .nan, .nan,
                          0, 1, .nan, .nan,
                          1, 1, .nan, .nan]
        let c: [Float] = [10, 20, -1,
                          30, 40, -1]
        let out = gemm(backend, m: 2, n: 2, k: 3, alpha: 1, a: a, lda: 5, b: b, ldb: 4,
                       beta: 0.5, c: c, ldc: 3)
        // op(A)·op(B) = [[4, 5], [10, 11]]; + 0.5·C.
        #expect(out == [9, 15, -1, 25, 31, -1])
    }

    @Test("transposed operands", arguments: availableBackendNames)
    func transposes(name: String) throws {
        let backend = try makeBackend(name)
        // A stored (3, 2) so op(A) = Aᵀ: (2, 3); B stored (2, 3) so op(B) = Bᵀ: (3, 2).
        let out = gemm(backend, transA: true, transB: true, m: 2, n: 2, k: 3,
                       a: [1, 4, 2, 5, 3, 6], lda: 2, b: [1, 0, 1, 0, 1, 1], ldb: 3,
                       beta: 0, c: [0, 0, 0, 0], ldc: 2)
        // Aᵀ = [[1, 2, 3], [4, 5, 6]], Bᵀ = [[1, 0], [0, 1], [1, 1]].
        #expect(out == [4, 5, 10, 11])
    }

    @Test("1 x 1 x 1", arguments: availableBackendNames)
    func scalar(name: String) throws {
        let backend = try makeBackend(name)
        let out = gemm(backend, m: 1, n: 1, k: 1, alpha: 2, a: [3], lda: 1, b: [4], ldb: 1,
                       beta: 0.5, c: [10], ldc: 1)
        #expect(out == [29])
    }

    @Test("random shapes, transposes and leading dimensions", arguments: availableBackendNames)
    func randomGemm(name: String) throws {
        let backend = try makeBackend(name)
        let reference = SwiftBackend()
        let tolerance = VerifiedOp.gemm.tolerance
        for iteration in 0..<40 {
            // Each iteration has its own seed, printed on failure to replay just that case.
            let seed = 0xA11CE + UInt64(iteration)
            var rng = SeededGenerator(seed: seed)
            let m = 1 + rng.nextInt(below: 80), n = 1 + rng.nextInt(below: 80), k = 1 + rng.nextInt(below: 80)
            let transA = rng.nextInt(below: 2) == 1, transB = rng.nextInt(below: 2) == 1
            let lda = (transA ? m : k) + rng.nextInt(below: 4)
            let ldb = (transB ? k : n) + rng.nextInt(below: 4)
            let ldc = n + rng.nextInt(below: 4)
            let a = (0..<((transA ? k : m) * lda)).map { _ in rng.uniform(-1, 1) }
            let b = (0..<((transB ? n : k) * ldb)).map { _ in rng.uniform(-1, 1) }
            let c = (0..<(m * ldc)).map { _ in rng.uniform(-1, 1) }
            let alpha = rng.uniform(-2, 2), beta = rng.uniform(-2, 2)
            let want = gemm(reference, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                            a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            let got = gemm(backend, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                           a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            let allowed = tolerance.allowed(reference: 0, terms: k + 2, scale: Double(abs(alpha) + abs(beta)))
            let worst = zip(got, want).map { Double(abs($0 - $1)) }.max() ?? 0
            #expect(worst <= allowed, "seed \(seed): m=\(m) n=\(n) k=\(k) transA=\(transA) transB=\(transB) error \(worst)")
        }
    }

    @Test("the quick plan puts every size in every GEMM dimension")
    func planCoversSizes() {
        let cases = VerificationPlan(thorough: false).gemmCases
        for size in VerificationPlan.sizes {
            #expect(cases.contains { $0.m == size }, "m = \(size) is never run")
            #expect(cases.contains { $0.n == size }, "n = \(size) is never run")
            #expect(cases.contains { $0.k == size }, "k = \(size) is never run")
        }
        for t in 0..<4 {
            #expect(cases.contains { $0.transA == (t & 1 == 1) && $0.transB == (t & 2 == 2) })
        }
        #expect(cases.contains { $0.beta == 0 } && cases.contains { $0.padC > 0 } && cases.contains { $0.misaligned })
    }
}
