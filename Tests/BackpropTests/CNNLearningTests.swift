import Testing
@testable import Backprop

/// Convolutional networks learning real data end to end, on the `c` backend (the reference is
/// slow in debug builds; `backprop verify` and the equivalence suite show the image primitives
/// agree across backends). Each figure is a mean over three weight seeds, as PyTorch's
/// reference figures in the issue are, with every run bounded from below.
@Suite(.serialized) struct CNNLearningTests {
    /// A small CNN on the 8×8 digits (80/20 split, pixels scaled to [0, 1]), Adam lr 0.002,
    /// batch 32, 12 epochs: mean test accuracy ≥ 0.98 (the MLP reaches about 0.97).
    @Test func smallCNNOnDigitsReachesNinetyEightPercent() throws {
        let (train, test) = try LearningTests.digitsSplit()
        let backend = try BackendRegistry.make(name: "c", threads: 2, environment: ProcessEnvironment.current)
        var accuracies: [Double] = []
        for seed in 1...3 as ClosedRange<UInt64> {
            let model = try Architecture.build(
                "conv2d:1:16:3:pad=1,relu,maxpool2d:2,conv2d:16:32:3:pad=1,relu,maxpool2d:2,flatten,dense:128:10",
                seed: seed, inputShape: [1, 8, 8])
            let trainer = Trainer(model: model, loss: .crossEntropy(), optimizer: Adam(learningRate: 0.002),
                                  backend: backend, seed: 2)
            try trainer.fit(train, epochs: 12, batchSize: 32)
            accuracies.append(try trainer.evaluate(test).classification?.accuracy ?? 0)
        }
        let mean = accuracies.reduce(0, +) / Double(accuracies.count)
        #expect(mean >= 0.98, "digits CNN test accuracies \(accuracies)")
        #expect(accuracies.allSatisfy { $0 >= 0.97 }, "digits CNN test accuracies \(accuracies)")
    }

    /// LeNet-5 (`--arch lenet`) on the 5,000-image MNIST split (4,000 train, 1,000 test), Adam
    /// lr 0.002 for 6 epochs then 0.0005 for 2, batch 32: mean test accuracy ≥ 0.97 (the 784-128-10 MLP reaches about
    /// 0.93; PyTorch's LeNet-5 reaches 0.973 with Adam lr 0.001 after 12 epochs).
    ///
    /// Optimized builds only: it trains 3 × 8 epochs of LeNet-5, 63 s in a release build (measured
    /// on 2 shared cores at load average 17) but 4.5–6.6 minutes in a debug build. CI runs it in
    /// the release subset of `.ci/run`; the debug suite runs ``leNetLearnsMNISTInOneEpoch()`` instead.
    @Test(.enabled(if: Self.optimizedBuild, "LeNet-5 to 0.97 runs in optimized builds (the release subset of .ci/run)"))
    func leNetOnMNISTReachesNinetySevenPercent() throws {
        let (train, test) = try MNIST.load(directory: sharedData + "/mnist-5k")
        #expect(train.sampleShape == [1, 28, 28])
        let backend = try BackendRegistry.make(name: "c", threads: 2, environment: ProcessEnvironment.current)
        var accuracies: [Double] = []
        for seed in 1...3 as ClosedRange<UInt64> {
            let model = try Architecture.build("lenet", seed: seed, inputShape: [1, 28, 28])
            let optimizer = Adam(learningRate: 0.002)
            let trainer = Trainer(model: model, loss: .crossEntropy(), optimizer: optimizer, backend: backend, seed: seed)
            try trainer.fit(train, epochs: 6, batchSize: 32)
            optimizer.learningRate = 0.0005  // step decay for the last two epochs
            try trainer.fit(train, epochs: 8, batchSize: 32)
            #expect(trainer.state.epochsCompleted == 8)
            accuracies.append(try trainer.evaluate(test).classification?.accuracy ?? 0)
        }
        let mean = accuracies.reduce(0, +) / Double(accuracies.count)
        #expect(mean >= 0.97, "LeNet-5 MNIST test accuracies \(accuracies)")
        #expect(accuracies.allSatisfy { $0 >= 0.96 }, "LeNet-5 MNIST test accuracies \(accuracies)")
    }

    /// The same LeNet-5 recipe (seed 1) on every other available built-in backend: `openblas`
    /// (im2col + its SGEMM) and the `swift` reference (about 25 s here) reach at least 0.97 too,
    /// within 0.01 of `c` (float rounding differs, so the runs are not bit-identical).
    /// Optimized builds only, like the test above.
    @Test(.enabled(if: Self.optimizedBuild, "LeNet-5 on every backend runs in optimized builds"))
    func leNetReachesNinetySevenPercentOnEveryBackend() throws {
        let (train, test) = try MNIST.load(directory: sharedData + "/mnist-5k")
        func accuracy(on name: String) throws -> Double {
            let backend = try BackendRegistry.make(name: name, threads: 2, environment: ProcessEnvironment.current)
            let model = try Architecture.build("lenet", seed: 1, inputShape: [1, 28, 28])
            let optimizer = Adam(learningRate: 0.002)
            let trainer = Trainer(model: model, loss: .crossEntropy(), optimizer: optimizer, backend: backend, seed: 1)
            try trainer.fit(train, epochs: 6, batchSize: 32)
            optimizer.learningRate = 0.0005
            try trainer.fit(train, epochs: 8, batchSize: 32)
            return try trainer.evaluate(test).classification?.accuracy ?? 0
        }
        let reference = try accuracy(on: "c")
        let available = try BackendRegistry.entries(threads: 2, environment: ProcessEnvironment.current)
            .filter { entry in entry.available && entry.name != "c" && BackendRegistry.builtIn.contains { $0.name == entry.name } }.map(\.name)
        #expect(available.contains("swift"))
        for name in available {
            let reached = try accuracy(on: name)
            #expect(reached >= 0.97 && abs(reached - reference) <= 0.01, "LeNet-5 on \(name): \(reached), on c: \(reference)")
        }
    }

    /// The debug suite's LeNet check (seconds rather than minutes): one epoch of Adam on the
    /// first 2,000 training images takes LeNet-5 from chance (0.12) to at least 0.85 on the
    /// 1,000 test images (0.895 measured), and the loss falls (3.05 to 0.37).
    @Test func leNetLearnsMNISTInOneEpoch() throws {
        let (train, test) = try MNIST.load(directory: sharedData + "/mnist-5k")
        let backend = try BackendRegistry.make(name: "c", threads: 2, environment: ProcessEnvironment.current)
        let model = try Architecture.build("lenet", seed: 1, inputShape: [1, 28, 28])
        let trainer = Trainer(model: model, loss: .crossEntropy(), optimizer: Adam(learningRate: 0.002), backend: backend, seed: 1)
        let before = try trainer.evaluate(test)
        try trainer.fit(train.subset(Array(0..<2000)), epochs: 1, batchSize: 32)
        let after = try trainer.evaluate(test)
        #expect((before.classification?.accuracy ?? 1) < 0.2, "untrained accuracy \(before.classification?.accuracy ?? -1)")
        #expect((after.classification?.accuracy ?? 0) >= 0.85, "LeNet-5 after one epoch on 2,000 images: \(after.classification?.accuracy ?? -1)")
        #expect(after.loss < before.loss / 3, "loss \(before.loss) -> \(after.loss)")
    }

    /// True in a build with optimization (`-c release`), where SwiftPM does not define DEBUG.
    static var optimizedBuild: Bool {
        #if DEBUG
        false
        #else
        true
        #endif
    }
}
