/// The shapes ``OpVerifier`` runs: a sparse covering of the sizes that stress blocking,
/// SIMD tails and threading, chosen so the default run takes seconds in a debug build.
struct VerificationPlan {
    /// Every dimension takes each of these values in at least one case.
    static let sizes = [1, 2, 3, 7, 17, 31, 33, 64, 127, 255, 256, 1000]
    /// The other dimensions of a case, cycled so that products stay small.
    static let companions = [1, 2, 3, 7, 17, 31, 33, 64]

    /// One GEMM case. `pad*` is how much each leading dimension exceeds the row width.
    struct GemmCase {
        var m: Int, n: Int, k: Int
        var transA: Bool, transB: Bool
        var alpha: Float, beta: Float
        var padA: Int, padB: Int, padC: Int
        var misaligned: Bool
        /// NaN, +∞ and −∞ at a few places in A and B (and C when beta ≠ 0).
        var nonFinite = false

        var description: String {
            "m=\(m) n=\(n) k=\(k) \(transA ? "Aᵀ" : "A")·\(transB ? "Bᵀ" : "B") alpha=\(alpha) beta=\(beta)"
                + " lda+\(padA) ldb+\(padB) ldc+\(padC)\(misaligned ? " misaligned" : "")"
                + (nonFinite ? " with NaN and ±∞" : "")
        }
    }

    let gemmCases: [GemmCase]
    /// (rows, cols) for row-wise ops.
    let matrixShapes: [(rows: Int, cols: Int)]
    /// Element counts for elementwise ops.
    let counts: [Int]

    init(thorough: Bool) {
        gemmCases = Self.gemm(thorough: thorough)
        matrixShapes = Self.matrices(thorough: thorough)
        counts = Self.counts(thorough: thorough)
    }

    private static let alphas: [Float] = [1, -0.5, 2.5, 0.75, 0]
    private static let betas: [Float] = [0, 1, -1.5, 0.25]
    private static let pads = [0, 1, 5]

    /// Quick: each size in each of m, n, k once, with small companions, every transpose pair
    /// in turn; plus the edge cases. Thorough: every (m, n, k) of `sizes` with m·n·k ≤ 2²²,
    /// in all four transposes.
    private static func gemm(thorough: Bool) -> [GemmCase] {
        var cases: [GemmCase] = []
        func add(_ m: Int, _ n: Int, _ k: Int, variant i: Int, transposes: Int? = nil) {
            let t = transposes ?? i % 4
            cases.append(GemmCase(
                m: m, n: n, k: k, transA: t & 1 == 1, transB: t & 2 == 2,
                alpha: alphas[i % 4], beta: betas[(i / 2) % betas.count],
                padA: pads[i % 3], padB: pads[(i + 1) % 3], padC: pads[(i + 2) % 3],
                misaligned: i % 2 == 1))
        }
        var i = 0
        for size in sizes {
            for dimension in 0..<3 {
                let a = companions[(i * 3 + 1) % companions.count]
                let b = companions[(i * 5 + 2) % companions.count]
                switch dimension {
                case 0: add(size, a, b, variant: i)
                case 1: add(a, size, b, variant: i)
                default: add(a, b, size, variant: i)
                }
                i += 1
            }
        }
        // Every transpose pair on one awkward shape, with and without padding.
        for t in 0..<4 {
            add(33, 31, 17, variant: t, transposes: t)
            add(65, 17, 129, variant: t + 1, transposes: t)
        }
        // Edge cases: empty dimensions, 1x1x1, alpha = 0 (C = beta·C), beta = 0 over NaN.
        for (index, shape) in [(0, 5, 3), (5, 0, 3), (4, 6, 0), (1, 1, 1), (1, 1000, 1), (1000, 1, 1)].enumerated() {
            add(shape.0, shape.1, shape.2, variant: index)
        }
        cases.append(GemmCase(m: 7, n: 9, k: 0, transA: false, transB: true, alpha: 1, beta: 0,
                              padA: 0, padB: 0, padC: 3, misaligned: false))
        cases.append(GemmCase(m: 7, n: 9, k: 5, transA: true, transB: false, alpha: 0, beta: 2,
                              padA: 1, padB: 0, padC: 0, misaligned: true))
        // Non-finite operands: every transpose on a small shape and on one large enough for the
        // blocked paths, with alpha ∈ {1, −0.5, 0, 2.5} (0: A and B are not read) and beta ∈
        // {0, 1, 2.5, −1} in turn, so that NaN and ±∞ meet every alpha/beta rule.
        let nonFiniteAlphas: [Float] = [1, -0.5, 0, 2.5], nonFiniteBetas: [Float] = [0, 1, 2.5, -1]
        for (index, shape) in [(9, 7, 5), (65, 47, 129)].enumerated() {
            for t in 0..<4 {
                let i = t + index
                cases.append(GemmCase(
                    m: shape.0, n: shape.1, k: shape.2, transA: t & 1 == 1, transB: t & 2 == 2,
                    alpha: nonFiniteAlphas[i % 4], beta: nonFiniteBetas[(i + index) % 4],
                    padA: pads[i % 3], padB: pads[(i + 1) % 3], padC: pads[(i + 2) % 3],
                    misaligned: i % 2 == 1, nonFinite: true))
            }
        }
        if thorough {
            var j = 0
            for m in sizes { for n in sizes { for k in sizes where m * n * k <= 1 << 22 {
                for t in 0..<4 { add(m, n, k, variant: j, transposes: t); j += 1 }
            } } }
        }
        return cases
    }

    private static func matrices(thorough: Bool) -> [(rows: Int, cols: Int)] {
        var shapes: [(rows: Int, cols: Int)] = [(0, 7), (1, 1)]
        if thorough {
            for r in sizes { for c in sizes { shapes.append((r, c)) } }
            return shapes
        }
        for (i, size) in sizes.enumerated() {
            shapes.append((size, companions[(i * 3 + 1) % companions.count]))
            shapes.append((companions[(i * 5 + 2) % companions.count], size))
        }
        shapes.append((256, 1000))
        return shapes
    }

    private static func counts(thorough: Bool) -> [Int] {
        // Around 4096 and 65536: the ends of SIMD loops and the thresholds where kernels
        // usually start threads.
        var counts = [0] + sizes + [4095, 4096, 4097, 65_537]
        if thorough { counts += [1 << 20, 1_000_003] }
        return counts
    }
}
