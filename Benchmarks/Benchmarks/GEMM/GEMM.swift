// GEMM on every available backend: the six GEMMs of a 784-256-128-10 training step at batch
// 128 and a 512 square, with wall time, throughput and a custom MFLOP/s metric.
import Backprop
import Benchmark

/// 2·M·N·K / seconds / 1e6, measured around the calls of each iteration.
let megaflops = BenchmarkMetric.custom("MFLOP/s", polarity: .prefersLarger)

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, megaflops],
        warmupIterations: 3,
        maxDuration: .milliseconds(400),
        maxIterations: 2_000)
    let cases = BenchCases.gemm(squareSizes: [512])
    let backends = (try? benchBackends(names: nil, threads: nil)) ?? []
    for entry in backends {
        for gemm in cases {
            let name = "gemm \(entry.name) \(gemm.variant) \(gemm.shape)"
            Benchmark(name, configuration: .init(tags: ["threads": String(entry.threads)])) { benchmark, work in
                let clock = ContinuousClock()
                let start = clock.now
                for _ in benchmark.scaledIterations { try work() }
                let elapsed = clock.now - start
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
                let calls = Double(benchmark.scaledIterations.count)
                benchmark.measurement(megaflops, Int(gemm.workPerCall * calls / max(seconds, 1e-12) / 1e6))
            } setup: {
                try gemm.prepare(try entry.make())
            }
        }
    }
}
