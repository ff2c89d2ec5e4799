import Testing
@testable import Backprop

/// Conv2d on a backend with a direct convolution (the `c` backend) against the same layer on
/// the reference (im2col + GEMM): forward, weight, bias and input gradients, and gradient
/// accumulation over two backward passes, on LeNet's layers and odd shapes.
@Suite struct DirectConvolutionTests {
    /// (in, out, kernel, stride, padding, bias, batch, height, width)
    static let layers: [(Int, Int, Int, Int, Int, Bool, Int, Int, Int)] = [
        (1, 6, 5, 1, 2, true, 3, 28, 28),   // LeNet's first convolution
        (6, 16, 5, 1, 0, true, 2, 14, 14),  // LeNet's second
        (3, 1, 3, 1, 1, true, 2, 7, 9),     // one output channel: the 1×8 tile
        (2, 5, 1, 1, 1, false, 3, 4, 5),    // 1×1 kernel, padding wider than the kernel, no bias
        (4, 7, 3, 1, 0, true, 1, 37, 3),    // rows longer than two vectors, batch 1
        (2, 3, 3, 2, 1, true, 2, 9, 8),     // stride 2: im2col on every backend
    ]

    static func random(_ shape: [Int], _ rng: inout SeededGenerator) -> Tensor {
        let t = Tensor(shape: shape)
        for i in 0..<t.count { t.data[i] = Float(rng.nextUnit()) * 2 - 1 }
        return t
    }

    /// y, dW, db, dx of one forward and two backward passes (so the gradients hold twice one pass).
    static func run(_ spec: (Int, Int, Int, Int, Int, Bool, Int, Int, Int), backend: any Backend)
        -> (y: [Float], dw: [Float], db: [Float], dx: [Float], dwOnce: [Float])
    {
        let (cin, cout, k, stride, pad, bias, batch, h, w) = spec
        let layer = Conv2d(cin, cout, kernelSize: k, stride: stride, padding: pad, bias: bias)
        var rng = SeededGenerator(seed: 11)
        layer.initialize(using: &rng)
        let x = random([batch, cin, h, w], &rng)
        let y = layer.forward(x, backend: backend).scalars
        let out = layer.outputShapeForTest(h, w)
        let dy = random([batch, cout, out.0, out.1], &rng)
        for p in layer.parameters { p.zeroGrad() }
        _ = layer.backward(dy, backend: backend, needsInputGradient: true)
        let dwOnce = layer.weight.gradient
        let dx = layer.backward(dy, backend: backend, needsInputGradient: true).scalars
        return (y, layer.weight.gradient, layer.bias?.gradient ?? [], dx, dwOnce)
    }

    @Test(arguments: TestBackends.compared)
    func conv2dMatchesTheReferenceLayer(backendName: String) throws {
        let backend = try TestBackends.make(backendName)
        for spec in Self.layers {
            let want = Self.run(spec, backend: SwiftBackend())
            let got = Self.run(spec, backend: backend)
            let label = "\(backendName) \(spec)"
            let scale = { (v: [Float]) in max(largestMagnitude(v), 1) }
            #expect(allClose(got.y, want.y, abs: 1e-5 * scale(want.y)), "y \(label)")
            #expect(allClose(got.dw, want.dw, abs: 1e-5 * scale(want.dw)), "dW \(label)")
            #expect(allClose(got.db, want.db, abs: 1e-5 * scale(want.db)), "db \(label)")
            #expect(allClose(got.dx, want.dx, abs: 1e-5 * scale(want.dx)), "dx \(label)")
            // The second pass added: twice the first pass's gradient.
            #expect(allClose(got.dw, got.dwOnce.map { 2 * $0 }, abs: 1e-5 * scale(got.dw)), "dW accumulates \(label)")
        }
    }

    @Test func theCBackendTakesTheDirectPathOnlyWhereItApplies() throws {
        #expect(CBackend(threads: 1).prefersDirectConvolution)
        #expect(!SwiftBackend().prefersDirectConvolution)
    }

    /// Thread count never changes the direct kernels' results (each element has one owner).
    @Test func directConvolutionIsTheSameOnOneAndThreeThreads() throws {
        for spec in Self.layers.prefix(2) {
            let one = Self.run(spec, backend: CBackend(threads: 1))
            let three = Self.run(spec, backend: CBackend(threads: 3))
            #expect(one.y == three.y && one.dw == three.dw && one.db == three.db && one.dx == three.dx)
        }
    }
}

extension Conv2d {
    /// (H', W') for an (H, W) input.
    fileprivate func outputShapeForTest(_ h: Int, _ w: Int) -> (Int, Int) {
        ((h + 2 * padding - kernelSize) / stride + 1, (w + 2 * padding - kernelSize) / stride + 1)
    }
}
