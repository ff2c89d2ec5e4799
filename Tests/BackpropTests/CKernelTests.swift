import CKernels
import Testing
@testable import Backprop
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Every C kernel against the pure-Swift reference (`SwiftBackend`), on each SIMD level this
// machine supports, for many shapes. SIMD level and thread count belong to each `CBackend`
// (its bp_context), so every test builds the instances it needs; GEMM tests pass the level,
// path and thread count per call through `bp_sgemm_with`. Serialized only to keep two
// multi-threaded tests from competing for the two cores.
//
// Tolerances:
// - GEMM: |C − C_ref| ≤ 2(k + 2)·ε·|α|·max|A|·max|B| + 2ε·|β|·max|C₀| (ε = 2⁻²³): both results
//   round k products and sums, the bound of a dot product of length k.
// - softmax, activations, optimizer updates, gradients: 4e-6 absolute + 4e-6 relative (the
//   vector exp is within 1.3 ulp and tanh within 1.5 ulp of the exact values; expf, tanhf and
//   the reference's summation order add a few more).
// - losses (double sums of float terms): 1e-5 relative + 1e-6 absolute.
// - bias add, column sums, copy, fill, scale, argmax: exact or 1e-5 relative (order of sums).
@Suite(.serialized) struct CKernelTests {
    static let reference = SwiftBackend()
    static let backend = CBackend()
    static let levels = Array(Int32(BP_SIMD_PORTABLE.rawValue)...bp_simd_level_supported())
    static let dims = [1, 2, 3, 7, 17, 31, 32, 33, 64, 127, 255, 256, 1000]
    static let epsilon = Float.ulpOfOne

    // MARK: - GEMM

    /// op(A): (m, k), op(B): (k, n), C: (m, n) with padded leading dimensions.
    struct GemmCase {
        var transA: Bool, transB: Bool, m: Int, n: Int, k: Int
        var alpha: Float, beta: Float
        var a: [Float], b: [Float], c: [Float]
        var lda: Int, ldb: Int, ldc: Int

        init(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
             alpha: Float = 0.75, beta: Float = -0.5, pad: Int = 3, seed: UInt64 = 1) {
            var rng = SeededGenerator(seed: seed &+ UInt64(m * 1_000_003 + n * 1009 + k))
            self.transA = transA; self.transB = transB
            self.m = m; self.n = n; self.k = k; self.alpha = alpha; self.beta = beta
            lda = (transA ? m : k) + pad
            ldb = (transB ? k : n) + pad
            ldc = n + pad
            a = CKernelTests.random((transA ? k : m) * lda, &rng)
            b = CKernelTests.random((transB ? n : k) * ldb, &rng)
            c = CKernelTests.random(m * ldc, &rng)
        }

        /// C after the GEMM on `backend`, or via bp_sgemm_with when `level` is given (via
        /// bp_sgemm_blocked_with when `blocks` is given too).
        func run(_ backend: Backend, level: Int32? = nil, threads: Int32 = 1,
                 path: bp_gemm_path_t = BP_GEMM_AUTO, blocks: bp_gemm_blocks? = nil) -> [Float] {
            var out = c
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    out.withUnsafeMutableBufferPointer { pc in
                        if let level, var blocks {
                            var context = bp_context(simd_level: level, threads: threads)
                            bp_sgemm_blocked_with(&context, &blocks, transA ? 1 : 0, transB ? 1 : 0,
                                                  m, n, k, alpha, pa.baseAddress!, lda, pb.baseAddress!,
                                                  ldb, beta, pc.baseAddress!, ldc)
                        } else if let level {
                            var context = bp_context(simd_level: level, threads: threads)
                            bp_sgemm_with(&context, Int32(path.rawValue), transA ? 1 : 0,
                                          transB ? 1 : 0, m, n, k, alpha, pa.baseAddress!, lda,
                                          pb.baseAddress!, ldb, beta, pc.baseAddress!, ldc)
                        } else {
                            backend.gemm(transA: transA, transB: transB, m: m, n: n, k: k,
                                         alpha: alpha, a: pa.baseAddress!, lda: lda,
                                         b: pb.baseAddress!, ldb: ldb, beta: beta,
                                         c: pc.baseAddress!, ldc: ldc)
                        }
                    }
                }
            }
            return out
        }

        var tolerance: Double {
            let maxA = largestMagnitude(a), maxB = largestMagnitude(b), maxC = largestMagnitude(c)
            let eps = Double(epsilon)
            return 2 * Double(k + 2) * eps * Double(abs(alpha)) * maxA * maxB + 2 * eps * Double(abs(beta)) * maxC
        }

        /// The largest error over the (m, n) window of C (+∞ for a NaN or an infinity), and
        /// whether it is within the tolerance and the padding was untouched.
        func check(_ got: [Float], against want: [Float]) -> (ok: Bool, worst: Double) {
            var worst = 0.0
            for i in 0..<m {
                let row = (i * ldc)..<(i * ldc + n)
                worst = max(worst, worstError(got[row], want[row]))
                for j in n..<ldc where got[i * ldc + j] != c[i * ldc + j] { return (false, .infinity) }
            }
            return (worst <= tolerance, worst)
        }
    }

    static func random(_ count: Int, _ rng: inout SeededGenerator) -> [Float] {
        (0..<count).map { _ in Float(rng.nextUnit() * 2 - 1) }
    }

    static let transposes = [(false, false), (false, true), (true, false), (true, true)]

    /// Runs one case on the auto path (the process settings), the direct path, and the blocked,
    /// narrow and shared-B paths of every SIMD level on 1 and 2 threads; all must match the
    /// reference.
    func checkAllPaths(_ g: GemmCase, blockedThreads: [Int32] = [1, 2]) {
        let want = g.run(Self.reference)
        let auto = g.check(g.run(Self.backend), against: want)
        #expect(auto.ok, "auto \(g.transA)\(g.transB) (\(g.m),\(g.n),\(g.k)) err \(auto.worst) tol \(g.tolerance)")
        let direct = g.check(g.run(Self.backend, level: 0, path: BP_GEMM_DIRECT), against: want)
        #expect(direct.ok, "direct (\(g.m),\(g.n),\(g.k)) err \(direct.worst)")
        for level in Self.levels {
            for threads in blockedThreads {
                let got = g.check(g.run(Self.backend, level: level, threads: threads, path: BP_GEMM_BLOCKED),
                                  against: want)
                let narrow = g.check(g.run(Self.backend, level: level, threads: threads, path: BP_GEMM_NARROW),
                                     against: want)
                let shared = g.check(g.run(Self.backend, level: level, threads: threads, path: BP_GEMM_SHARED_B),
                                     against: want)
                #expect(shared.ok, "shared-B level \(level) threads \(threads) \(g.transA)\(g.transB) (\(g.m),\(g.n),\(g.k)) err \(shared.worst)")
                #expect(narrow.ok, "narrow level \(level) threads \(threads) \(g.transA)\(g.transB) (\(g.m),\(g.n),\(g.k)) err \(narrow.worst)")
                #expect(got.ok, "blocked level \(level) threads \(threads) \(g.transA)\(g.transB) (\(g.m),\(g.n),\(g.k)) err \(got.worst) tol \(g.tolerance)")
            }
        }
    }

    @Test func gemmFullSweepOfSmallDims() {
        let small = [1, 2, 3, 7, 17, 33]
        for (transA, transB) in Self.transposes {
            for m in small {
                for n in small {
                    for k in small {
                        checkAllPaths(GemmCase(transA, transB, m, n, k), blockedThreads: [1])
                    }
                }
            }
        }
    }

    @Test func gemmSparseCrossOfAllDims() {
        // Every size of the list appears as m, n and k, crossed sparsely, within a work budget
        // that keeps the debug-mode reference fast.
        var cases = 0
        let d = Self.dims
        for i in d.indices {
            for j in d.indices {
                for l in d.indices where (i + 2 * j + 3 * l) % 7 == 0 {
                    let (m, n, k) = (d[i], d[j], d[l])
                    guard m * n * k <= 600_000 else { continue }
                    let (transA, transB) = Self.transposes[(i + j + l) % 4]
                    checkAllPaths(GemmCase(transA, transB, m, n, k, alpha: -1.25, beta: 0.3, pad: 5))
                    cases += 1
                }
            }
        }
        #expect(cases >= 60)
    }

    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func gemmMlpShapesAllTransposes(transA: Bool, transB: Bool) {
        for (m, n, k) in [(64, 127, 255), (31, 1000, 17), (256, 10, 128), (33, 64, 300)] {
            checkAllPaths(GemmCase(transA, transB, m, n, k, alpha: 0.5, beta: 1.5, pad: 1))
        }
    }

    @Test func gemmBetaZeroNeverReadsC() {
        for (transA, transB) in Self.transposes {
            for (m, n, k) in [(3, 5, 2), (33, 40, 17), (70, 65, 400), (45, 10, 300)] {
                var g = GemmCase(transA, transB, m, n, k, alpha: 1.5, beta: 0)
                g.c = g.c.map { _ in Float.nan }
                for level in Self.levels {
                    for path in [BP_GEMM_DIRECT, BP_GEMM_BLOCKED, BP_GEMM_NARROW, BP_GEMM_SHARED_B] {
                        let out = g.run(Self.backend, level: level, threads: 2, path: path)
                        let window = (0..<m).flatMap { i in out[(i * g.ldc)..<(i * g.ldc + n)] }
                        #expect(window.allSatisfy { $0.isFinite }, "NaN leaked: level \(level) path \(path) (\(m),\(n),\(k))")
                    }
                }
            }
        }
    }

    @Test func gemmAlphaZeroOrEmptyKScalesC() {
        for (alpha, k) in [(Float(0), 5), (Float(2), 0)] {
            let g = GemmCase(false, true, 4, 6, k, alpha: alpha, beta: -2)
            let out = g.run(Self.backend)
            #expect(out == g.run(Self.reference))
            #expect(out[0] == -2 * g.c[0])
        }
    }

    @Test func gemmIsBitIdenticalForOneAndTwoThreads() {
        for (transA, transB) in Self.transposes {
            for (m, n, k) in [(129, 300, 257), (512, 37, 64), (40, 515, 800), (300, 10, 200)] {
                let g = GemmCase(transA, transB, m, n, k, alpha: 0.9, beta: 0.1)
                for level in Self.levels {
                    let one = g.run(Self.backend, level: level, threads: 1, path: BP_GEMM_BLOCKED)
                    let two = g.run(Self.backend, level: level, threads: 2, path: BP_GEMM_BLOCKED)
                    let three = g.run(Self.backend, level: level, threads: 3, path: BP_GEMM_BLOCKED)
                    let sharedOne = g.run(Self.backend, level: level, threads: 1, path: BP_GEMM_SHARED_B)
                    let sharedTwo = g.run(Self.backend, level: level, threads: 2, path: BP_GEMM_SHARED_B)
                    #expect(sharedOne == sharedTwo && sharedOne == one, "shared-B level \(level) (\(m),\(n),\(k))")
                    let narrowOne = g.run(Self.backend, level: level, threads: 1, path: BP_GEMM_NARROW)
                    let narrowTwo = g.run(Self.backend, level: level, threads: 2, path: BP_GEMM_NARROW)
                    #expect(narrowOne == narrowTwo, "narrow level \(level) (\(m),\(n),\(k))")
                    #expect(one == two && one == three, "level \(level) \(transA)\(transB) (\(m),\(n),\(k))")
                }
            }
        }
    }

    /// The blocked path reads an untransposed A in place when the task is at most 16
    /// micro-panels wide and A's row stride is not a multiple of 512 floats, and packs it
    /// otherwise (gemm.c, `a_in_place_pays`). The same A laid out both ways (rows k + 1 floats
    /// apart, read in place wherever the task is narrow enough; rows 512 floats apart, always
    /// packed) must give bit-identical C, within the reference's tolerance, on every level and
    /// 1–3 threads: tile heights 1 to 6 (m mod 6), grids that split m (44 and 50 rows on 2 or 3
    /// threads), more rows than one MC block on any CPU (400), and a width (300, 19 panels)
    /// that packs on 1 thread and reads in place once 2 threads split it. The padding of both
    /// layouts is NaN, so a read past column k shows up in C.
    @Test func aReadInPlaceAndPackedAreBitIdentical() {
        for (m, n, k) in [(1, 16, 300), (2, 100, 509), (3, 256, 1), (5, 33, 300), (7, 128, 509),
                          (13, 250, 64), (44, 17, 509), (50, 17, 300), (128, 300, 64),
                          (128, 256, 300), (130, 200, 511), (400, 64, 100)] {
            let source = GemmCase(false, false, m, n, k, alpha: 0.9, beta: 0.1, pad: 1)
            func laidOut(rowStride: Int) -> GemmCase {
                var g = source
                g.lda = rowStride
                g.a = [Float](repeating: .nan, count: m * rowStride)
                for i in 0..<m {
                    for p in 0..<k { g.a[i * rowStride + p] = source.a[i * source.lda + p] }
                }
                return g
            }
            let inPlace = laidOut(rowStride: k + 1), packed = laidOut(rowStride: 512)
            let want = inPlace.run(Self.reference)
            for level in Self.levels {
                for threads: Int32 in [1, 2, 3] {
                    let a = inPlace.run(Self.backend, level: level, threads: threads, path: BP_GEMM_BLOCKED)
                    let b = packed.run(Self.backend, level: level, threads: threads, path: BP_GEMM_BLOCKED)
                    let check = inPlace.check(a, against: want)
                    #expect(check.ok, "in place level \(level) threads \(threads) (\(m),\(n),\(k)) err \(check.worst)")
                    #expect(a == b, "in place vs packed level \(level) threads \(threads) (\(m),\(n),\(k))")
                }
            }
        }
    }

    /// Both loop orders of the blocked path (the B-block order of large-L2 CPUs, the A-block order
    /// of smaller ones), whichever this CPU uses, with blocks small enough that every loop runs
    /// several times and ends on a partial block: equal to the reference, and bit-identical
    /// between the orders and across 1, 2 and 3 threads.
    @Test func bothBlockedLoopOrdersMatchTheReferenceAndEachOther() {
        for (transA, transB) in Self.transposes {
            for (m, n, k) in [(61, 75, 70), (13, 131, 33), (100, 40, 1)] {
                let g = GemmCase(transA, transB, m, n, k, alpha: 0.9, beta: 0.1)
                let want = g.run(Self.reference)
                for level in Self.levels {
                    var results: [[Float]] = []
                    for order: Int32 in [0, 1] {
                        let blocks = bp_gemm_blocks(mr: 0, nr: 0, mc: 20, kc: 16, nc: 40, b_panel_in_l1: order)
                        for threads: Int32 in [1, 2, 3] {
                            let got = g.run(Self.backend, level: level, threads: threads, blocks: blocks)
                            let check = g.check(got, against: want)
                            #expect(check.ok, "order \(order) level \(level) threads \(threads) \(transA)\(transB) (\(m),\(n),\(k)) err \(check.worst)")
                            results.append(got)
                        }
                    }
                    #expect(results.allSatisfy { $0 == results[0] }, "level \(level) \(transA)\(transB) (\(m),\(n),\(k))")
                }
            }
        }
    }

    /// A task's rows are cut into the fewest blocks of at most MC, as even as whole tiles allow
    /// (128 rows with MC 126 run as 66 + 62, not 126 + 2; gemm.c, `row_block_count`). The
    /// height of those blocks must never change C: every MC from one tile to more than m, both
    /// loop orders, 1 and 2 threads, must match the reference and be bit-identical to each
    /// other, for row counts that a cut into full blocks would leave with a short last one
    /// (128 and 131 with MC 120 or 126; 61 with MC 30, and with MC 20 on 2 threads), and one
    /// shorter than a tile.
    @Test func rowBlockHeightNeverChangesResults() {
        Self.expectBlockSizesNeverChangeResults(
            shapes: [(128, 40, 19), (131, 33, 8), (61, 20, 30), (5, 17, 3)], alpha: 1.1, beta: -0.4, pad: 3,
            sizes: [1, 12, 20, 30, 120, 126, 1000], label: "MC") { mc, order in
            bp_gemm_blocks(mr: 0, nr: 0, mc: mc, kc: 16, nc: 32, b_panel_in_l1: order)
        }
    }

    /// The A-block order cuts a task's columns evenly into blocks of at most NC (n = 1536 with
    /// NC 1360 runs as 768 + 768; gemm.c, `column_block`), the B-block order into full NC
    /// blocks and a remainder. The width of those blocks must never change C: NC from one panel
    /// to more than n, both orders, 1 and 2 threads, must match the reference and be
    /// bit-identical, for widths an even cut splits unlike a full-block cut (100 with NC 48:
    /// 48 + 32 + 20 against 48 + 48 + 4 with NR 16; 131 and 33 with NC 32 at the portable level's NR
    /// 8), and one narrower than a panel.
    @Test func columnBlockWidthNeverChangesResults() {
        Self.expectBlockSizesNeverChangeResults(
            shapes: [(19, 100, 21), (13, 131, 8), (30, 33, 40), (7, 5, 3)], alpha: 0.7, beta: 0.3, pad: 2,
            sizes: [1, 32, 48, 64, 96, 4096], label: "NC") { nc, order in
            bp_gemm_blocks(mr: 0, nr: 0, mc: 12, kc: 16, nc: nc, b_panel_in_l1: order)
        }
    }

    /// For NN, TN and NT on every shape and SIMD level: the blocked path with `blocks(size,
    /// order)` for every size in `sizes`, both loop orders, on 1 and 2 threads, matches the
    /// reference, and all those results are bit-identical.
    static func expectBlockSizesNeverChangeResults(shapes: [(Int, Int, Int)], alpha: Float, beta: Float, pad: Int,
                                                   sizes: [Int], label: String,
                                                   blocks: (Int, Int32) -> bp_gemm_blocks) {
        for (transA, transB) in [(false, false), (true, false), (false, true)] {
            for (m, n, k) in shapes {
                let g = GemmCase(transA, transB, m, n, k, alpha: alpha, beta: beta, pad: pad)
                let want = g.run(reference)
                for level in levels {
                    var results: [[Float]] = []
                    for size in sizes {
                        for order: Int32 in [0, 1] {
                            for threads: Int32 in [1, 2] {
                                let got = g.run(backend, level: level, threads: threads, blocks: blocks(size, order))
                                let check = g.check(got, against: want)
                                #expect(check.ok, "\(label) \(size) order \(order) level \(level) threads \(threads) \(transA)\(transB) (\(m),\(n),\(k)) err \(check.worst)")
                                results.append(got)
                            }
                        }
                    }
                    #expect(results.allSatisfy { $0 == results[0] }, "level \(level) \(transA)\(transB) (\(m),\(n),\(k))")
                }
            }
        }
    }

    // MARK: - Other kernels

    /// Runs `body` once per supported SIMD level with a `CBackend` of that level, after checking
    /// that the backend's context really holds that level (what the kernels dispatch on).
    func forEachLevel(_ body: (CBackend, String) throws -> Void) rethrows {
        for level in Self.levels {
            let name = String(cString: bp_simd_level_name(level))
            let backend = CBackend(threads: 2, simd: SIMDLevel(rawValue: level)!)
            #expect(backend.simdLevel == name, "the backend for \(name) runs at \(backend.simdLevel)")
            try body(backend, name)
        }
    }

    static let rowShapes = [(1, 1), (2, 3), (7, 17), (3, 31), (5, 32), (4, 33), (17, 64), (2, 127),
                            (9, 255), (3, 256), (31, 1000), (1000, 7)]

    /// NaN-safe (see NumericComparison.swift): a NaN anywhere fails.
    static func close(_ got: [Float], _ want: [Float], abs a: Double = 4e-6, rel r: Double = 4e-6) -> Bool {
        allClose(got, want, abs: a, rel: r)
    }

    static func close(_ got: Double, _ want: Double, rel: Double = 1e-5, abs a: Double = 1e-6) -> Bool {
        isClose(got, want, abs: a, rel: rel)
    }

    /// Applies an in-place op on copies for `backend` and the reference; returns (backend's, reference's).
    static func pair(
        _ backend: CBackend, _ input: [Float], _ op: (Backend, UnsafeMutablePointer<Float>) -> Void
    ) -> ([Float], [Float]) {
        var got = input, want = input
        got.withUnsafeMutableBufferPointer { op(backend, $0.baseAddress!) }
        want.withUnsafeMutableBufferPointer { op(reference, $0.baseAddress!) }
        return (got, want)
    }

    @Test func softmaxAndCrossEntropyMatchReference() {
        forEachLevel { c, level in
            for (rows, cols) in Self.rowShapes {
                var rng = SeededGenerator(seed: UInt64(rows * 7919 + cols))
                let x = Self.random(rows * cols, &rng).map { $0 * 12 }
                let labels = (0..<rows).map { _ in Int32(rng.nextInt(below: cols)) }
                var targets = Self.random(rows * cols, &rng).map { abs($0) }
                for r in 0..<rows {
                    let s = targets[(r * cols)..<((r + 1) * cols)].reduce(0, +)
                    for c in 0..<cols { targets[r * cols + c] /= s }
                }
                let softmax = Self.pair(c, x) { b, p in b.softmaxRows(p, y: p, rows: rows, cols: cols) }
                #expect(Self.close(softmax.0, softmax.1), "softmax \(level) (\(rows),\(cols))")

                var lossC = 0.0, lossRef = 0.0
                let xentL = Self.pair(c, x) { b, g in
                    let loss = b.softmaxCrossEntropy(logits: x, labels: labels, rows: rows, cols: cols, grad: g, scale: 0.25)
                    if b === c { lossC = loss } else { lossRef = loss }
                }
                #expect(Self.close(xentL.0, xentL.1), "xent labels grad \(level) (\(rows),\(cols))")
                #expect(Self.close(lossC, lossRef), "xent labels loss \(level): \(lossC) vs \(lossRef)")

                let xentP = Self.pair(c, x) { b, g in
                    let loss = b.softmaxCrossEntropy(logits: x, targets: targets, rows: rows, cols: cols, grad: g, scale: -0.5)
                    if b === c { lossC = loss } else { lossRef = loss }
                }
                #expect(Self.close(xentP.0, xentP.1), "xent probs grad \(level) (\(rows),\(cols))")
                #expect(Self.close(lossC, lossRef), "xent probs loss \(level): \(lossC) vs \(lossRef)")
            }
        }
    }

    @Test func softmaxSurvivesExtremeLogits() {
        let rows: [[Float]] = [
            [1e4, -1e4, 0, 1e4, 3],
            [-1e4, -1e4, -1e4, -1e4, -1e4],
            [5, 5, 5, 5, 5],
            [-.infinity, 2, 1, 0, -1],
            [-.infinity, -.infinity, -.infinity, -.infinity, -.infinity],
            [88, 89, -200, 0, 1],
        ]
        let x = rows.flatMap { $0 }
        forEachLevel { c, level in
            for cols in [5] {
                let (got, want) = Self.pair(c, x) { b, p in b.softmaxRows(p, y: p, rows: rows.count, cols: cols) }
                #expect(Self.close(got, want), "\(level)")
                for r in 0..<rows.count {
                    let row = got[(r * cols)..<((r + 1) * cols)]
                    #expect(row.allSatisfy { $0.isFinite && $0 >= 0 }, "\(level) row \(r): \(Array(row))")
                    #expect(isClose(row.reduce(0, +), 1, abs: 1e-6), "\(level) row \(r) sums to \(row.reduce(0, +))")
                }
                #expect(got[0] == 0.5 && got[3] == 0.5 && got[1] == 0)
                #expect(got[15] == 0, "exp(-inf) must be exactly 0")
                #expect(got[(4 * cols)..<(5 * cols)].allSatisfy { $0 == 0.2 }, "all -inf gives a uniform row")
            }
        }
    }

    @Test func elementwiseOpsMatchReference() {
        forEachLevel { c, level in
            for n in [1, 2, 3, 7, 15, 16, 17, 31, 33, 64, 127, 1000, 70_001] {
                var rng = SeededGenerator(seed: UInt64(n))
                let x = Self.random(n, &rng).map { $0 * 9 }
                let other = Self.random(n, &rng)
                for kind in Activation.allCases {
                    let fwd = Self.pair(c, x) { b, y in b.activationForward(kind, x: y, y: y, count: n) }
                    #expect(Self.close(fwd.0, fwd.1), "\(kind) forward \(level) n=\(n)")
                    let bwd = Self.pair(c, other) { b, d in b.activationBackward(kind, y: fwd.1, dy: d, dx: d, count: n) }
                    #expect(Self.close(bwd.0, bwd.1), "\(kind) backward \(level) n=\(n)")
                }
                var lossC = 0.0, lossRef = 0.0
                let mse = Self.pair(c, other) { b, g in
                    let l = b.squaredError(x, target: other, count: n, grad: g, scale: 0.3)
                    if b === c { lossC = l } else { lossRef = l }
                }
                #expect(Self.close(mse.0, mse.1) && Self.close(lossC, lossRef), "mse \(level) n=\(n)")
                let t = other.map { ($0 + 1) / 2 }
                let bce = Self.pair(c, other) { b, g in
                    let l = b.binaryCrossEntropyWithLogits(x, target: t, count: n, grad: g, scale: 0.7)
                    if b === c { lossC = l } else { lossRef = l }
                }
                #expect(Self.close(bce.0, bce.1) && Self.close(lossC, lossRef), "bce \(level) n=\(n)")

                #expect(Self.close(c.sumOfSquares(x, count: n), Self.reference.sumOfSquares(x, count: n), rel: 1e-12))
                let scaled = Self.pair(c, x) { b, p in b.scale(p, by: -1.5, count: n) }
                #expect(scaled.0 == scaled.1)
                let filled = Self.pair(c, x) { b, p in b.fill(p, value: 2.5, count: n) }
                #expect(filled.0 == filled.1)
                let copied = Self.pair(c, other) { b, p in b.copy(x, to: p, count: n) }
                #expect(copied.0 == x && copied.1 == x)
            }
        }
    }

    @Test func vectorExpTanhAndSigmoidAreWithinFewUlps() {
        // The vector exp behind sigmoid, softmax and tanh, checked against double precision.
        let xs = stride(from: -80.0, through: 20.0, by: 0.0137).map { Float($0) }
        forEachLevel { c, level in
            var sig = [Float](repeating: 0, count: xs.count), th = sig
            c.activationForward(.sigmoid, x: xs, y: &sig, count: xs.count)
            c.activationForward(.tanh, x: xs, y: &th, count: xs.count)
            var worstSigmoid = 0.0, worstTanh = 0.0
            for (i, x) in xs.enumerated() {
                let wantS = 1 / (1 + exp(-Double(x))), wantT = tanh(Double(x))
                // elementError is +∞ (never NaN) for a NaN result, so `max` cannot drop it.
                worstSigmoid = max(worstSigmoid, elementError(Double(sig[i]), wantS) / Double(Float(wantS).ulp))
                if x != 0 { worstTanh = max(worstTanh, elementError(Double(th[i]), wantT) / Double(Float(wantT).ulp)) }
            }
            #expect(worstSigmoid <= 4, "sigmoid \(level): \(worstSigmoid) ulp")
            #expect(worstTanh <= 4, "tanh \(level): \(worstTanh) ulp")
        }
    }

    @Test func rowAndColumnOpsMatchReference() {
        forEachLevel { c, level in
            for (rows, cols) in Self.rowShapes + [(300, 300)] {
                var rng = SeededGenerator(seed: UInt64(rows * 31 + cols))
                let x = Self.random(rows * cols, &rng)
                let bias = Self.random(cols, &rng)
                let biased = Self.pair(c, x) { b, p in b.addBias(p, bias: bias, rows: rows, cols: cols) }
                #expect(biased.0 == biased.1, "bias \(level) (\(rows),\(cols))")
                for accumulate in [false, true] {
                    let sums = Self.pair(c, bias) { b, out in b.sumColumns(x, rows: rows, cols: cols, into: out, accumulate: accumulate) }
                    #expect(Self.close(sums.0, sums.1, abs: 1e-5, rel: 1e-5), "sumColumns \(level) (\(rows),\(cols))")
                }
                var got = [Int32](repeating: -1, count: rows), want = got
                c.argmaxRows(x, rows: rows, cols: cols, into: &got)
                Self.reference.argmaxRows(x, rows: rows, cols: cols, into: &want)
                #expect(got == want)
            }
        }
        // Ties go to the first maximum.
        var out: [Int32] = [9]
        Self.backend.argmaxRows([1, 3, 3, 2], rows: 1, cols: 4, into: &out)
        #expect(out == [1])
    }

    @Test func optimizerUpdatesMatchReference() {
        forEachLevel { c, level in
            for n in [1, 5, 16, 33, 1000, 70_001] {
                var rng = SeededGenerator(seed: UInt64(n) + 99)
                let param = Self.random(n, &rng), grad = Self.random(n, &rng)
                let state = Self.random(n, &rng), second = Self.random(n, &rng).map { abs($0) }
                for (momentum, wd, nesterov) in [(Float(0), Float(0), false), (0.9, 1e-2, false), (0.9, 1e-2, true)] {
                    var velC = state, velR = state
                    let upd = Self.pair(c, param) { b, p in
                        if b === c {
                            velC.withUnsafeMutableBufferPointer { v in
                                b.sgdUpdate(param: p, grad: grad, velocity: momentum == 0 ? nil : v.baseAddress,
                                            count: n, learningRate: 0.1, momentum: momentum, weightDecay: wd, nesterov: nesterov)
                            }
                        } else {
                            velR.withUnsafeMutableBufferPointer { v in
                                b.sgdUpdate(param: p, grad: grad, velocity: momentum == 0 ? nil : v.baseAddress,
                                            count: n, learningRate: 0.1, momentum: momentum, weightDecay: wd, nesterov: nesterov)
                            }
                        }
                    }
                    #expect(Self.close(upd.0, upd.1) && Self.close(velC, velR), "sgd \(level) n=\(n) mu=\(momentum) nesterov=\(nesterov)")
                }
                for (decoupled, step) in [(false, 1), (true, 7)] {
                    var mC = state, vC = second, mR = state, vR = second
                    let upd = Self.pair(c, param) { b, p in
                        let isC = b === c
                        var m = isC ? mC : mR, v = isC ? vC : vR
                        m.withUnsafeMutableBufferPointer { mp in
                            v.withUnsafeMutableBufferPointer { vp in
                                b.adamUpdate(param: p, grad: grad, m: mp.baseAddress!, v: vp.baseAddress!, count: n,
                                             learningRate: 1e-2, beta1: 0.9, beta2: 0.999, epsilon: 1e-8,
                                             weightDecay: 0.05, decoupled: decoupled, step: step)
                            }
                        }
                        if isC { mC = m; vC = v } else { mR = m; vR = v }
                    }
                    #expect(Self.close(upd.0, upd.1, abs: 1e-5) && Self.close(mC, mR) && Self.close(vC, vR),
                            "adam \(level) n=\(n) decoupled=\(decoupled)")
                }
            }
        }
    }

    @Test func resultsDoNotDependOnThreadCount() {
        var rng = SeededGenerator(seed: 2024)
        let rows = 300, cols = 1000, n = rows * cols
        let x = Self.random(n, &rng).map { $0 * 10 }
        let t = Self.random(n, &rng).map { ($0 + 1) / 2 }
        let labels = (0..<rows).map { _ in Int32(rng.nextInt(below: cols)) }
        func run(_ backend: CBackend) -> [[Float]] {
            var outputs: [[Float]] = []
            var y = x
            backend.softmaxRows(x, y: &y, rows: rows, cols: cols)
            outputs.append(y)
            let loss = backend.softmaxCrossEntropy(logits: x, labels: labels, rows: rows, cols: cols, grad: &y, scale: 0.5)
            outputs.append(y + [Float(loss)])
            let bce = backend.binaryCrossEntropyWithLogits(x, target: t, count: n, grad: &y, scale: 1)
            outputs.append(y + [Float(bce), Float(backend.sumOfSquares(x, count: n))])
            backend.activationForward(.tanh, x: x, y: &y, count: n)
            outputs.append(y)
            var sums = [Float](repeating: 0, count: cols)
            backend.sumColumns(x, rows: rows, cols: cols, into: &sums, accumulate: false)
            outputs.append(sums)
            var p = x, m = t, v = t
            backend.adamUpdate(param: &p, grad: t, m: &m, v: &v, count: n, learningRate: 0.1, beta1: 0.9,
                               beta2: 0.99, epsilon: 1e-8, weightDecay: 0, decoupled: true, step: 3)
            outputs.append(p)
            return outputs
        }
        let single = CBackend(threads: 1), double = CBackend(threads: 2)
        // The comparison means something only if the instances really run on 1 and 2 threads.
        #expect(single.threads == 1 && Self.teamSize(single) == 1)
        if bp_has_openmp() != 0 {
            #expect(double.threads == 2 && Self.teamSize(double) == 2)
        }
        #expect(run(single) == run(double))
    }

    // MARK: - Non-finite input on every level and path

    /// NaN, +∞ and −∞ in A and B (and C when beta ≠ 0) through every GEMM path of every SIMD
    /// level: C must be NaN, ±∞ or finite exactly where the reference's is (the class of each
    /// element does not depend on summation order), finite elements within the tolerance.
    @Test func gemmNonFiniteOnEveryLevelAndPath() {
        for (transA, transB) in Self.transposes {
            for (m, n, k) in [(9, 7, 5), (70, 65, 400)] {
                for (alpha, beta) in [(Float(1), Float(0)), (-0.5, 1), (0, 2.5), (2.5, -1)] {
                    var g = GemmCase(transA, transB, m, n, k, alpha: alpha, beta: beta)
                    var rng = SeededGenerator(seed: UInt64(m * 31 + k))
                    for value in [Float.nan, .infinity, -.infinity] {
                        g.a[rng.nextInt(below: g.a.count)] = value
                        g.b[rng.nextInt(below: g.b.count)] = value
                        if beta != 0 { g.c[rng.nextInt(below: m) * g.ldc + rng.nextInt(below: n)] = value }
                    }
                    let want = g.run(Self.reference)
                    // The usual bound with max|A|, max|B|, max|C| ≤ 1 (uniform in [-1, 1)), doubled.
                    let tolerance = 4 * Double(k + 2) * Double(Self.epsilon) * Double(abs(alpha)) + 4 * Double(Self.epsilon) * Double(abs(beta))
                    for level in Self.levels {
                        for path in [BP_GEMM_DIRECT, BP_GEMM_BLOCKED, BP_GEMM_NARROW, BP_GEMM_SHARED_B] {
                            let got = g.run(Self.backend, level: level, threads: 2, path: path)
                            #expect(allClose(got, want, abs: tolerance, nanMatches: true),
                                    "level \(level) path \(path) \(transA)\(transB) (\(m),\(n),\(k)) alpha \(alpha) beta \(beta)")
                        }
                    }
                }
            }
        }
    }

    /// Activations, softmax, losses and argmax on NaN, ±∞, −0 and subnormals at every SIMD
    /// level, in vector bodies and tails, against the reference (NaN where it has NaN).
    @Test func nonFiniteElementwiseAndRowOpsOnEveryLevel() {
        let specials: [Float] = [.nan, .infinity, -.infinity, -0.0, Float(bitPattern: 0x1000), 3, -2, 0.5]
        forEachLevel { c, level in
            for n in [8, 17, 40] {
                let x = (0..<n).map { specials[($0 * 5) % specials.count] }
                for kind in Activation.allCases {
                    let (got, want) = Self.pair(c, x) { b, y in b.activationForward(kind, x: y, y: y, count: n) }
                    #expect(allClose(got, want, abs: 4e-6, rel: 4e-6, nanMatches: true), "\(kind) \(level) n=\(n): \(got)")
                }
                let rows = n / 4, cols = 4
                let (soft, softWant) = Self.pair(c, x) { b, y in b.softmaxRows(y, y: y, rows: rows, cols: cols) }
                #expect(allClose(soft, softWant, abs: 4e-6, rel: 4e-6, nanMatches: true), "softmax \(level) n=\(n): \(soft)")
                var got = [Int32](repeating: -1, count: rows), want = got
                c.argmaxRows(x, rows: rows, cols: cols, into: &got)
                Self.reference.argmaxRows(x, rows: rows, cols: cols, into: &want)
                #expect(got == want, "argmax \(level) n=\(n)")
                let t = (0..<n).map { Float($0 % 2) }
                var lossC = 0.0, lossRef = 0.0
                let bce = Self.pair(c, t) { b, g in
                    let l = b.binaryCrossEntropyWithLogits(x, target: t, count: n, grad: g, scale: 0.5)
                    if b === c { lossC = l } else { lossRef = l }
                }
                #expect(allClose(bce.0, bce.1, abs: 4e-6, rel: 4e-6, nanMatches: true) && lossC.isNaN && lossRef.isNaN,
                        "bce \(level) n=\(n)")
            }
        }
    }

    /// How many threads a parallel kernel call of `backend` actually runs on.
    static func teamSize(_ backend: CBackend) -> Int { backend.withContext { Int(bp_context_team_size($0)) } }

    @Test func twoInstancesKeepTheirOwnThreadCounts() {
        // Used alternately in one process, each instance keeps its setting: nothing global.
        let one = CBackend(threads: 1), two = CBackend(threads: 2)
        let expectedTwo = bp_has_openmp() != 0 ? 2 : 1
        for _ in 0..<3 {
            #expect(one.threads == 1 && Self.teamSize(one) == 1)
            #expect(two.threads == expectedTwo && Self.teamSize(two) == expectedTwo)
            var out = [Float](repeating: 0, count: 64 * 64)
            let a = [Float](repeating: 1, count: 64 * 64)
            two.gemm(transA: false, transB: false, m: 64, n: 64, k: 64, alpha: 1, a: a, lda: 64,
                     b: a, ldb: 64, beta: 0, c: &out, ldc: 64)
            one.gemm(transA: false, transB: false, m: 64, n: 64, k: 64, alpha: 1, a: a, lda: 64,
                     b: a, ldb: 64, beta: 1, c: &out, ldc: 64)
            #expect(out.allSatisfy { $0 == 128 })
        }
    }

    @Test func simdLevelIsClampedAndNamed() throws {
        var above = bp_context(simd_level: 99, threads: 1)
        var below = bp_context(simd_level: -3, threads: 0)
        #expect(bp_context_simd_level(&above) == bp_simd_level_supported())
        #expect(bp_context_simd_level(&below) == Int32(BP_SIMD_PORTABLE.rawValue))
        #expect(bp_context_threads(&below) == 1)
        #expect(bp_context_simd_level(nil) == bp_simd_level_supported() && bp_context_threads(nil) == 1)
        #expect(CBackend(simd: .portable).simdLevel == "portable")
        #expect(String(cString: bp_simd_level_name(2)) == "avx512")
        // BACKPROP_SIMD is read once, in Swift: lowered to what the CPU has, typos rejected.
        #expect(try SIMDLevel.resolve(environment: ["BACKPROP_SIMD": "portable"]) == .portable)
        #expect(try SIMDLevel.resolve(environment: ["BACKPROP_SIMD": "avx512"]) == SIMDLevel.supported)
        #expect(try SIMDLevel.resolve(environment: [:]) == SIMDLevel.supported)
        #expect(throws: BackpropError.self) { try SIMDLevel.resolve(environment: ["BACKPROP_SIMD": "sse"]) }
        let forced = try CBackend(threads: nil, environment: ["BACKPROP_SIMD": "portable", "BACKPROP_NUM_THREADS": "1"])
        #expect(forced.simdLevel == "portable" && forced.threads == 1)
    }

    @Test func backendDescribesItself() {
        let backend = CBackend(threads: 3)
        #expect(backend.name == "c")
        #expect(backend.threads == (bp_has_openmp() != 0 ? 3 : 1))
        #expect(backend.detail.hasPrefix("C kernels, \(backend.simdLevel), "))
    }
}
