// Row softmax and fused softmax + cross-entropy on 4096x1000 and 128x10 on every available
// backend, with wall time and throughput (calls per second).
import Backprop
import Benchmark

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput],
        warmupIterations: 3,
        maxDuration: .milliseconds(400),
        maxIterations: 5_000)
    let backends = (try? benchBackends(names: nil, threads: nil)) ?? []
    for entry in backends {
        for item in BenchCases.softmax() {
            Benchmark("\(item.kind.rawValue) \(entry.name) \(item.shape)",
                      configuration: .init(tags: ["threads": String(entry.threads)])) { benchmark, work in
                for _ in benchmark.scaledIterations { try work() }
            } setup: {
                try item.prepare(try entry.make())
            }
        }
    }
}
