import Testing
@testable import Backprop

/// The same network, seed and data trained on every available backend, with no
/// backend-specific code: losses agree epoch by epoch, accuracies within 0.5 points, and the
/// final weights within tolerance of the reference's.
@Suite("End-to-end equivalence", .serialized)
struct EndToEndEquivalenceTests {
    static let backendNames: [String] = {
        _ = try? BackendPlugins.loadFromEnvironment()  // checked by PluginTests.thePluginPathOfThisRunLoads
        let entries = (try? BackendRegistry.entries(threads: 2, environment: ProcessEnvironment.current)) ?? []
        return entries.filter(\.available).map(\.name)
    }()

    /// scripts/test installs OpenBLAS and libomp, so a run without all three backends is a
    /// broken machine, not a pass. `BACKPROP_OPENBLAS_DISABLE=1` simulates a machine without
    /// OpenBLAS on purpose.
    @Test func everyBackendIsAvailable() {
        var expected = ["c", "openblas", "swift"]
        if ProcessEnvironment.current["BACKPROP_OPENBLAS_DISABLE"] == "1" { expected.removeAll { $0 == "openblas" } }
        // Registered backends and plugins (BACKPROP_PLUGIN_PATH) may add more names.
        #expect(Set(expected).isSubset(of: Self.backendNames), "\(Self.backendNames)")
    }

    struct Run {
        let losses: [Double]
        let accuracy: Double
        let weights: [[Float]]
    }

    /// 5 epochs of 64-32-10 (ReLU, cross-entropy, SGD with momentum) on scaled digits.
    static func train(on backendName: String) throws -> Run {
        let backend = try BackendRegistry.make(name: backendName, threads: 2, environment: ProcessEnvironment.current)
        let (train, test) = try LearningTests.digitsSplit()
        let model = Sequential(seed: 1) { Dense(64, 32); ReLU(); Dense(32, 10) }
        let trainer = Trainer(model: model, loss: .crossEntropy(), optimizer: SGD(learningRate: 0.05, momentum: 0.9),
                              backend: backend, seed: 2)
        try trainer.fit(train, validation: test, epochs: 5, batchSize: 32)
        return Run(losses: trainer.state.history.map(\.trainLoss),
                   accuracy: trainer.state.history.last!.testAccuracy!,
                   weights: model.namedParameters.map { $0.parameter.value.scalars })
    }

    static let reference = Result { try train(on: "swift") }

    @Test(arguments: backendNames.filter { $0 != "swift" })
    func trainingMatchesTheReference(_ name: String) throws {
        let reference = try Self.reference.get()
        let run = try Self.train(on: name)
        // Per-epoch mean loss: relative 1e-4 for the first epochs, where float32 summation-order
        // differences have not yet been amplified by training.
        for (epoch, (a, b)) in zip(run.losses, reference.losses).enumerated() {
            let tolerance = epoch < 2 ? 1e-4 : 1e-3
            #expect(abs(a - b) <= tolerance * abs(b), "\(name) epoch \(epoch + 1): loss \(a) vs reference \(b)")
        }
        #expect(abs(run.accuracy - reference.accuracy) <= 0.005, "\(name): accuracy \(run.accuracy) vs \(reference.accuracy)")
        // Weights after 5 epochs: absolute 1e-3 (weights are O(0.1–1)).
        for (tensor, (a, b)) in zip(["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"],
                                    zip(run.weights, reference.weights)) {
            let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1e-3, "\(name) \(tensor): max |Δ| \(worst)")
        }
    }
}
