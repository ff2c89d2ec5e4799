import Testing
@testable import Backprop

/// Finite-difference checks of every analytic gradient: central differences
/// (f(x + h) − f(x − h)) / 2h with h = 1e-2 on float32 values, the objective summed in Double.
/// Tolerance: |analytic − numeric| ≤ 2e-3 + 2e-2·|numeric| (float32 forward passes limit it).
@Suite struct GradientCheckTests {
    let backend = SwiftBackend()
    static let h: Float = 1e-2

    static func close(_ analytic: Float, _ numeric: Double) -> Bool {
        isClose(Double(analytic), numeric, abs: 2e-3, rel: 2e-2)
    }

    /// Random values in [−1, 1), kept at least 0.05 away from 0 so ReLU's kink is never crossed.
    static func random(_ rows: Int, _ cols: Int, _ rng: inout SeededGenerator) -> Tensor {
        let t = Tensor(rows: rows, cols: cols)
        for i in 0..<t.count {
            var v = Float(rng.nextUnit() * 2 - 1)
            if abs(v) < 0.05 { v = v < 0 ? -0.05 : 0.05 }
            t.data[i] = v
        }
        return t
    }

    /// Checks dL/dx and dL/dθ of `model` for the objective L = Σ output ⊙ R.
    func check(_ model: Sequential, inputs: Int, batch: Int = 3, seed: UInt64 = 1) {
        var rng = SeededGenerator(seed: seed)
        let x = Self.random(batch, inputs, &rng)
        let outputs = try! model.outputWidth(forInputWidth: inputs)
        let r = Self.random(batch, outputs, &rng)
        func objective() -> Double {
            let y = model.forward(x, backend: backend)
            return (0..<y.count).reduce(0.0) { $0 + Double(y.data[$1]) * Double(r.data[$1]) }
        }
        _ = objective()
        model.zeroGrad()
        let dx = model.backwardToInput(r, backend: backend).copy()
        let analytic = model.namedParameters.map { ($0.name, $0.parameter.grad.copy()) }
        for i in 0..<x.count {
            let numeric = numericDerivative(of: objective, at: x.data + i)
            #expect(Self.close(dx.data[i], numeric), "dL/dx[\(i)]: analytic \(dx.data[i]), numeric \(numeric)")
        }
        for ((name, grad), (_, parameter)) in zip(analytic, model.namedParameters) {
            for i in 0..<parameter.value.count {
                let numeric = numericDerivative(of: objective, at: parameter.value.data + i)
                #expect(Self.close(grad.data[i], numeric), "\(name)[\(i)]: analytic \(grad.data[i]), numeric \(numeric)")
            }
        }
    }

    func numericDerivative(of f: () -> Double, at p: UnsafeMutablePointer<Float>) -> Double {
        let saved = p.pointee
        p.pointee = saved + Self.h
        let plus = f()
        p.pointee = saved - Self.h
        let minus = f()
        p.pointee = saved
        return (plus - minus) / Double(2 * Self.h)
    }

    @Test func dense() { check(Sequential([Dense(4, 3)], seed: 2), inputs: 4) }
    @Test func relu() { check(Sequential([ReLU()]), inputs: 5) }
    @Test func sigmoid() { check(Sequential([Sigmoid()]), inputs: 5) }
    @Test func tanh() { check(Sequential([Tanh()]), inputs: 5) }
    @Test func softmax() { check(Sequential([Softmax()]), inputs: 4) }

    @Test func threeLayerNetwork() {
        let model = Sequential(seed: 3) {
            Dense(5, 4, initializer: .xavierUniform); Tanh()
            Dense(4, 4, initializer: .xavierUniform); Sigmoid()
            Dense(4, 3)
            Softmax()
        }
        check(model, inputs: 5)
    }

    /// Checks dL/doutput of a loss against central differences of the loss itself.
    func checkLoss(_ loss: Loss, labels: [Int32]?, targets: Tensor?, rows: Int, cols: Int) {
        var rng = SeededGenerator(seed: 9)
        let output = Self.random(rows, cols, &rng)
        let grad = Tensor(rows: rows, cols: cols)
        var scratch: Tensor?
        func value() -> Double {
            let scratchGrad = Tensor(rows: rows, cols: cols)
            return (labels ?? []).withUnsafeBufferPointer {
                loss.compute(output: output, labels: labels == nil ? nil : $0.baseAddress, targets: targets,
                             grad: scratchGrad, scratch: &scratch, backend: backend)
            }
        }
        _ = (labels ?? []).withUnsafeBufferPointer {
            loss.compute(output: output, labels: labels == nil ? nil : $0.baseAddress, targets: targets,
                         grad: grad, scratch: &scratch, backend: backend)
        }
        for i in 0..<output.count {
            let numeric = numericDerivative(of: value, at: output.data + i)
            #expect(Self.close(grad.data[i], numeric), "\(loss) \(loss.reduction) [\(i)]: \(grad.data[i]) vs \(numeric)")
        }
    }

    @Test(arguments: Reduction.allCases)
    func crossEntropyWithLabels(_ reduction: Reduction) {
        checkLoss(.crossEntropy(reduction), labels: [2, 0, 1], targets: nil, rows: 3, cols: 4)
    }

    @Test(arguments: Reduction.allCases)
    func crossEntropyWithProbabilities(_ reduction: Reduction) throws {
        let t = try Tensor([[0.1, 0.2, 0.7], [1, 0, 0]])
        checkLoss(.crossEntropy(reduction), labels: nil, targets: t, rows: 2, cols: 3)
    }

    @Test(arguments: Reduction.allCases)
    func mse(_ reduction: Reduction) throws {
        let t = try Tensor([[0.5, -1, 2], [0, 0.3, 1]])
        checkLoss(.mse(reduction), labels: nil, targets: t, rows: 2, cols: 3)
        checkLoss(.mse(reduction), labels: [1, 2], targets: nil, rows: 2, cols: 3)  // one-hot targets
    }

    @Test(arguments: Reduction.allCases)
    func binaryCrossEntropy(_ reduction: Reduction) throws {
        let t = try Tensor([[1, 0], [0.3, 1]])
        checkLoss(.binaryCrossEntropy(reduction), labels: nil, targets: t, rows: 2, cols: 2)
    }

    /// The loss values themselves, against values computed by hand.
    @Test func lossValues() throws {
        let y = try Tensor([[1, 2]]), t = try Tensor([[0, 4]])
        var scratch: Tensor?
        let g = Tensor(rows: 1, cols: 2)
        // MSE: ((1-0)² + (2-4)²) / 2 = 2.5
        #expect(isClose(Loss.mse().compute(output: y, labels: nil, targets: t, grad: g, scratch: &scratch, backend: backend), 2.5, abs: 1e-6))
        #expect(g.scalars == [1, -2])  // 2(y − t)/2
        // BCE with logits z = 0, t = 1: log 2.
        let z = try Tensor([[0]]), one = try Tensor([[1]])
        let g1 = Tensor(rows: 1, cols: 1)
        let bce = Loss.binaryCrossEntropy().compute(output: z, labels: nil, targets: one, grad: g1, scratch: &scratch, backend: backend)
        #expect(isClose(bce, 0.6931472, abs: 1e-6))
        #expect(isClose(g1.data[0], -0.5, abs: 1e-7))
    }
}
