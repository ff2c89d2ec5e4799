import Foundation
import Testing

/// scripts/peers/compare.py, which `scripts/bench-peers` uses to print Backprop beside the peers:
/// with interleaved rounds (files ...-rN.json) each figure is the median over the rounds and each
/// ratio the median of the per-round ratios, not the ratio of the medians.
@Suite struct PeerComparisonTests {
    /// One record of `backprop bench --json` / a peer's JSON, in GFLOP/s.
    static func record(_ backend: String, _ gflops: Double) -> String {
        #"{"case": "gemm", "variant": "NN", "shape": "128x128x128", "threads": 2, "backend": "\#(backend)", "gflops": \#(gflops), "median_seconds": 0.001, "min_seconds": 0.001}"#
    }

    static func compare(_ files: [String: String]) throws -> (status: Int32, output: String) {
        let directory = try CLITests.temporaryDirectory()
        var paths: [String] = []
        for (name, text) in files.sorted(by: { $0.key < $1.key }) {
            let path = directory + "/" + name
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            paths.append(path)
        }
        let script = packageRoot.appendingPathComponent("scripts/peers/compare.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script] + paths
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func roundsGiveMediansAndTheMedianOfPerRoundRatios() throws {
        // Rounds: c/jax = 100/50, 60/60, 90/30 -> ratios 2, 1, 3 (median 2.00); medians 90 and 50,
        // whose ratio (1.80) is what a slow middle round would wrongly make of it.
        let result = try Self.compare([
            "backprop-gemm-t2-r1.json": "[\(Self.record("c", 100))]", "jax-t2-r1.json": "[\(Self.record("jax", 50))]",
            "backprop-gemm-t2-r2.json": "[\(Self.record("c", 60))]", "jax-t2-r2.json": "[\(Self.record("jax", 60))]",
            "backprop-gemm-t2-r3.json": "[\(Self.record("c", 90))]", "jax-t2-r3.json": "[\(Self.record("jax", 30))]",
        ])
        #expect(result.status == 0, "\(result.output)")
        let row = result.output.split(separator: "\n").first { $0.hasPrefix("gemm") } ?? ""
        #expect(row.contains("90.0 c") && row.contains("50.0") && row.split(separator: " ").last == "2.00", "\(result.output)")
        #expect(result.output.contains("3 interleaved rounds"), "\(result.output)")
    }

    @Test func oneRoundIsThePlainRatio() throws {
        let result = try Self.compare([
            "backprop-gemm-t2.json": "[\(Self.record("c", 90)), \(Self.record("openblas", 80))]",
            "jax-t2.json": "[\(Self.record("jax", 60))]",
        ])
        #expect(result.status == 0, "\(result.output)")
        let row = result.output.split(separator: "\n").first { $0.hasPrefix("gemm") } ?? ""
        #expect(row.contains("90.0 c") && row.split(separator: " ").last == "1.50", "\(result.output)")
        #expect(!result.output.contains("interleaved rounds"), "\(result.output)")
    }
}
