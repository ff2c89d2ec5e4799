import Foundation
import Testing
@testable import Backprop

@Suite struct CheckpointTests {
    let backend = SwiftBackend()

    /// A fresh path in a per-test temporary directory.
    static func temporaryPath(_ name: String) throws -> String {
        try TestScratch.directory("checkpoint") + "/" + name
    }

    static func randomData(rows: Int, features: Int, classes: Int, seed: UInt64) throws -> Dataset {
        var rng = SeededGenerator(seed: seed)
        let x = Tensor(rows: rows, cols: features)
        for i in 0..<x.count { x.data[i] = Float(rng.nextNormal()) }
        return try Dataset(features: x, labels: (0..<rows).map { Int32($0 % classes) }, classCount: classes)
    }

    static func bits(_ model: Sequential) -> [[UInt32]] {
        model.namedParameters.map { $0.parameter.value.scalars.map(\.bitPattern) }
    }

    @Test func roundTripKeepsPredictionsAndMetadataBitIdentical() throws {
        let model = Sequential(seed: 3) { Dense(5, 7); ReLU(); Dense(7, 4); Tanh(); Dense(4, 3) }
        let data = try Self.randomData(rows: 20, features: 5, classes: 3, seed: 1)
        let normalizer = Normalizer(fitting: .standardize, to: data)
        let path = try Self.temporaryPath("model.safetensors")
        try ModelCheckpoint(model: model, loss: .crossEntropy(), normalizer: normalizer, classCount: 3,
                            imageShape: (1, 5), settings: #"{"any":"json"}"#).save(to: path)

        let loaded = try ModelCheckpoint.load(from: path)
        #expect(try Architecture.describe(loaded.model) == "dense:5:7,relu,dense:7:4,tanh,dense:4:3")
        #expect(loaded.loss == .crossEntropy())
        #expect(loaded.normalizer == normalizer)
        #expect(loaded.classCount == 3)
        #expect(loaded.imageShape.map { [$0.height, $0.width] } == [1, 5])
        #expect(loaded.settings == #"{"any":"json"}"#)
        #expect(loaded.optimizer == nil && loaded.trainingState == nil)
        let x = try normalizer.apply(to: data.features)
        let before = try model.predict(x, loss: .crossEntropy(), backend: backend).probabilities.scalars
        let after = try loaded.model.predict(x, loss: loaded.loss, backend: backend).probabilities.scalars
        #expect(before.map(\.bitPattern) == after.map(\.bitPattern))
    }

    @Test func denseWeightsAreStoredInPyTorchLinearLayout() throws {
        let model = Sequential(seed: 9) { Dense(3, 2); Sigmoid() }
        let path = try Self.temporaryPath("layout.safetensors")
        try ModelCheckpoint(model: model, loss: .mse()).save(to: path)
        let (tensors, metadata) = try SafeTensors.read(path: path)
        #expect(metadata["format"] == "backprop-1")
        #expect(metadata["architecture"] == "dense:3:2,sigmoid")
        #expect(metadata["loss"] == "mse")
        let weight = try #require(tensors["layers.0.weight"])
        let bias = try #require(tensors["layers.0.bias"])
        #expect(weight.shape == [2, 3])  // (out, in), as nn.Linear
        #expect(bias.shape == [2])
        let w = (model.layers[0] as! Dense).weight.value  // ours: (in, out)
        for o in 0..<2 {
            for i in 0..<3 { #expect(weight.tensor[o, i].bitPattern == w[i, o].bitPattern) }
        }
    }

    @Test func fullCheckpointResumesTrainingBitIdentically() throws {
        let data = try Self.randomData(rows: 30, features: 4, classes: 2, seed: 5)
        func makeTrainer() -> Trainer {
            Trainer(model: Sequential(seed: 2) { Dense(4, 6); ReLU(); Dense(6, 2) }, loss: .crossEntropy(),
                    optimizer: AdamW(learningRate: 0.01), backend: backend, seed: 8)
        }
        let straight = makeTrainer()
        try straight.fit(data, validation: data, epochs: 3, batchSize: 7)

        let first = makeTrainer()
        var steps = 0
        first.shouldStop = { steps += 1; return steps == 7 }  // epoch 2, batch 2 (5 batches per epoch)
        #expect(try first.fit(data, validation: data, epochs: 3, batchSize: 7) == .stopped)
        let path = try Self.temporaryPath("full.safetensors")
        try ModelCheckpoint(model: first.model, loss: first.loss, optimizer: first.optimizer,
                            trainingState: first.state).save(to: path)

        let loaded = try ModelCheckpoint.load(from: path)
        let optimizer = try #require(loaded.optimizer as? AdamW)
        #expect(optimizer.stepCount == 7 && optimizer.weightDecay == 0.01)
        let state = try #require(loaded.trainingState)
        #expect(state == first.state)
        let (tensors, _) = try SafeTensors.read(path: path)
        #expect(tensors["optimizer.layers.0.weight.exp_avg"]?.shape == [6, 4])
        #expect(tensors["optimizer.layers.2.bias.exp_avg_sq"]?.shape == [2])

        let resumed = Trainer(model: loaded.model, loss: loaded.loss, optimizer: optimizer, backend: backend, seed: 8)
        resumed.state = state
        #expect(try resumed.fit(data, validation: data, epochs: 3, batchSize: 7) == .completed)
        #expect(Self.bits(resumed.model) == Self.bits(straight.model))
        #expect(resumed.state.history.map(\.trainLoss) == straight.state.history.map(\.trainLoss))
    }

    /// Writes a file with the metadata of `dense:3:2` and the given tensors.
    static func writeDense32(_ tensors: [(name: String, tensor: Tensor)], shapes: [String: [Int]],
                             metadata: [String: String] = [:]) throws -> String {
        let path = try temporaryPath("bad.safetensors")
        let base = ["format": "backprop-1", "architecture": "dense:3:2", "loss": "cross-entropy"]
        try SafeTensors.write(tensors: tensors, shapes: shapes, metadata: base.merging(metadata) { $1 }, to: path)
        return path
    }

    @Test func missingTensorIsAnErrorNamingFileAndTensor() throws {
        let path = try Self.writeDense32([("layers.0.weight", Tensor(rows: 2, cols: 3))], shapes: [:])
        #expect(throws: BackpropError.malformedFile(
            path: path, location: "",
            message: "tensor 'layers.0.bias' is missing (the architecture dense:3:2 needs it)")) {
            try ModelCheckpoint.load(from: path)
        }
    }

    @Test func wrongShapeIsAnError() throws {
        // Stored (in, out) instead of (out, in).
        let path = try Self.writeDense32(
            [("layers.0.weight", Tensor(rows: 3, cols: 2)), ("layers.0.bias", Tensor(rows: 1, cols: 2))],
            shapes: ["layers.0.bias": [2]])
        #expect(throws: BackpropError.malformedFile(
            path: path, location: "tensor 'layers.0.weight'",
            message: "shape [3, 2] does not match [2, 3] expected by the architecture")) {
            try ModelCheckpoint.load(from: path)
        }
    }

    @Test func unexpectedTensorIsAnError() throws {
        let path = try Self.writeDense32(
            [("layers.0.weight", Tensor(rows: 2, cols: 3)), ("layers.0.bias", Tensor(rows: 1, cols: 2)),
             ("layers.1.weight", Tensor(rows: 1, cols: 1))],
            shapes: ["layers.0.bias": [2]])
        #expect(throws: BackpropError.malformedFile(
            path: path, location: "tensor 'layers.1.weight'",
            message: "unexpected tensor: the architecture dense:3:2 has no such parameter")) {
            try ModelCheckpoint.load(from: path)
        }
    }

    @Test func badMetadataIsAnError() throws {
        let tensors = [("layers.0.weight", Tensor(rows: 2, cols: 3)), ("layers.0.bias", Tensor(rows: 1, cols: 2))]
        let shapes = ["layers.0.bias": [2]]
        let noFormat = try Self.temporaryPath("plain.safetensors")
        try SafeTensors.write(tensors: tensors, shapes: shapes, to: noFormat)
        #expect(throws: BackpropError.malformedFile(
            path: noFormat, location: "",
            message: "not a backprop checkpoint: no 'format' in __metadata__ (expected backprop-1)")) {
            try ModelCheckpoint.load(from: noFormat)
        }
        let badArchitecture = try Self.writeDense32(tensors, shapes: shapes, metadata: ["architecture": "dense:3:2,gelu"])
        // The known list also holds kinds other tests in this process registered, so match its start.
        #expect {
            try ModelCheckpoint.load(from: badArchitecture)
        } throws: { error in
            guard case .malformedFile(badArchitecture, "metadata 'architecture'", let message) = error as? BackpropError else { return false }
            return message.hasPrefix("layer 1 'gelu' is not a known layer kind (known: dense, relu, sigmoid, tanh, softmax, flatten, ")
        }
        let badState = try Self.writeDense32(tensors, shapes: shapes, metadata: ["training_state": "{\"epochs_completed\": 1}"])
        #expect(throws: BackpropError.malformedFile(
            path: badState, location: "metadata 'training_state'", message: "missing field 'batches_completed'")) {
            try ModelCheckpoint.load(from: badState)
        }
        let badLoss = try Self.writeDense32(tensors, shapes: shapes, metadata: ["loss": "hinge"])
        #expect(throws: BackpropError.self) { try ModelCheckpoint.load(from: badLoss) }
    }

    @Test func architectureStringsMustConnect() throws {
        #expect(throws: BackpropError.invalidArgument(
            "the layers do not connect: layer 2 'dense:4:2' (Dense(4 → 2)) expects input shape [4] (4 features), got [3]")) {
            try Architecture.build("dense:2:3,relu,dense:4:2")
        }
        #expect(throws: BackpropError.invalidArgument(
            "layer 0: 'dense:0:3' must be dense:<inputs>:<outputs> with positive sizes")) {
            try Architecture.build("dense:0:3")
        }
    }
}
