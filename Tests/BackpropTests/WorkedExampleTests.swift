import Testing
@testable import Backprop

/// The tutorials' worked example: three classes, two inputs, target class 0.
@Suite struct WorkedExampleTests {
    let backend = SwiftBackend()

    @Test func softmaxLossAndLogitGradient() throws {
        let logits = try Tensor([[2.0, 1.0, 0.1]])
        let grad = Tensor(rows: 1, cols: 3)
        var scratch: Tensor?
        let loss = [Int32(0)].withUnsafeBufferPointer {
            Loss.crossEntropy().compute(output: logits, labels: $0.baseAddress, targets: nil, grad: grad,
                                        scratch: &scratch, backend: backend)
        }
        let p = Tensor(rows: 1, cols: 3)
        backend.softmaxRows(logits.data, y: p.data, rows: 1, cols: 3)
        expectClose(p.scalars, [0.659, 0.242, 0.099], 5e-4)
        #expect(isClose(loss, 0.417, abs: 5e-4))
        expectClose(grad.scalars, [-0.341, 0.242, 0.099], 5e-4)
    }

    /// W is the tutorial's (classes × inputs) matrix for z = Wx + b; Backprop's Dense stores its
    /// transpose (inputs × classes) for z = xW + b, so the layer gets Wᵀ.
    func denseFromTutorialW() throws -> Dense {
        let dense = Dense(2, 3)
        let wT: [Float] = [0.2, -0.3, 0.1,
                           0.5, 0.8, -0.6]
        dense.weight.value.data.update(from: wT, count: 6)
        dense.bias.value.data.update(repeating: 0, count: 3)
        return dense
    }

    @Test func inputGradientIsWTransposeTimesPMinusY() throws {
        // dL/dx = Wᵀ(p − y) with p − y = [−0.341, 0.242, 0.099] (the tutorial printed
        // [−0.068, −0.014], an arithmetic slip).
        let dense = try denseFromTutorialW()
        let x = try Tensor([[0, 0]])
        _ = dense.forward(x, backend: backend)
        let dz = try Tensor([[-0.3410, 0.2424, 0.0986]])
        let dx = dense.backward(dz, backend: backend, needsInputGradient: true)
        expectClose(dx.scalars, [-0.131, -0.036], 1e-3)
    }

    @Test func pytorchCheckWithOnesInput() throws {
        // x = [1, 1], b = 0: z = Wx = [0.7, 0.5, −0.5], loss 0.751, dL/dx = [−0.207, −0.040].
        let dense = try denseFromTutorialW()
        let model = Sequential([dense])
        dense.weight.value.data.update(from: [0.2, -0.3, 0.1, 0.5, 0.8, -0.6], count: 6)
        dense.bias.value.data.update(repeating: 0, count: 3)
        let z = model.forward(try Tensor([[1, 1]]), backend: backend)
        expectClose(z.scalars, [0.7, 0.5, -0.5], 1e-6)
        let grad = Tensor(rows: 1, cols: 3)
        var scratch: Tensor?
        let loss = [Int32(0)].withUnsafeBufferPointer {
            Loss.crossEntropy().compute(output: z, labels: $0.baseAddress, targets: nil, grad: grad,
                                        scratch: &scratch, backend: backend)
        }
        #expect(isClose(loss, 0.751, abs: 5e-4))
        let dx = model.backwardToInput(grad, backend: backend)
        expectClose(dx.scalars, [-0.207, -0.040], 5e-4)
    }
}

func expectClose(_ actual: [Float], _ expected: [Float], _ tolerance: Float,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, sourceLocation: sourceLocation)
    for (a, e) in zip(actual, expected) {
        #expect(isClose(a, e, abs: Double(tolerance)), "\(actual) vs \(expected)", sourceLocation: sourceLocation)
    }
}
