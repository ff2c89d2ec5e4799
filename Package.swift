// swift-tools-version: 6.1
// Backprop: neural networks trained by backpropagation on the CPU, on pluggable backends.
//
// No target of the library product uses `unsafeFlags`, so another package can depend on
// Backprop by version. SIMD is chosen at run time inside CKernels; threads come from libomp
// through its runtime entry points (the `OpenMP` trait, on by default).
import PackageDescription

let package = Package(
    name: "Backprop",
    products: [
        .library(name: "Backprop", targets: ["Backprop"]),
        // The command line as a library: another package registers its own backend, then calls
        // `BackpropCommand.main()` to get every `backprop` command with `--backend NAME`.
        .library(name: "BackpropCLI", targets: ["BackpropCLI"]),
        .executable(name: "backprop", targets: ["BackpropMain"]),
    ],
    traits: [
        .default(enabledTraits: ["OpenMP"]),
        .trait(
            name: "OpenMP",
            description: "Run the C kernels on several threads through libomp (apt-get install libomp-dev)."
        ),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // `swift package generate-documentation` (DocC); a build-time plugin only.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // Fast C kernels: BLIS-style SGEMM, softmax, activations, optimizer updates.
        .target(
            name: "CKernels",
            path: "CKernels",
            cSettings: [
                .define("BACKPROP_OPENMP", .when(traits: ["OpenMP"])),
            ],
            linkerSettings: [
                .linkedLibrary("omp5", .when(traits: ["OpenMP"])),
                .linkedLibrary("m"),
                .linkedLibrary("dl"),
            ]
        ),
        // zlib from the system, for gzip-compressed datasets.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .target(
            name: "Backprop",
            dependencies: ["CKernels", "CZlib"],
            resources: [.copy("Resources/digits.csv.gz")]
        ),
        // Every `backprop` command (swift-argument-parser), as a library.
        .target(
            name: "BackpropCLI",
            dependencies: [
                "Backprop",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The `backprop` executable: one line that runs BackpropCLI.
        .executableTarget(
            name: "BackpropMain",
            dependencies: ["BackpropCLI"]
        ),
        // Layers written as a user would, from outside the module: `import Backprop`, no @testable.
        .testTarget(
            name: "LayerAPITests",
            dependencies: ["Backprop"]
        ),
        .testTarget(
            name: "BackpropTests",
            dependencies: ["Backprop"],
            resources: [.copy("Fixtures")]
        ),
        // Uses Backprop exactly as another package does (`import Backprop`, no @testable):
        // registering a backend, choosing it by name, running the conformance kit.
        .testTarget(
            name: "BackpropConsumerTests",
            dependencies: ["Backprop"]
        ),
    ]
)
