// One SGD training step of 784-256-128-10 (ReLU, cross-entropy, lr 0.1) at batch 128, and of
// LeNet-5 at batch 64, on every available backend, with wall time and malloc counts. After the warm-up steps have created
// every buffer, a step must allocate nothing: mallocCountTotal per iteration should be 0.
import Backprop
import Benchmark

let benchmarks: @Sendable () -> Void = {
    let data = SyntheticData(samples: 4_096, maxBatches: 8)
    let backends = (try? benchBackends(names: nil, threads: nil)) ?? []
    for entry in backends {
        let step = BenchCases.trainCase(widths: [784, 256, 128, 10], batch: 128, data: data)
        Benchmark("train step \(entry.name) 784-256-128-10 batch=128",
                  configuration: .init(
                    metrics: [.wallClock, .throughput, .mallocCountTotal, .mallocCountSmall, .mallocCountLarge,
                              ],
                    tags: ["threads": String(entry.threads)],
                    warmupIterations: 10,
                    maxDuration: .seconds(1),
                    maxIterations: 500,
                    thresholds: [.mallocCountTotal: .init(absolute: [.p100: 0])])) { benchmark, work in
            for _ in benchmark.scaledIterations { try work() }
        } setup: {
            try step.prepare(try entry.make())
        }
        // LeNet-5 on 1×28×28 images at batch 64: the CNN must allocate nothing per step either.
        let lenet = BenchCases.lenetTrainCase(batch: 64, data: data)
        Benchmark("train step \(entry.name) lenet batch=64",
                  configuration: .init(
                    metrics: [.wallClock, .throughput, .mallocCountTotal, .mallocCountSmall, .mallocCountLarge],
                    tags: ["threads": String(entry.threads)],
                    warmupIterations: 5,
                    maxDuration: .seconds(1),
                    maxIterations: 200,
                    thresholds: [.mallocCountTotal: .init(absolute: [.p100: 0])])) { benchmark, work in
            for _ in benchmark.scaledIterations { try work() }
        } setup: {
            try lenet.prepare(try entry.make())
        }
    }
}
