import Testing
@testable import Backprop

/// One or two optimizer steps on a single parameter, against values computed by hand from
/// PyTorch's update rules.
@Suite struct OptimizerTests {
    let backend = SwiftBackend()

    func parameter(_ value: Float, grad: Float) -> [(name: String, parameter: Parameter)] {
        let p = Parameter(name: "weight", value: Tensor(rows: 1, cols: 1, repeating: value))
        p.grad.data[0] = grad
        return [(name: "layers.0.weight", parameter: p)]
    }

    @Test func plainSGD() {
        let p = parameter(1.0, grad: 0.5)
        SGD(learningRate: 0.1).step(p, backend: backend)
        #expect(abs(p[0].parameter.value.data[0] - 0.95) < 1e-7)
    }

    @Test func sgdMomentumAndWeightDecay() {
        let p = parameter(1.0, grad: 0.5)
        let sgd = SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.1)
        sgd.step(p, backend: backend)  // g = 0.5 + 0.1 = 0.6, v = 0.6, w = 1 − 0.06 = 0.94
        #expect(abs(p[0].parameter.value.data[0] - 0.94) < 1e-6)
        sgd.step(p, backend: backend)  // g = 0.5 + 0.094 = 0.594, v = 0.54 + 0.594 = 1.134, w = 0.94 − 0.1134
        #expect(abs(p[0].parameter.value.data[0] - 0.8266) < 1e-6)
        #expect(sgd.state.map(\.name) == ["layers.0.weight.momentum_buffer"])
    }

    @Test func adamFirstStepMovesByLearningRate() {
        // With bias correction, the first Adam step is lr · g/|g| (up to eps).
        let p = parameter(1.0, grad: 0.5)
        Adam(learningRate: 0.01).step(p, backend: backend)
        #expect(abs(p[0].parameter.value.data[0] - 0.99) < 1e-6)
    }

    @Test func adamWDecaysTheWeightDirectly() {
        let p = parameter(2.0, grad: 0.5)
        AdamW(learningRate: 0.01, weightDecay: 0.1).step(p, backend: backend)
        // w = 2 − 0.01·0.1·2 = 1.998, then − 0.01.
        #expect(abs(p[0].parameter.value.data[0] - 1.988) < 1e-6)
    }

    @Test func restoringForeignStateIsAnError() {
        #expect(throws: BackpropError.self) {
            try SGD(learningRate: 0.1).restore(["layers.0.weight.exp_avg": Tensor(rows: 1, cols: 1)], stepCount: 1)
        }
    }
}
