import Backprop
import Foundation
import Testing

// The example of the DocC article "Convolutional networks" (Sources/Backprop/Backprop.docc/
// ConvolutionalNetworks.md), word for word between the markers (scripts/check-docs compares
// them); the test below runs it on a slice of MNIST-5k.

// BEGIN ConvolutionalNetworks.md
/// Trains LeNet-5 on MNIST-shaped data ([N, 1, 28, 28]), saves it, and predicts with the
/// loaded copy on flat rows of 784 pixels.
func trainLeNet(train: Dataset, test: Dataset, epochs: Int, path: String) throws -> Prediction {
    let model = Sequential(seed: 1) {
        Conv2d(1, 6, kernelSize: 5, padding: 2); ReLU(); MaxPool2d(2)  // [1, 28, 28] -> [6, 14, 14]
        Conv2d(6, 16, kernelSize: 5); ReLU(); MaxPool2d(2)             // -> [16, 5, 5]
        Flatten(); Dense(400, 120); ReLU(); Dense(120, 84); ReLU(); Dense(84, 10)
    }
    let trainer = Trainer(model: model, loss: .crossEntropy(), optimizer: Adam(learningRate: 0.002),
                          backend: try defaultBackend(), seed: 2)
    try trainer.fit(train, validation: test, epochs: epochs, batchSize: 32)  // training mode
    _ = try trainer.evaluate(test)                                          // evaluation mode

    try ModelCheckpoint(model: model, loss: .crossEntropy(), classCount: 10,
                        inputShape: train.sampleShape).save(to: path)
    let loaded = try ModelCheckpoint.load(from: path)   // layers.0.weight: [6, 1, 5, 5], ...
    let rows = test.features.copy()                     // (samples, 784)
    try rows.reshape(to: [rows.rows] + loaded.inputShape!)
    return try loaded.predict(rows, backend: try defaultBackend())
}
// END ConvolutionalNetworks.md

@Suite struct ConvolutionalNetworksExampleTests {
    static let mnist = "/work/shared/data/mnist-5k"

    @Test(.enabled(if: FileManager.default.fileExists(atPath: mnist), "needs ../shared/data/mnist-5k"))
    func theArticlesLeNetTrainsSavesAndPredicts() throws {
        let (train, test) = try MNIST.load(directory: Self.mnist)
        #expect(train.sampleShape == [1, 28, 28])
        let path = TestScratch.file("lenet.safetensors")
        let few = test.subset(Array(0..<200))
        let prediction = try trainLeNet(train: train.subset(Array(0..<1000)), test: few, epochs: 1, path: path)
        let loaded = try ModelCheckpoint.load(from: path)
        #expect(try Architecture.describe(loaded.model) == Architecture.describe(Architecture.build("lenet")))
        #expect(loaded.model.namedParameters.map(\.name).prefix(4) == ["layers.0.weight", "layers.0.bias", "layers.3.weight", "layers.3.bias"])
        #expect(loaded.model.namedParameters[0].parameter.value.shape == [6, 1, 5, 5])
        guard case .labels(let labels, _) = few.targets, let classes = prediction.classes else {
            Issue.record("expected labels and predicted classes"); return
        }
        let accuracy = Double(zip(classes, labels).filter { $0 == $1 }.count) / Double(labels.count)
        #expect(accuracy > 0.6, "LeNet after one epoch on 1000 images: \(accuracy)")
    }
}
