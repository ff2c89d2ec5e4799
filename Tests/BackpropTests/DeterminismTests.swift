import Foundation
import Testing
@testable import Backprop

/// The promise of docs/RELIABILITY.md: the same seed, backend and thread count give bit-identical
/// weights and losses, run after run; the C kernels also give the same bits on any thread count.
/// Each run is a separate `backprop train` process, because the C library's thread count is a
/// process-wide setting that tests running in parallel would otherwise change under each other.
@Suite struct DeterminismTests {
    struct Run {
        /// Every tensor of the saved checkpoint (weights and momentum) as bit patterns.
        var tensors: [String: [UInt32]]
        /// Per epoch: train loss, test loss and test accuracy, as bit patterns.
        var history: [[UInt64]]
    }

    /// 3 epochs of 64-32-10 on digits with SGD + momentum (every kernel of a training step).
    static func train(backend: String, threads: Int, in dir: String) throws -> Run {
        let name = "\(backend)-\(threads)-\(UUID().uuidString).safetensors"
        let output = try CLITests.run(
            ["train", "--epochs", "3", "--hidden", "32", "--momentum", "0.9", "--seed", "7", "--backend", backend,
             "--threads", String(threads), "--save", name, "--quiet"], in: dir)
        #expect(output.status == 0, "\(output.stderr)")
        let path = dir + "/" + name
        let history = try #require(try ModelCheckpoint.load(from: path).trainingState).history.map { epoch in
            [epoch.trainLoss, epoch.testLoss ?? .nan, epoch.testAccuracy ?? .nan].map(\.bitPattern)
        }
        let tensors = try SafeTensors.read(path: path).tensors.mapValues { $0.tensor.scalars.map(\.bitPattern) }
        return Run(tensors: tensors, history: history)
    }

    @Test(arguments: ["swift", "c", "openblas"])
    func sameSeedBackendAndThreadsIsBitIdentical(_ backend: String) throws {
        let dir = try CLITests.temporaryDirectory()
        let first = try Self.train(backend: backend, threads: 2, in: dir)
        let second = try Self.train(backend: backend, threads: 2, in: dir)
        #expect(first.history.count == 3 && first.tensors.keys.filter { $0.hasPrefix("optimizer.") }.count == 4)
        #expect(first.tensors == second.tensors, "\(backend): weights or momentum differ between identical runs")
        #expect(first.history == second.history, "\(backend): losses differ between identical runs")
    }

    /// The C kernels split work so that no sum depends on the thread count (GEMM by output tiles,
    /// softmax and losses per row, column sums per column), so 1, 2 and 3 threads agree bit for bit.
    @Test func cBackendGivesTheSameBitsOnOneTwoAndThreeThreads() throws {
        let dir = try CLITests.temporaryDirectory()
        let one = try Self.train(backend: "c", threads: 1, in: dir)
        for threads in [2, 3] {
            let more = try Self.train(backend: "c", threads: threads, in: dir)
            #expect(one.tensors == more.tensors, "c: weights or momentum on 1 and \(threads) threads differ")
            #expect(one.history == more.history, "c: losses on 1 and \(threads) threads differ")
        }
    }
}
