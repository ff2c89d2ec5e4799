import Foundation
import Testing
@testable import Backprop

/// A Sequential inside a Sequential saves and loads: architecture text `sequential:[...]`,
/// tensors named as `torch.nn.Sequential`s nest (`layers.N.M.weight`; PyTorch itself loads them,
/// see CNNInteropTests), errors that name the nested layer's path.
@Suite struct NestedSequentialTests {
    let backend = SwiftBackend()

    @Test func nestedNetworkRoundTripsWithNestedNamesAndLayouts() throws {
        let text = "sequential:[dense:4:6,relu,sequential:[dense:6:5,batchnorm1d:5]],tanh,dense:5:3"
        let model = try Architecture.build(text, seed: 2)
        #expect(try Architecture.describe(model) == text)
        #expect(model.namedParameters.map(\.name) == [
            "layers.0.0.weight", "layers.0.0.bias", "layers.0.2.0.weight", "layers.0.2.0.bias",
            "layers.0.2.1.weight", "layers.0.2.1.bias", "layers.2.weight", "layers.2.bias",
        ])
        #expect(model.namedBuffers.map(\.name) == ["layers.0.2.1.running_mean", "layers.0.2.1.running_var"])
        let data = try Dataset(features: Tensor([[1, 2, 3, 4], [0, -1, 2, 1], [3, 0, 1, -2]]), labels: [0, 2, 1])
        let trainer = Trainer(model: model, loss: .crossEntropy(), optimizer: Adam(learningRate: 0.01), backend: backend)
        try trainer.fit(data, epochs: 3, batchSize: 3)
        let path = try CheckpointTests.temporaryPath("nested.safetensors")
        try trainer.save(to: path)
        let (tensors, metadata) = try SafeTensors.read(path: path)
        #expect(metadata["architecture"] == text)
        // Nested dense layers are stored as nn.Linear is, (out, in) with 1-D biases, and so is
        // the optimizer state that follows them.
        #expect(tensors["layers.0.0.weight"]?.shape == [6, 4] && tensors["layers.0.2.0.bias"]?.shape == [5])
        #expect(tensors["optimizer.layers.0.2.0.weight.exp_avg"]?.shape == [5, 6])
        let inner = try #require((model.layers[0] as? Sequential)?.layers[0] as? Dense)
        #expect(tensors["layers.0.0.weight"]?.tensor[1, 0] == inner.weight.value[0, 1])
        let loaded = try ModelCheckpoint.load(from: path)
        #expect(loaded.optimizer != nil)
        model.eval()
        loaded.model.eval()
        #expect(loaded.model.forward(data.features, backend: backend).scalars == model.forward(data.features, backend: backend).scalars)
    }

    @Test func unsavableLayerInsideANestedSequentialIsNamedByItsPath() {
        final class Opaque: Layer {
            var summary: String { "Opaque" }
            func outputShape(forInputShape shape: [Int]) throws -> [Int] { shape }
            func forward(_ x: Tensor, backend: any Backend) -> Tensor { x }
            func backward(_ dy: Tensor, backend: any Backend, needsInputGradient: Bool) -> Tensor { dy }
        }
        let model = Sequential([Dense(2, 2), Sequential([ReLU(), Sequential([Opaque()])])])
        do {
            _ = try Architecture.describe(model)
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("layer 1.1.0: Opaque cannot be saved"), "\(error)")
        }
    }

    @Test(arguments: [
        ("sequential:[dense:2:2", "has a '[' without its ']'"),
        ("dense:2:2],relu", "has a ']' without its '['"),
        ("sequential:dense:2:2", "must be sequential:[<layer>,<layer>,...]"),
        ("sequential:[]", "the architecture is empty"),
        ("sequential:[dense:2:2,gelu]", "layer 0: layer 1 'gelu' is not a known layer kind"),
        (String(repeating: "sequential:[", count: 17) + "relu" + String(repeating: "]", count: 17), "deeper than 16 levels"),
        ("sequential:[dense:2:3],dense:2:2", "layer 1 'dense:2:2' (Dense(2 → 2)) expects input shape [2]"),
    ])
    func badNestedTextIsAnErrorNamingTheProblem(_ text: String, _ message: String) {
        do {
            _ = try Architecture.build(text)
            Issue.record("expected an error for \(text)")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }

    /// Nesting that text read from a file could make arbitrarily deep is refused before any
    /// recursion: a million brackets are an error, not a stack overflow.
    @Test func deeplyNestedCheckpointTextIsAFileError() throws {
        let deep = String(repeating: "sequential:[", count: 1_000_000) + "relu" + String(repeating: "]", count: 1_000_000)
        let path = try CheckpointTests.temporaryPath("deep.safetensors")
        try SafeTensors.write(tensors: [], metadata: ["format": "backprop-1", "architecture": deep, "loss": "mse"], to: path)
        #expect(throws: BackpropError.self) { _ = try ModelCheckpoint.load(from: path) }
        let sixteen = String(repeating: "sequential:[", count: 16) + "relu" + String(repeating: "]", count: 16)
        #expect(try Architecture.describe(try Architecture.build(sixteen)) == sixteen)
    }
}
