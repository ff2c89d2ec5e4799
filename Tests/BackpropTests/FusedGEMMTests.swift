import CKernels
import Testing
@testable import Backprop

/// The fused dense kernels (bias + activation in the GEMM's write-back, the activation's
/// derivative in the input gradient's write-back) and the cache-derived block sizes.
@Suite struct FusedGEMMTests {
    static let levels = Array(Int32(BP_SIMD_PORTABLE.rawValue)...bp_simd_level_supported())
    static let paths = [BP_GEMM_AUTO, BP_GEMM_DIRECT, BP_GEMM_BLOCKED, BP_GEMM_NARROW, BP_GEMM_SHARED_B]
    // (m, n, k): tiny (direct path), narrow C (10 classes), odd sizes over two KC blocks, k = 1, k = 0,
    // few rows (the skinny path of batch-1 inference; 4x300x300 runs it on several threads).
    static let shapes = [(3, 5, 7), (33, 10, 64), (67, 70, 400), (64, 17, 1), (5, 9, 0), (1, 70, 33), (4, 300, 300)]

    static func random(_ count: Int, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Float(rng.nextUnit() * 2 - 1) }
    }

    // MARK: - Block sizes from the caches

    static func blocks(_ level: bp_simd_level_t, l1: Int, l2: Int) -> [Int] {
        let b = bp_gemm_blocks_for_caches(Int32(level.rawValue), bp_cache_sizes(l1d: l1, l2: l2, l3: 32 << 20))
        return [b.mr, b.nr, b.mc, b.kc, b.nc, Int(b.b_panel_in_l1)]
    }

    @Test func blockSizesFollowTheReportedCaches() {
        // Zen 4 (32 KB L1, 1 MB L2): the B-block order; the AVX-512 blocking measured best
        // there, and AVX2's measured against Zen 3's values.
        #expect(Self.blocks(BP_SIMD_AVX512, l1: 32 << 10, l2: 1 << 20) == [8, 32, 64, 384, 480, 0])
        #expect(Self.blocks(BP_SIMD_AVX2, l1: 32 << 10, l2: 1 << 20) == [6, 16, 384, 256, 512, 0])
        // Zen 3 (32 KB L1, 512 KB L2): the B block would be 256 wide, so the A-block order runs,
        // KC from the B micro-panel's share of L1 and NC from four L2s (2 MB; a quarter of the
        // 32 MB L3 would be 8 MB, more than one core's share of it).
        #expect(Self.blocks(BP_SIMD_AVX2, l1: 32 << 10, l2: 512 << 10) == [6, 16, 126, 384, 1360, 1])
        #expect(Self.blocks(BP_SIMD_AVX512, l1: 32 << 10, l2: 512 << 10) == [8, 32, 64, 192, 2720, 1])
        // A 48 KB L1 (Intel client cores) deepens KC; a 2 MB L2 widens NC.
        #expect(Self.blocks(BP_SIMD_AVX2, l1: 48 << 10, l2: 2 << 20) == [6, 16, 510, 384, 688, 0])
        // Unknown caches count as 32 KB, 512 KB and 32 MB; tiny ones are clamped to usable blocks.
        #expect(Self.blocks(BP_SIMD_AVX2, l1: 0, l2: 0) == Self.blocks(BP_SIMD_AVX2, l1: 32 << 10, l2: 512 << 10))
        let tiny = Self.blocks(BP_SIMD_AVX2, l1: 1024, l2: 4096)
        #expect(tiny == [6, 16, 6, 64, 64, 1], "\(tiny)")
        let b = bp_gemm_blocks_for_caches(Int32(BP_SIMD_AVX2.rawValue), bp_cache_sizes(l1d: 32 << 10, l2: 512 << 10, l3: 4 << 20))
        #expect(b.nc == 688, "a 4 MB L3 narrows the B block of the A-block order to 1 MB: \(b.nc)")
        let big = bp_gemm_blocks_for_caches(Int32(BP_SIMD_AVX2.rawValue), bp_cache_sizes(l1d: 32 << 10, l2: 2 << 20, l3: 256 << 20))
        #expect(big.b_panel_in_l1 == 0 && big.nc == 1024, "a 2 MB L2 takes the B-block order whatever the L3: \(big.nc)")
        let wide = bp_gemm_blocks_for_caches(Int32(BP_SIMD_AVX2.rawValue), bp_cache_sizes(l1d: 32 << 10, l2: 640 << 10, l3: 256 << 20))
        #expect(wide.b_panel_in_l1 == 1 && wide.nc == 1712, "four 640 KB L2s of B, not a quarter of 256 MB: \(wide.nc)")
    }

    @Test func blocksInUseComeFromThisCPUsCaches() {
        var cpu = bp_cpu_info()
        bp_cpu_describe(&cpu)
        #expect(cpu.caches.l1d > 0 && cpu.caches.l2 > 0, "no cache sizes read on this machine")
        #if arch(x86_64)
        #expect(cpu.family > 0 && cpu.model >= 0)
        #endif
        for level in Self.levels {
            let used = bp_gemm_blocks_in_use(level)
            let derived = bp_gemm_blocks_for_caches(level, cpu.caches)
            #expect([used.mr, used.nr, used.mc, used.kc, used.nc, Int(used.b_panel_in_l1)]
                == [derived.mr, derived.nr, derived.mc, derived.kc, derived.nc, Int(derived.b_panel_in_l1)])
        }
    }

    // MARK: - Fused write-back == separate kernels, bit for bit

    /// C for (m, n, k) through `path`: fused when `fused`, else bp_sgemm_with + the separate kernels.
    static func forward(_ shape: (Int, Int, Int), bias: Bool, activation: Int32, level: Int32, threads: Int32,
                        path: bp_gemm_path_t, fused: Bool) -> [Float] {
        let (m, n, k) = shape
        let a = random(m * k, seed: 1), w = random(k * n, seed: 2), b = random(n, seed: 3)
        var c = [Float](repeating: .nan, count: m * n)
        var context = bp_context(simd_level: level, threads: threads)
        b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
                let biasPointer = bias ? pb.baseAddress : nil
                if fused {
                    bp_sgemm_bias_activation(&context, Int32(path.rawValue), 0, 0, m, n, k, a, k, w, n,
                                             biasPointer, activation, pc.baseAddress!, n)
                } else {
                    bp_sgemm_with(&context, Int32(path.rawValue), 0, 0, m, n, k, 1, a, k, w, n, 0, pc.baseAddress!, n)
                    if let biasPointer { bp_add_bias(&context, pc.baseAddress!, biasPointer, m, n) }
                    if activation >= 0 { bp_activation_forward(&context, activation, pc.baseAddress!, pc.baseAddress!, m * n) }
                }
            }
        }
        return c
    }

    /// dx = (dz·Wᵀ) ⊙ f'(y) for dz: (m, k), W: (n, k), y: (m, n).
    static func backward(_ shape: (Int, Int, Int), activation: Int32, level: Int32, threads: Int32,
                         path: bp_gemm_path_t, fused: Bool) -> [Float] {
        let (m, n, k) = shape
        let dz = random(m * k, seed: 4), w = random(n * k, seed: 5)
        // y as a forward output: about half zeros (ReLU), values in (0, 1) otherwise.
        let y = random(m * n, seed: 6).map { max($0, 0) }
        var c = [Float](repeating: .nan, count: m * n)
        var context = bp_context(simd_level: level, threads: threads)
        c.withUnsafeMutableBufferPointer { pc in
            if fused {
                bp_sgemm_activation_backward(&context, Int32(path.rawValue), 0, 1, m, n, k, dz, k, w, k,
                                             activation, y, n, pc.baseAddress!, n)
            } else {
                bp_sgemm_with(&context, Int32(path.rawValue), 0, 1, m, n, k, 1, dz, k, w, k, 0, pc.baseAddress!, n)
                bp_activation_backward(&context, activation, y, pc.baseAddress!, pc.baseAddress!, m * n)
            }
        }
        return c
    }

    static func same(_ x: [Float], _ y: [Float]) -> Bool { x.map(\.bitPattern) == y.map(\.bitPattern) }

    @Test(arguments: [Int32(-1), Int32(BP_RELU.rawValue), Int32(BP_SIGMOID.rawValue), Int32(BP_TANH.rawValue)])
    func fusedForwardIsBitIdenticalOnEveryPathLevelAndThreadCount(activation: Int32) {
        for shape in Self.shapes {
            for level in Self.levels {
                let want = Self.forward(shape, bias: true, activation: activation, level: level, threads: 1,
                                        path: BP_GEMM_BLOCKED, fused: false)
                for path in Self.paths {
                    for threads: Int32 in [1, 2, 3] {
                        let separate = Self.forward(shape, bias: true, activation: activation, level: level,
                                                    threads: threads, path: path, fused: false)
                        let fused = Self.forward(shape, bias: true, activation: activation, level: level,
                                                 threads: threads, path: path, fused: true)
                        #expect(Self.same(fused, separate), "forward \(shape) act \(activation) level \(level) path \(path.rawValue) threads \(threads)")
                        if path == BP_GEMM_BLOCKED || path == BP_GEMM_SHARED_B {
                            #expect(Self.same(fused, want), "forward \(shape) depends on threads or path")
                        }
                    }
                }
                let noBias = Self.forward(shape, bias: false, activation: activation, level: level, threads: 2,
                                          path: BP_GEMM_AUTO, fused: true)
                let noBiasSeparate = Self.forward(shape, bias: false, activation: activation, level: level,
                                                  threads: 2, path: BP_GEMM_AUTO, fused: false)
                #expect(Self.same(noBias, noBiasSeparate), "forward without bias \(shape)")
            }
        }
    }

    @Test(arguments: [Int32(BP_RELU.rawValue), Int32(BP_SIGMOID.rawValue), Int32(BP_TANH.rawValue)])
    func fusedBackwardMaskIsBitIdenticalOnEveryPathLevelAndThreadCount(activation: Int32) {
        for shape in Self.shapes {
            for level in Self.levels {
                for path in Self.paths {
                    for threads: Int32 in [1, 2, 3] {
                        let separate = Self.backward(shape, activation: activation, level: level, threads: threads,
                                                     path: path, fused: false)
                        let fused = Self.backward(shape, activation: activation, level: level, threads: threads,
                                                  path: path, fused: true)
                        #expect(Self.same(fused, separate), "backward \(shape) act \(activation) level \(level) path \(path.rawValue) threads \(threads)")
                    }
                }
            }
        }
    }

    /// dW (+)= op(A)·dz and db (+)= Σ_rows dz for A: (m, k) or stored (k, m), dz: (k, n): one
    /// call when `fused`, else bp_sgemm_with then bp_sum_columns. C and the sums start from
    /// values that beta 1 and `accumulate` must keep. Returns C followed by the sums.
    static func parameterGradients(_ shape: (Int, Int, Int), transA: Bool, accumulate: Bool, level: Int32,
                                   threads: Int32, path: bp_gemm_path_t, fused: Bool) -> [Float] {
        let (m, n, k) = shape
        let a = random(m * k, seed: 7), dz = random(k * n, seed: 8)
        var c = random(m * n, seed: 9), sums = random(n, seed: 10)
        let beta: Float = accumulate ? 1 : 0, lda = transA ? m : k
        var context = bp_context(simd_level: level, threads: threads)
        c.withUnsafeMutableBufferPointer { pc in
            sums.withUnsafeMutableBufferPointer { ps in
                if fused {
                    bp_sgemm_column_sums(&context, Int32(path.rawValue), transA ? 1 : 0, m, n, k, a, lda, dz, beta,
                                         pc.baseAddress!, n, ps.baseAddress!, accumulate ? 1 : 0)
                } else {
                    bp_sgemm_with(&context, Int32(path.rawValue), transA ? 1 : 0, 0, m, n, k, 1, a, lda, dz, n, beta,
                                  pc.baseAddress!, n)
                    bp_sum_columns(&context, dz, k, n, ps.baseAddress!, accumulate ? 1 : 0)
                }
            }
        }
        return c + sums
    }

    /// The bias gradient summed while dz is packed equals bp_sum_columns bit for bit, on every
    /// path, level and thread count; (150, 40, 70) on 2 and 3 threads cuts the grid across m,
    /// where only the first row of tasks may sum.
    @Test(arguments: [false, true])
    func columnSumsWhilePackingAreBitIdenticalOnEveryPathLevelAndThreadCount(accumulate: Bool) {
        // (9, 1500, 13): wider than NC on the Zen 3 and Zen 4 blocks (at most 1360), so a task of one
        // thread sums its columns over several column blocks.
        for shape in Self.shapes + [(150, 40, 70), (9, 1500, 13)] {
            for level in Self.levels {
                for path in Self.paths {
                    for threads: Int32 in [1, 2, 3] {
                        for transA in [false, true] {
                            let separate = Self.parameterGradients(shape, transA: transA, accumulate: accumulate, level: level,
                                                                   threads: threads, path: path, fused: false)
                            let fused = Self.parameterGradients(shape, transA: transA, accumulate: accumulate, level: level,
                                                                threads: threads, path: path, fused: true)
                            #expect(Self.same(fused, separate),
                                    "column sums \(shape) transA \(transA) level \(level) path \(path.rawValue) threads \(threads)")
                        }
                    }
                }
            }
        }
    }

    // MARK: - A fused training step == the layer-by-layer step

    /// Two SGD steps of 784-64-32-10 (ReLU, then Tanh) on the C backend, through `Sequential`
    /// (fused) or layer by layer (each layer's own forward and backward): weights must agree bit for bit.
    @Test func fusedSequentialStepMatchesLayerByLayer() throws {
        func run(fused: Bool, threads: Int) -> [[UInt32]] {
            let backend = CBackend(threads: threads)
            let model = Sequential(seed: 3) { Dense(784, 64); ReLU(); Dense(64, 32); Tanh(); Dense(32, 10) }
            let x = try! Tensor(rows: 37, cols: 784, values: Self.random(37 * 784, seed: 9))
            let labels = (0..<37).map { Int32($0 % 10) }
            let grad = Tensor(rows: 37, cols: 10)
            for _ in 0..<2 {
                model.zeroGrad()
                var out = x
                if fused {
                    out = model.forward(x, backend: backend)
                } else {
                    for layer in model.layers { out = layer.forward(out, backend: backend) }
                }
                _ = labels.withUnsafeBufferPointer { pl in
                    backend.softmaxCrossEntropy(logits: out.data, labels: pl.baseAddress!, rows: 37, cols: 10,
                                                grad: grad.data, scale: 1 / 37)
                }
                if fused {
                    model.backward(grad, backend: backend)
                } else {
                    var g = grad
                    for (index, layer) in model.layers.enumerated().reversed() {
                        g = layer.backward(g, backend: backend, needsInputGradient: index > 0)
                    }
                }
                for (_, p) in model.namedParameters {
                    backend.sgdUpdate(param: p.value.data, grad: p.grad.data, velocity: nil, count: p.value.count,
                                      learningRate: 0.1, momentum: 0, weightDecay: 0, nesterov: false)
                }
            }
            return model.namedParameters.map { $0.parameter.value.scalars.map(\.bitPattern) }
        }
        let want = run(fused: false, threads: 1)
        #expect(want[0].contains { $0 != 0 })
        for threads in [1, 2, 3] {
            #expect(run(fused: true, threads: threads) == want, "fused step on \(threads) threads differs")
        }
    }
}

/// `backprop bench` opens with the machine: CPU, SIMD path and the SGEMM blocks in use.
@Suite struct MachineDescriptionTests {
    @Test func summaryNamesTheCPUThePathAndTheBlocks() {
        let zen3 = MachineDescription(vendor: "AuthenticAMD", brand: "AMD EPYC 7B13", family: 25, model: 1,
                                      l1d: 32 << 10, l2: 512 << 10, l3: 32 << 20)
        let text = zen3.summary(simd: .portable)
        let blocks = MachineDescription.gemmBlocks(simd: .portable)
        #expect(text.contains("cpu: AMD EPYC 7B13 (AuthenticAMD family 25 model 17)") == false)
        #expect(text.contains("cpu: AMD EPYC 7B13 (AuthenticAMD family 25 model 1); L1d 32 KiB, L2 512 KiB per core, L3 32 MiB"), "\(text)")
        #expect(text.contains("SIMD path portable"), "\(text)")
        #expect(text.contains("MC \(blocks.mc), KC \(blocks.kc), NC \(blocks.nc), "
            + (blocks.aBlockOrder ? "A-block order" : "B-block order")), "\(text)")
        #expect(MachineDescription(vendor: "", brand: "", family: nil, model: nil, l1d: 0, l2: 0, l3: 0)
            .summary(simd: .portable).hasPrefix("cpu: unknown CPU (family unknown); L1d unknown"))
    }
}

/// AVX2's narrow path takes C up to two vectors wide (n = 9...16, the 10-class output layer):
/// every transpose, odd m and k, beta != 0, against the reference on every path and level.
@Suite struct TwoVectorNarrowGemmTests {
    @Test func widthsNineToSixteenMatchTheReference() {
        let kernels = CKernelTests()
        for (transA, transB) in CKernelTests.transposes {
            for n in [9, 10, 15, 16] {
                for (m, k) in [(1, 5), (7, 130), (13, 1), (37, 64)] {
                    kernels.checkAllPaths(CKernelTests.GemmCase(transA, transB, m, n, k), blockedThreads: [1, 3])
                }
            }
        }
    }
}

/// The few-rows path (m <= 4, B not transposed: batch-1 inference) against the reference, and
/// bit-identical on 1, 2 and 3 threads (column blocks per thread above 262,144 multiply-adds).
@Suite struct SkinnyGemmTests {
    @Test func fewRowsMatchTheReferenceOnAnyThreadCount() {
        for transA in [false, true] {
            for m in 1...4 {
                for (n, k) in [(17, 5), (300, 300), (1000, 70), (33, 1)] {
                    let g = CKernelTests.GemmCase(transA, false, m, n, k)
                    let want = g.run(CKernelTests.reference)
                    for level in CKernelTests.levels {
                        let one = g.run(CKernelTests.backend, level: level, threads: 1)
                        let result = g.check(one, against: want)
                        #expect(result.ok, "skinny level \(level) (\(m),\(n),\(k)) transA \(transA) err \(result.worst)")
                        for threads: Int32 in [2, 3] {
                            #expect(g.run(CKernelTests.backend, level: level, threads: threads) == one,
                                    "skinny level \(level) (\(m),\(n),\(k)) differs on \(threads) threads")
                        }
                    }
                }
            }
        }
    }
}
