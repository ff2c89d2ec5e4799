import Foundation
import Testing
@testable import Backprop

/// Optimizer slots (momentum, Adam's moments) take their parameter's full shape, so the
/// checkpoint of a CNN trained with Adam or momentum loads: its conv weight [out, in, k, k]
/// and conv bias [out] are not 2-D. (Before, the slots were (rows, cols) tensors and loading
/// failed: "optimizer.layers.0.bias.exp_avg_sq: shape [1, 4] does not match [4]".)
@Suite struct OptimizerStateShapeTests {
    @Test(arguments: ["adam", "sgd-momentum"])
    func aCNNCheckpointWithOptimizerStateLoadsAndResumes(optimizerName: String) throws {
        let model = Sequential([Conv2d(1, 4, kernelSize: 3), ReLU(), Flatten(), Dense(144, 10)], seed: 1)
        let optimizer: any Optimizer = optimizerName == "adam"
            ? Adam(learningRate: 0.01) : SGD(learningRate: 0.1, momentum: 0.9)
        let trainer = Trainer(model: model, loss: .crossEntropy(), optimizer: optimizer, backend: SwiftBackend(), seed: 2)
        let digits = try BuiltinDatasets.digits().subset(Array(0..<64))
        try trainer.fit(digits, epochs: 1, batchSize: 32)
        for (name, tensor) in optimizer.state {
            let parameter = model.namedParameters.first { name.hasPrefix($0.name + ".") }!.parameter
            #expect(tensor.shape == parameter.value.shape, "\(name)")
        }
        let path = TestScratch.file("cnn-adam.safetensors")
        try trainer.checkpoint().save(to: path)
        let loaded = try ModelCheckpoint.load(from: path)
        #expect(loaded.optimizer!.state.count == optimizer.state.count)

        // One more epoch from the checkpoint equals one more epoch of the original run.
        let resumed = Trainer(model: loaded.model, loss: loaded.loss, optimizer: loaded.optimizer!,
                              backend: SwiftBackend(), seed: 2)
        resumed.state = loaded.trainingState!
        try resumed.fit(digits, epochs: 2, batchSize: 32)
        try trainer.fit(digits, epochs: 2, batchSize: 32)
        #expect(resumed.model.parameters.map(\.value.scalars) == model.parameters.map(\.value.scalars))
    }
}
