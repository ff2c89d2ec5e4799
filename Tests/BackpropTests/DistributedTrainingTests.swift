import Foundation
import Testing
@testable import Backprop

/// Data-parallel training through the ``Communicator`` protocol, without MPI: N ranks are N
/// threads (``ThreadGroup``). N ranks with global batch B must match one process with batch B
/// (up to float rounding, since each rank's gradient is a partial sum), and give every rank,
/// and every repeated run, the same bits. The same code under real MPI is DistributedMPITests.
@Suite struct DistributedTrainingTests {
    struct Outcome {
        var weights: [[Float]]
        var history: [EpochReport]
        var fit: FitOutcome
        var stepCount: Int
    }

    /// 103 samples (a prime, so batches split unevenly) of 6 features in 3 classes.
    static func data(seed: UInt64 = 5) throws -> Dataset {
        var rng = SeededGenerator(seed: seed)
        let x = Tensor(rows: 103, cols: 6)
        var labels = [Int32]()
        for row in 0..<x.rows {
            let label = Int32(row % 3)
            labels.append(label)
            for col in 0..<x.cols { x.data[row * x.cols + col] = Float(rng.nextUnit()) + (col % 3 == row % 3 ? 1 : 0) }
        }
        return try Dataset(features: x, labels: labels, classCount: 3)
    }

    struct Setup: @unchecked Sendable {
        var loss: Loss = .crossEntropy()
        var makeOptimizer: @Sendable () -> any Optimizer = { SGD(learningRate: 0.2, momentum: 0.9) }
        var epochs = 4
        var batchSize = 10
        var clip: Float?
        /// The model's seed on each rank (the same on every rank unless a test says otherwise).
        var modelSeed: @Sendable (Int) -> UInt64 = { _ in 11 }
        var data: @Sendable (Int) throws -> Dataset = { _ in try DistributedTrainingTests.data() }
        var prepare: @Sendable (Int, Trainer) -> Void = { _, _ in }
    }

    static func train(_ setup: Setup, rank: Int, communicator: any Communicator) throws -> Outcome {
        let model = Sequential(seed: setup.modelSeed(rank)) { Dense(6, 8); ReLU(); Dense(8, 3) }
        let data = try setup.data(rank)
        let trainer = Trainer(model: model, loss: setup.loss, optimizer: setup.makeOptimizer(), backend: SwiftBackend(),
                              seed: 3, communicator: communicator)
        trainer.clipGradNorm = setup.clip
        setup.prepare(rank, trainer)
        let fit = try trainer.fit(data, validation: data, epochs: setup.epochs, batchSize: setup.batchSize)
        return Outcome(weights: model.namedParameters.map { $0.parameter.value.scalars }, history: trainer.state.history,
                       fit: fit, stepCount: trainer.optimizer.stepCount)
    }

    /// `setup` trained on `ranks` threads; each rank's result.
    static func runRanks(_ setup: Setup, ranks: Int) -> [Result<Outcome, any Error>] {
        let group = ThreadGroup(size: ranks)
        return group.run { rank in try train(setup, rank: rank, communicator: group.member(rank)) }
    }

    /// One process, then `ranks` threads; returns (single, per-rank results).
    static func compare(_ setup: Setup, ranks: Int) throws -> (Outcome, [Outcome]) {
        let single = try train(setup, rank: 0, communicator: SingleProcessCommunicator())
        return (single, try runRanks(setup, ranks: ranks).map { try $0.get() })
    }

    static func maxDifference(_ a: [[Float]], _ b: [[Float]]) -> Float {
        zip(a, b).flatMap { zip($0, $1).map { abs($0 - $1) } }.max() ?? .infinity
    }

    static func bits(_ weights: [[Float]]) -> [[UInt32]] { weights.map { $0.map(\.bitPattern) } }

    /// Tolerances: gradients are summed in a different order (per rank, then across ranks) and
    /// each rank's output gradient is scaled twice (1/n, then n/B), so results differ from one
    /// process by float rounding, which 4 epochs of SGD with momentum amplify only slightly.
    static let lossTolerance = 1e-5, weightTolerance: Float = 1e-4

    @Test(arguments: [(2, 10), (3, 10), (3, 7), (4, 5), (3, 2), (3, 1), (5, 103)])
    func ranksMatchOneProcess(ranks: Int, batchSize: Int) throws {
        var setup = Setup()
        setup.batchSize = batchSize
        let (single, distributed) = try Self.compare(setup, ranks: ranks)
        let root = distributed[0]
        #expect(root.stepCount == single.stepCount)
        #expect(root.history.count == single.history.count)
        for (one, many) in zip(single.history, root.history) {
            #expect(abs(one.trainLoss - many.trainLoss) <= Self.lossTolerance * max(1, one.trainLoss),
                    "epoch \(one.epoch): \(one.trainLoss) vs \(many.trainLoss)")
            #expect(abs(one.trainAccuracy! - many.trainAccuracy!) <= 0.005)
            #expect(abs(one.testAccuracy! - many.testAccuracy!) <= 0.005)
        }
        #expect(Self.maxDifference(single.weights, root.weights) <= Self.weightTolerance)
        for other in distributed.dropFirst() {
            #expect(Self.bits(other.weights) == Self.bits(root.weights), "ranks hold different weights")
            #expect(other.history.map(\.trainLoss) == root.history.map(\.trainLoss))
            #expect(other.history.allSatisfy { $0.testLoss == nil }, "only rank 0 evaluates")
        }
        #expect(root.history.allSatisfy { $0.testLoss != nil })
    }

    @Test func repeatedRunsAreBitIdentical() throws {
        let (_, first) = try Self.compare(Setup(), ranks: 3)
        let (_, second) = try Self.compare(Setup(), ranks: 3)
        #expect(Self.bits(first[0].weights) == Self.bits(second[0].weights))
        #expect(first[0].history.map(\.trainLoss) == second[0].history.map(\.trainLoss))
    }

    /// Mean over elements (MSE), a summed loss, Adam and clipping all see the global batch.
    @Test(arguments: ["mse", "sum", "adam", "clip"])
    func lossesOptimizersAndClippingMatchOneProcess(variant: String) throws {
        var setup = Setup()
        setup.batchSize = 7
        switch variant {
        case "mse": setup.loss = .mse()
        case "sum": setup.loss = .crossEntropy(.sum); setup.makeOptimizer = { SGD(learningRate: 0.01) }
        case "adam": setup.makeOptimizer = { Adam(learningRate: 0.01) }
        default: setup.clip = 0.05
        }
        let (single, distributed) = try Self.compare(setup, ranks: 3)
        for (one, many) in zip(single.history, distributed[0].history) {
            #expect(abs(one.trainLoss - many.trainLoss) <= Self.lossTolerance * max(1, one.trainLoss),
                    "\(variant) epoch \(one.epoch): \(one.trainLoss) vs \(many.trainLoss)")
        }
        #expect(Self.maxDifference(single.weights, distributed[0].weights) <= Self.weightTolerance, "\(variant)")
    }

    /// Rank 0's initial weights are broadcast: a rank that drew other weights still trains the
    /// same model.
    @Test func rankZerosInitialWeightsAreBroadcast() throws {
        var setup = Setup()
        setup.modelSeed = { $0 == 1 ? 99 : 11 }
        let (single, distributed) = try Self.compare(setup, ranks: 2)
        #expect(Self.bits(distributed[1].weights) == Self.bits(distributed[0].weights))
        #expect(Self.maxDifference(single.weights, distributed[1].weights) <= Self.weightTolerance)
    }

    @Test func ranksWithDifferentDataAllStopWithTheSameError() throws {
        var setup = Setup()
        setup.data = { rank in try DistributedTrainingTests.data(seed: rank == 2 ? 6 : 5) }
        let results = Self.runRanks(setup, ranks: 3)
        let expected = BackpropError.communication(
            "rank 2's training data differs from rank 0's; every rank must load the same data and settings (and resume from the same checkpoint)")
        for result in results {
            #expect(throws: expected) { try result.get() }
        }
    }

    @Test func aRankResumedElsewhereIsRefused() throws {
        var setup = Setup()
        setup.prepare = { rank, trainer in if rank == 1 { trainer.state.batchesCompleted = 3 } }
        let results = Self.runRanks(setup, ranks: 2)
        for result in results {
            #expect(throws: BackpropError.self) { try result.get() }
            if case .failure(BackpropError.communication(let message)) = result {
                #expect(message.hasPrefix("rank 1's training progress differs"), "\(message)")
            }
        }
    }

    @Test func divergenceStopsEveryRankAtTheSameBatch() throws {
        var setup = Setup()
        setup.makeOptimizer = { SGD(learningRate: 1e30) }
        let results = Self.runRanks(setup, ranks: 3)
        var errors: [BackpropError] = []
        for result in results {
            guard case .failure(let error as BackpropError) = result, case .diverged = error else {
                Issue.record("expected divergence, got \(result)")
                continue
            }
            errors.append(error)
        }
        #expect(errors.count == 3 && Set(errors.map(\.description)).count == 1, "\(errors)")
    }

    /// A stop request on one rank (a signal it alone received) stops every rank after the same
    /// step, so they can save and resume together.
    @Test func aStopOnOneRankStopsAllAtTheSameStep() throws {
        final class Countdown: @unchecked Sendable { var left = 5 }
        let countdown = Countdown()
        let group = ThreadGroup(size: 3)
        var states: [TrainingState] = []
        let results = group.run { rank -> (FitOutcome, TrainingState) in
            let model = Sequential(seed: 11) { Dense(6, 8); ReLU(); Dense(8, 3) }
            let trainer = Trainer(model: model, loss: .crossEntropy(), optimizer: SGD(learningRate: 0.1),
                                  backend: SwiftBackend(), seed: 3, communicator: group.member(rank))
            if rank == 2 { trainer.shouldStop = { countdown.left -= 1; return countdown.left <= 0 } }
            let fit = try trainer.fit(try Self.data(), epochs: 4, batchSize: 10)
            return (fit, trainer.state)
        }
        for result in results {
            let (fit, state) = try result.get()
            #expect(fit == .stopped)
            states.append(state)
        }
        #expect(states[0].batchesCompleted == 5 && states[0].epochsCompleted == 0)
        #expect(states.allSatisfy { $0 == states[0] })
    }

    @Test func singleProcessCommunicatorIsOneRank() throws {
        let one = SingleProcessCommunicator()
        #expect(one.rank == 0 && one.size == 1 && one.isRoot)
        var values: [Float] = [1, 2, 3]
        try values.withUnsafeMutableBufferPointer { try one.allReduceSum($0) }
        #expect(values == [1, 2, 3])
        #expect(throws: BackpropError.self) {
            try values.withUnsafeMutableBytes { try one.broadcast($0, root: 1) }
        }
    }

    @Test func shardsAreContiguousAndDifferByAtMostOne() throws {
        let group = ThreadGroup(size: 3)
        let batch = Array(100..<200)[10..<17]  // 7 rows, not starting at index 0
        let shards = (0..<3).map {
            GradientExchange(communicator: group.member($0), parameters: []).shard(of: batch)
        }
        #expect(shards.map(Array.init) == [[110, 111], [112, 113], [114, 115, 116]])
        let tiny = (0..<3).map { GradientExchange(communicator: group.member($0), parameters: []).shard(of: batch.prefix(1)) }
        #expect(tiny.map(\.count) == [0, 0, 1])
    }
}
