// swift-tools-version: 6.1
// libFuzzer targets for Backprop's file parsers, kept out of the root package so the library
// never carries sanitizer flags. Build and run them with scripts/fuzz, which passes
// `-sanitize=fuzzer,address` and `-enable-testing` (the targets reach the parsers' byte-level
// entry points, some of which are internal, with `@testable import`).
import PackageDescription

let package = Package(
    name: "BackpropFuzz",
    dependencies: [
        .package(name: "Backprop", path: ".."),
    ],
    targets: [
        // Declares libFuzzer's LLVMFuzzerRunDriver: SwiftPM links each executable's own entry
        // point as `main`, so the targets start the driver themselves.
        .target(name: "FuzzDriver"),
        // `check`: a parser's result, or a one-line BackpropError; anything else stops the fuzzer.
        .target(name: "FuzzSupport", dependencies: [.product(name: "Backprop", package: "Backprop")]),
        // IDX headers and gzip inflation: the MNIST loader's two layers.
        .executableTarget(name: "FuzzIDX", dependencies: ["FuzzDriver", "FuzzSupport", .product(name: "Backprop", package: "Backprop")]),
        // The CSV tokenizer and the dataset/matrix builders on top of it.
        .executableTarget(name: "FuzzCSV", dependencies: ["FuzzDriver", "FuzzSupport", .product(name: "Backprop", package: "Backprop")]),
        // The safetensors header and data-offset validation.
        .executableTarget(name: "FuzzSafeTensors", dependencies: ["FuzzDriver", "FuzzSupport", .product(name: "Backprop", package: "Backprop")]),
    ]
)
