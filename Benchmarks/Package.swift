// swift-tools-version: 6.1
// Benchmarks for Backprop with ordo-one/benchmark: wall time, throughput and malloc counts.
//
// A separate package, so the main package (and its `swift test`) never builds the benchmark
// framework. Run from this directory:
//   swift package benchmark --no-progress
// See docs/BENCHMARKS.md for baselines and comparisons.
import PackageDescription

let package = Package(
    name: "BackpropBenchmarks",
    dependencies: [
        // Named, so the product reference below does not depend on the checkout directory name.
        .package(name: "Backprop", path: ".."),
        // MallocInterposer only: malloc counts without the Linux ARC runtime interposer.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // Each benchmark target lives in Benchmarks/<Name>/<Name>.swift, where the plugin finds it.
        benchmarkTarget("GEMM"),
        benchmarkTarget("Softmax"),
        benchmarkTarget("TrainStep"),
    ]
)

func benchmarkTarget(_ name: String) -> Target {
    .executableTarget(
        name: name,
        dependencies: [
            .product(name: "Backprop", package: "Backprop"),
            .product(name: "Benchmark", package: "benchmark"),
        ],
        path: "Benchmarks/\(name)",
        plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    )
}
