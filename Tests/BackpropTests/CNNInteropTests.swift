import Foundation
import Testing
@testable import Backprop

/// Checkpoints round-trip with real PyTorch in both directions. The fixtures were written by
/// `scripts/make-cnn-fixture.py` with PyTorch 2.13.0 (CPU wheel), safetensors 0.8.0, numpy 2.4.6
/// (regenerate them with it; these tests need no PyTorch):
/// - PyTorch -> Backprop: a `torch.nn.Sequential` with Conv2d (stride 2, padding 2 and padding
///   1), BatchNorm2d, MaxPool2d (kernel 2, stride 1), AvgPool2d, Flatten, Dropout, Linear,
///   BatchNorm1d and activations, trained 5 Adam steps in PyTorch (so the running statistics are
///   PyTorch's), its `state_dict` saved with Backprop's metadata, and PyTorch's eval-mode logits;
///   the same for a network with nested Sequentials and a global average pool.
/// - Backprop -> PyTorch: the same architecture trained by `backprop train --arch ... --save`,
///   loaded into PyTorch with `load_state_dict` (nothing unexpected, only `num_batches_tracked`
///   missing), and PyTorch's eval-mode logits for a fixed input.
///
/// Tolerance: |Backprop − PyTorch| ≤ 1e-5 + 1e-5·|PyTorch| per logit (float32 on both sides; the
/// largest differences measured, 4e-8 to 3e-7 on logits of size about 1, come from summation order).
@Suite struct CNNInteropTests {
    static let architecture = "conv2d:1:6:3:stride=2:pad=2,batchnorm2d:6,relu,maxpool2d:2:stride=1,"
        + "conv2d:6:8:3:pad=1,relu,avgpool2d:2,flatten,dropout:0.25,dense:32:16,batchnorm1d:16,tanh,dense:16:10"
    static let nestedArchitecture = "sequential:[conv2d:1:4:3:pad=1,batchnorm2d:4,relu],maxpool2d:2,"
        + "sequential:[conv2d:4:8:3:pad=1:bias=false,sigmoid],globalavgpool2d,dense:8:10"

    static func fixture(_ name: String) throws -> String {
        let fixtures = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        return fixtures.appendingPathComponent(name).path
    }

    /// The `input` and PyTorch's `logits` of an `-io` fixture.
    static func inputAndLogits(_ name: String) throws -> (input: Tensor, logits: Tensor) {
        let (io, _) = try SafeTensors.read(path: try fixture(name))
        return (try #require(io["input"]?.tensor), try #require(io["logits"]?.tensor))
    }

    /// Backprop's eval-mode logits for `input` equal PyTorch's on the reference and C backends;
    /// returns the largest difference.
    @discardableResult
    static func expectPyTorchLogits(_ model: Sequential, _ input: Tensor, _ expected: Tensor) throws -> Float {
        var largest: Float = 0
        for backendName in ["swift", "c"] {
            let backend = try BackendRegistry.make(name: backendName, threads: 2, environment: ProcessEnvironment.current)
            model.eval()
            let logits = model.forward(input, backend: backend)
            #expect(logits.shape == expected.shape)
            for i in 0..<min(logits.count, expected.count) {
                let difference = abs(logits.data[i] - expected.data[i])
                largest = max(largest, difference)
                #expect(difference <= 1e-5 + 1e-5 * abs(expected.data[i]),
                        "\(backendName) logit \(i): Backprop \(logits.data[i]), PyTorch \(expected.data[i])")
            }
        }
        return largest
    }

    /// Saving a loaded checkpoint again gives the same names, shapes and values.
    static func expectResaveIsIdentical(_ checkpoint: ModelCheckpoint, original path: String) throws {
        let copy = try CheckpointTests.temporaryPath("resaved.safetensors")
        try checkpoint.save(to: copy)
        let (original, _) = try SafeTensors.read(path: path)
        let (saved, _) = try SafeTensors.read(path: copy)
        #expect(Set(saved.keys) == Set(original.keys))
        for (name, entry) in original {
            #expect(saved[name]?.shape == entry.shape && saved[name]?.tensor.scalars == entry.tensor.scalars, "\(name)")
        }
    }

    @Test func pyTorchStateDictLoadsAndPredictsPyTorchsLogits() throws {
        let path = try Self.fixture("cnn-torch.safetensors")
        let checkpoint = try ModelCheckpoint.load(from: path)
        #expect(checkpoint.inputShape == [1, 8, 8])
        #expect(try Architecture.describe(checkpoint.model) == Self.architecture)
        let batchNorm = try #require(checkpoint.model.layers[1] as? BatchNorm2d)
        // PyTorch's training moved the running statistics: eval mode really uses them.
        #expect(batchNorm.runningVariance.value.scalars.allSatisfy { $0 != 1 })
        let (input, logits) = try Self.inputAndLogits("cnn-torch-io.safetensors")
        #expect(input.shape == [5, 1, 8, 8] && logits.shape == [5, 10])
        try Self.expectPyTorchLogits(checkpoint.model, input, logits)
        try Self.expectResaveIsIdentical(checkpoint, original: path)
    }

    /// A Sequential nested in the Sequential is named as `nn.Sequential`s nest: `layers.0.0.weight`.
    @Test func pyTorchNestedSequentialLoadsWithNestedNames() throws {
        let path = try Self.fixture("cnn-torch-nested.safetensors")
        let (tensors, _) = try SafeTensors.read(path: path)
        #expect(tensors["layers.0.0.weight"]?.shape == [4, 1, 3, 3] && tensors["layers.0.1.running_var"]?.shape == [4])
        #expect(tensors["layers.2.0.weight"]?.shape == [8, 4, 3, 3] && tensors["layers.2.0.bias"] == nil)
        let checkpoint = try ModelCheckpoint.load(from: path)
        let inner = try #require(checkpoint.model.layers[0] as? Sequential)
        #expect(inner.layers.count == 3 && inner.layers[1] is BatchNorm2d)
        #expect(try Architecture.describe(checkpoint.model) == Self.nestedArchitecture)
        #expect(checkpoint.model.namedBuffers.map(\.name) == ["layers.0.1.running_mean", "layers.0.1.running_var"])
        let (input, logits) = try Self.inputAndLogits("cnn-torch-nested-io.safetensors")
        try Self.expectPyTorchLogits(checkpoint.model, input, logits)
        try Self.expectResaveIsIdentical(checkpoint, original: path)
    }

    /// A checkpoint `backprop train --arch` wrote, loaded by PyTorch: PyTorch's logits are
    /// Backprop's.
    @Test func backpropCheckpointPredictsTheSameInPyTorch() throws {
        let checkpoint = try ModelCheckpoint.load(from: try Self.fixture("cnn-backprop.safetensors"))
        #expect(try Architecture.describe(checkpoint.model) == Self.architecture)
        #expect(checkpoint.optimizer != nil)  // a full checkpoint; PyTorch skipped the optimizer.* tensors
        let batchNorm = try #require(checkpoint.model.layers[10] as? BatchNorm1d)
        #expect(batchNorm.runningMean.value.scalars.contains { $0 != 0 })
        let (input, logits) = try Self.inputAndLogits("cnn-backprop-io.safetensors")
        #expect(input.shape == [5, 1, 8, 8] && logits.shape == [5, 10])
        try Self.expectPyTorchLogits(checkpoint.model, input, logits)
    }
}
