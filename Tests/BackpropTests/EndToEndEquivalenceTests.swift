import Testing
@testable import Backprop

/// The same network, seed and data trained on every backend, with no backend-specific code,
/// in several configurations (activations, losses, optimizers, clipping, weight decay): losses
/// agree epoch by epoch, accuracies within 0.5 points, and the final weights within tolerance
/// of the reference's. The reference runs once per configuration and is compared with every
/// other backend, never with itself.
@Suite("End-to-end equivalence", .serialized)
struct EndToEndEquivalenceTests {
    /// scripts/test installs OpenBLAS and libomp, so a run without all three backends is a
    /// broken machine, not a pass. `BACKPROP_OPENBLAS_DISABLE=1` simulates a machine without
    /// OpenBLAS on purpose.
    @Test func everyBackendIsAvailable() {
        var expected = ["c", "openblas", "swift"]
        if ProcessEnvironment.current["BACKPROP_OPENBLAS_DISABLE"] == "1" { expected.removeAll { $0 == "openblas" } }
        // Registered backends and plugins (BACKPROP_PLUGIN_PATH) may add more names.
        #expect(Set(expected).isSubset(of: TestBackends.available), "\(TestBackends.available)")
    }

    /// One training set-up on scaled digits, 64 → 32 → 10.
    struct Configuration: Sendable, CustomTestStringConvertible {
        let name: String
        let epochs: Int
        let activation: @Sendable () -> any Layer
        let loss: Loss
        let optimizer: @Sendable () -> any Optimizer
        var clipGradNorm: Float? = nil
        var testDescription: String { name }
    }

    static let configurations: [Configuration] = [
        Configuration(name: "ReLU, cross-entropy, SGD with momentum", epochs: 5, activation: { ReLU() },
                      loss: .crossEntropy(), optimizer: { SGD(learningRate: 0.05, momentum: 0.9) }),
        Configuration(name: "tanh, cross-entropy, Adam with L2 decay, clipped to norm 1", epochs: 3,
                      activation: { Tanh() }, loss: .crossEntropy(),
                      optimizer: { Adam(learningRate: 0.005, weightDecay: 1e-3) }, clipGradNorm: 1),
        Configuration(name: "sigmoid, MSE, Nesterov SGD with weight decay", epochs: 3, activation: { Sigmoid() },
                      loss: .mse(), optimizer: { SGD(learningRate: 0.5, momentum: 0.9, weightDecay: 1e-3, nesterov: true) }),
        Configuration(name: "ReLU, BCE, AdamW", epochs: 3, activation: { ReLU() },
                      loss: .binaryCrossEntropy(), optimizer: { AdamW(learningRate: 0.003, weightDecay: 0.01) }),
    ]

    struct Run {
        let losses: [Double]
        let accuracy: Double
        let weights: [[Float]]
    }

    static func train(_ configuration: Configuration, on backendName: String) throws -> Run {
        let backend = try TestBackends.make(backendName)
        let (train, test) = try LearningTests.digitsSplit()
        let model = Sequential([Dense(64, 32), configuration.activation(), Dense(32, 10)], seed: 1)
        let trainer = Trainer(model: model, loss: configuration.loss, optimizer: configuration.optimizer(),
                              backend: backend, seed: 2)
        trainer.clipGradNorm = configuration.clipGradNorm
        try trainer.fit(train, validation: test, epochs: configuration.epochs, batchSize: 32)
        return Run(losses: trainer.state.history.map(\.trainLoss),
                   accuracy: try #require(trainer.state.history.last?.testAccuracy),
                   weights: model.namedParameters.map { $0.parameter.value.scalars })
    }

    /// The reference's run of each configuration, trained on first use.
    static let references: [String: Result<Run, any Error>] = Dictionary(uniqueKeysWithValues: configurations.map { c in
        (c.name, Result { try train(c, on: "swift") })
    })

    @Test(arguments: configurations, TestBackends.compared)
    func trainingMatchesTheReference(_ configuration: Configuration, _ name: String) throws {
        let reference = try #require(Self.references[configuration.name]).get()
        let run = try Self.train(configuration, on: name)
        let label = "\(name), \(configuration.name)"
        #expect(run.losses.count == configuration.epochs && reference.losses.count == configuration.epochs)
        // Per-epoch mean loss: relative 1e-4 for the first epochs, where float32 summation-order
        // differences have not yet been amplified by training.
        for (epoch, (a, b)) in zip(run.losses, reference.losses).enumerated() {
            #expect(isClose(a, b, rel: epoch < 2 ? 1e-4 : 1e-3), "\(label) epoch \(epoch + 1): loss \(a) vs reference \(b)")
        }
        #expect(isClose(run.accuracy, reference.accuracy, abs: 0.005), "\(label): accuracy \(run.accuracy) vs \(reference.accuracy)")
        // Weights at the end: absolute 1e-3 (weights are O(0.1–1)); a NaN fails.
        for (tensor, (a, b)) in zip(["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"],
                                    zip(run.weights, reference.weights)) {
            let worst = worstError(a, b)
            #expect(worst <= 1e-3, "\(label) \(tensor): max |Δ| \(worst)")
        }
    }
}
