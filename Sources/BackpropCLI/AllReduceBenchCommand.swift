import ArgumentParser
import Backprop

/// `backprop bench-allreduce`, run under `mpirun -np N`: how long the gradient all-reduce takes
/// for each size, and how long a data-parallel training step takes with it. The numbers for
/// the cost model of docs/DISTRIBUTED.md (scripts/distributed-bench runs it for N = 1, 2, 3).
struct AllReduceBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-allreduce",
        abstract: "Time the gradient all-reduce and data-parallel training steps (run it under mpirun).",
        discussion: """
            Start it with mpirun -np N. Rank 0 prints CSV: for each size, the median, 10th and \
            90th percentile time of one in-place MPI_Allreduce (float sum, barrier before each \
            call); then, for the MLP 784-256-128-10 on synthetic data, the median time of a \
            training step on the global batch (each rank computes its share, then the all-reduce \
            and the update), and of the same step's computation alone for one rank's share \
            (no all-reduce: one process with batch = the share), the two interleaved.
            """)

    @Option(help: "Comma-separated buffer sizes in floats (default: 1,16,256,4096,61706,235146,1048576).")
    var sizes: String = "1,16,256,4096,61706,235146,1048576"

    @Option(name: .customLong("repeat"), help: "Timed calls per size and per step kind (default 50).")
    var repeats = 50

    @Option(help: "The global minibatch of the timed training steps (default 64).")
    var batchSize = 64

    @Option(help: "Threads per rank for the c backend (default: the cores shared among the ranks).")
    var threads: Int?

    func validate() throws {
        if repeats < 3 { throw ValidationError("--repeat must be at least 3, got \(repeats)") }
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        _ = try parseWidths(sizes, option: "--sizes")
    }

    func run() throws {
        try runOnRanks(distributed: true) { world in
            let backend = try resolveBackend(name: "c", threads: threads ?? sharedCores())
            if world.isRoot {
                writeStdout("# \(world.size) rank(s), backend \(backend.name) (\(backend.detail))\n")
                writeStdout("kind,ranks,floats,bytes,median_us,p10_us,p90_us\n")
            }
            for floats in try parseWidths(sizes, option: "--sizes") {
                let times = try timeAllReduce(floats: floats, world: world)
                report("allreduce", world: world, floats: floats, times: times)
            }
            let step = try timeSteps(world: world, backend: backend)
            report("step_mlp_784_256_128_10_batch\(batchSize)", world: world, floats: step.parameters, times: step.total)
            report("compute_only_share\(step.share)", world: world, floats: step.parameters, times: step.compute)
        }
    }

    /// Seconds per in-place all-reduce of `floats` floats, after a barrier each time.
    private func timeAllReduce(floats: Int, world: any Communicator) throws -> [Double] {
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: floats)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: 1)
        for _ in 0..<3 { try world.allReduceSum(buffer) }
        return try (0..<repeats).map { _ in
            try world.barrier()
            return try seconds { try world.allReduceSum(buffer) }
        }
    }

    /// Seconds per data-parallel step on the global batch, and per step of one rank's share
    /// alone (the computation without the exchange).
    private func timeSteps(world: any Communicator, backend: any Backend) throws
        -> (parameters: Int, share: Int, total: [Double], compute: [Double])
    {
        func mlp() -> Sequential {
            Sequential(seed: 1) { Dense(784, 256); ReLU(); Dense(256, 128); ReLU(); Dense(128, 10) }
        }
        let batch = try syntheticBatch(rows: batchSize)
        let distributed = Trainer(model: mlp(), loss: .crossEntropy(), optimizer: SGD(learningRate: 0.01),
                                  backend: backend, seed: 1, communicator: world)
        let share = (batchSize + world.size - 1) / world.size
        let alone = Trainer(model: mlp(), loss: .crossEntropy(), optimizer: SGD(learningRate: 0.01), backend: backend, seed: 1)
        let shareBatch = try syntheticBatch(rows: share)
        for _ in 0..<3 { try distributed.trainStep(batch); try alone.trainStep(shareBatch) }
        // Interleaved, so both see the same machine load (it is shared and noisy).
        var total: [Double] = [], compute: [Double] = []
        for _ in 0..<repeats {
            try world.barrier()
            total.append(try seconds { try distributed.trainStep(batch) })
            compute.append(try seconds { try alone.trainStep(shareBatch) })
        }
        return (distributed.model.parameterCount, share, total, compute)
    }

    /// `rows` MNIST-shaped samples (784 features in [0, 1), 10 classes), the same on every rank.
    private func syntheticBatch(rows: Int) throws -> Dataset {
        var rng = SeededGenerator(seed: 7)
        let x = Tensor(rows: rows, cols: 784)
        for i in 0..<x.count { x.data[i] = Float(rng.nextUnit()) }
        return try Dataset(features: x, labels: (0..<rows).map { Int32($0 % 10) }, classCount: 10)
    }

    private func seconds(_ body: () throws -> Void) rethrows -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        try body()
        let d = clock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    /// One CSV line on rank 0: median and 10th/90th percentiles in microseconds.
    private func report(_ kind: String, world: any Communicator, floats: Int, times: [Double]) {
        guard world.isRoot else { return }
        let sorted = times.sorted()
        func percentile(_ p: Double) -> String { fixed(sorted[Int(p * Double(sorted.count - 1))] * 1e6, 1) }
        writeStdout("\(kind),\(world.size),\(floats),\(floats * 4),\(percentile(0.5)),\(percentile(0.1)),\(percentile(0.9))\n")
    }
}
