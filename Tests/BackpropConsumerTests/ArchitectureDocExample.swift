import Backprop
import Foundation
import Testing

// The layer example of docs/ARCHITECTURE.md ("Adding a layer from outside the module"), word
// for word between the markers (scripts/check-docs compares them), compiled here outside the
// module and checked below.

// BEGIN docs/ARCHITECTURE.md
/// y = x · γ per feature.
final class Scale: Layer {
    let width: Int
    let gamma: Parameter
    private var input: Tensor?, output: Tensor?, inputGrad: Tensor?
    private let contribution: Tensor

    init(_ width: Int) {
        self.width = width
        gamma = Parameter(name: "gamma", value: Tensor(shape: [width], repeating: 1))
        contribution = Tensor(shape: [width])
    }

    var summary: String { "Scale(\(width))" }
    var parameters: [Parameter] { [gamma] }

    func outputShape(forInputShape shape: [Int]) throws -> [Int] {
        guard shape == [width] else {
            throw BackpropError.shapeMismatch("expects input shape [\(width)], got \(shape)")
        }
        return shape
    }

    // x: [N, width] -> y: [N, width]
    func forward(_ x: Tensor, backend: any Backend) -> Tensor {
        input = x
        let y = Tensor.reuse(output, shape: x.shape)   // no allocation in steady state
        output = y
        for r in 0..<x.rows {
            backend.multiply(x.data + r * width, gamma.value.data, into: y.data + r * width, count: width)
        }
        return y
    }

    // dy: [N, width] -> dx: [N, width]; dγ = Σ_rows dy · x
    func backward(_ dy: Tensor, backend: any Backend, needsInputGradient: Bool) -> Tensor {
        let x = input!
        contribution.data.update(repeating: 0, count: width)
        for r in 0..<x.rows {
            for c in 0..<width { contribution.data[c] += dy.data[r * width + c] * x.data[r * width + c] }
        }
        gamma.accumulateGradient(contribution.data)      // the library decides overwrite vs add
        let dx = Tensor.reuse(inputGrad, shape: x.shape)
        inputGrad = dx
        for r in 0..<x.rows {
            backend.multiply(dy.data + r * width, gamma.value.data, into: dx.data + r * width, count: width)
        }
        return dx
    }
}

/// Saving it: a kind with a name, the configuration as text, and a builder, registered once.
func saveScaleModel(to path: String) throws {
    try LayerKind.register(LayerKind(name: "scale", type: Scale.self, configuration: { "\($0.width)" }) { text in
        guard let width = Int(text), width > 0 else { throw BackpropError.invalidArgument("scale:\(text)") }
        return Scale(width)
    })
    let model = Sequential([Scale(2), Dense(2, 2)])
    try ModelCheckpoint(model: model, loss: .mse()).save(to: path)  // architecture "scale:2,dense:2:2"
}
// END docs/ARCHITECTURE.md

@Suite struct ArchitectureDocExampleTests {
    @Test func theDocumentedScaleLayerSavesLoadsAndHasTheRightGradient() throws {
        let path = NSTemporaryDirectory() + "backprop-scale-\(UInt64.random(in: 0...UInt64.max)).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try saveScaleModel(to: path)
        let loaded = try ModelCheckpoint.load(from: path)
        #expect(try Architecture.describe(loaded.model) == "scale:2,dense:2:2")
        #expect(loaded.model.layers[0] is Scale)

        // dγ = Σ_rows dy · x, twice after two backward passes, once again after a reset.
        let scale = Scale(2)
        let x = try Tensor([[1, 2], [3, -1]]), dy = try Tensor([[0.5, -1], [2, 0.25]])
        _ = scale.forward(x, backend: SwiftBackend())
        let dx = scale.backward(dy, backend: SwiftBackend(), needsInputGradient: true)
        let once: [Float] = [6.5, -2.25]  // [0.5·1 + 2·3, −1·2 + 0.25·(−1)]
        #expect(scale.gamma.gradient == once)
        #expect(dx.scalars == dy.scalars)  // γ = 1
        _ = scale.backward(dy, backend: SwiftBackend(), needsInputGradient: true)
        #expect(scale.gamma.gradient == [13, -4.5])
        scale.gamma.zeroGrad()
        _ = scale.backward(dy, backend: SwiftBackend(), needsInputGradient: true)
        #expect(scale.gamma.gradient == [6.5, -2.25])
    }
}
