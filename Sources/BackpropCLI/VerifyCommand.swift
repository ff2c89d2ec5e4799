import ArgumentParser
import Backprop
import Foundation

/// `backprop verify`: every primitive op of each backend against the pure-Swift reference.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Compare every op of each backend with the pure-Swift reference.",
        discussion: """
            Prints, per backend and op, the largest absolute and relative error and whether it \
            is within the op's tolerance. With --plugin (and no --backend) it verifies the \
            plugins' backends, says which ops are the plugin's own, and also trains digits for \
            3 epochs against the reference (--training does that for any backend). A backend \
            with ops that fall back to the Swift reference loops is named with those ops (a \
            note, not a failure). Exits with status 1 when any check fails.
            """)

    @Option(name: .customLong("backend"), help: "A backend to verify; repeat for several (default: every available one).")
    var backends: [String] = []

    @Option(name: .customLong("op"), help: "Only this op; repeat for several (default: all). One of: \(VerifiedOp.allCases.map(\.rawValue).joined(separator: ", ")).")
    var ops: [String] = []

    @Option(help: "Threads for the c and openblas backends (default: BACKPROP_NUM_THREADS, OMP_NUM_THREADS, or every core).")
    var threads: Int?

    @OptionGroup var plugins: PluginOptions

    @Flag(help: "Also train digits for 3 epochs on each backend and compare with the reference (on by default with --plugin).")
    var training = false

    @Flag(help: "Run every size combination instead of the quick covering (much slower).")
    var thorough = false

    @Option(help: "Seed of the random inputs.")
    var seed: UInt64 = OpVerifier().seed

    @Flag(help: "Print a JSON array of records instead of a table.")
    var json = false

    func run() throws {
        let selectedOps = try ops.map { name in
            guard let op = VerifiedOp(rawValue: name) else {
                throw ValidationError(
                    "unknown op '\(name)'; known ops: \(VerifiedOp.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return op
        }
        let pluginNames = try plugins.load()
        let verifier = OpVerifier(thorough: thorough, seed: seed)
        var reports: [ConformanceReport] = []
        for backend in try chosenBackends(plugins: pluginNames) {
            if !json, let plugin = backend as? PluginBackend {
                print("\(plugin.name): plugin \(plugin.path); native ops: "
                      + (plugin.nativeOps.isEmpty ? "none" : plugin.nativeOps.joined(separator: " "))
                      + "; from the host's C kernels: " + plugin.hostOps.joined(separator: " "))
            }
            let report = try Conformance.run(
                backend, verifier: verifier, ops: selectedOps.isEmpty ? VerifiedOp.allCases : selectedOps,
                training: training || !pluginNames.isEmpty)
            if !json, !report.referenceOps.isEmpty {
                print("\(backend.name): runs on the Swift reference (no implementation of its own): "
                      + report.referenceOps.map(\.rawValue).joined(separator: " "))
            }
            reports.append(report)
        }
        let records = reports.flatMap(\.ops)
        if json {
            try printJSON(records)
        } else {
            printTable(records)
            for case let comparison? in reports.map(\.training) {
                print("\(comparison.backend) training (3 epochs of digits vs the reference): "
                      + (comparison.failure.map { "FAIL: \($0)" } ?? "pass, accuracy \(comparison.accuracy) vs \(comparison.referenceAccuracy)"))
            }
        }
        let failures = reports.flatMap(\.failures)
        if !failures.isEmpty {
            printToStandardError("verify: \(failures.count) failed: " + failures.joined(separator: "; "))
            throw ExitCode(1)
        }
    }

    /// The backends named with --backend (an unknown or unavailable one is an error), else
    /// the --plugin backends, else every available backend.
    private func chosenBackends(plugins: [String]) throws -> [any Backend] {
        if backends.isEmpty && !plugins.isEmpty {
            return try plugins.map { try BackendRegistry.make(name: $0, threads: threads) }
        }
        if !backends.isEmpty {
            return try backends.map { try BackendRegistry.make(name: $0, threads: threads) }
        }
        return try BackendRegistry.entries(threads: threads)
            .filter(\.available)
            .map { try BackendRegistry.make(name: $0.name, threads: threads) }
    }

    private func printTable(_ records: [VerificationRecord]) {
        let opWidth = max(2, records.map(\.op.rawValue.count).max() ?? 0)
        let backendWidth = max(7, records.map(\.backend.count).max() ?? 0)
        print(pad("backend", backendWidth) + "  " + pad("op", opWidth)
              + "  max abs err  max rel err  err/tol  cases  result  tolerance")
        for r in records {
            print(pad(r.backend, backendWidth) + "  " + pad(r.op.rawValue, opWidth)
                  + "  " + pad(scientific(r.maxAbsError), 11) + "  " + pad(scientific(r.maxRelError), 11)
                  + "  " + pad(String(format: "%.3f", r.worstRatio), 7) + "  " + pad(String(r.cases), 5)
                  + "  " + pad(r.pass ? "pass" : "FAIL", 6) + "  " + r.tolerance)
            if !r.pass { print("    worst case: \(r.worstCase)") }
        }
        let failures = records.filter { !$0.pass }.count
        print(failures == 0
              ? "all \(records.count) checks passed"
              : "\(failures) of \(records.count) checks FAILED")
    }

    private func scientific(_ x: Double) -> String {
        x.isFinite ? String(format: "%.2e", x) : "\(x)"
    }
}
