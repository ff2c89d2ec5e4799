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
            is within the op's tolerance. Exits with status 1 when any op fails.
            """)

    @Option(name: .customLong("backend"), help: "A backend to verify; repeat for several (default: every available one).")
    var backends: [String] = []

    @Option(name: .customLong("op"), help: "Only this op; repeat for several (default: all). One of: \(VerifiedOp.allCases.map(\.rawValue).joined(separator: ", ")).")
    var ops: [String] = []

    @Option(help: "Threads for the c and openblas backends (default: BACKPROP_NUM_THREADS, OMP_NUM_THREADS, or every core).")
    var threads: Int?

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
        let verifier = OpVerifier(thorough: thorough, seed: seed)
        var records: [VerificationRecord] = []
        for backend in try chosenBackends() {
            records += verifier.verify(backend, ops: selectedOps.isEmpty ? VerifiedOp.allCases : selectedOps)
        }
        if json {
            try printJSON(records)
        } else {
            printTable(records)
        }
        if records.contains(where: { !$0.pass }) { throw ExitCode(1) }
    }

    /// The backends named with --backend (an unknown or unavailable one is an error), else
    /// every available backend.
    private func chosenBackends() throws -> [any Backend] {
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
