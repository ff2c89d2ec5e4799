import Synchronization
import Testing
import Backprop  // not @testable: only what another package sees

/// A backend as another package would write one: the reference loops (the protocol's
/// defaults) with GEMM counted, so a test can see it was really the one used.
final class CountingBackend: Backend {
    let name: String
    var detail: String { "reference ops, GEMM counted" }
    private let gemmCalls = Atomic<Int>(0)
    var gemms: Int { gemmCalls.load(ordering: .relaxed) }

    init(name: String) { self.name = name }

    func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        gemmCalls.add(1, ordering: .relaxed)
        SwiftBackend().gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                            b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }
}

/// Registration, lookup and the conformance kit, used from outside the module.
@Suite("External backend registration")
struct ExternalBackendTests {
    /// Serializes `registerOnce`: tests run in parallel, and two of them checking `contains`
    /// before either registered would both register (the second one failing).
    private static let registering = Mutex(())

    /// Registers `name` once per process (tests may run in any order, at the same time).
    static func registerOnce(_ name: String) throws {
        try registering.withLock { _ in
            if BackendRegistry.contains(name) { return }
            try BackendRegistry.register(.init(name: name, summary: "a test backend from another module") { _, _ in
                CountingBackend(name: name)
            })
        }
    }

    @Test func aRegisteredBackendIsReachableByName() throws {
        try Self.registerOnce("counting")
        #expect(BackendRegistry.names.prefix(3) == ["c", "openblas", "swift"], "built-ins stay first")
        #expect(BackendRegistry.names.contains("counting"))
        #expect(try backend(named: "counting").name == "counting")
        let chosen = try BackendRegistry.default(threads: 1, environment: ["BACKPROP_BACKEND": "counting"])
        #expect(chosen.name == "counting")
        let row = try BackendRegistry.entries(threads: 1, environment: [:]).first { $0.name == "counting" }
        #expect(row?.available == true && row?.detail == "reference ops, GEMM counted")
        // Not named, it never takes over: `c` (or `swift`) is available first.
        #expect(try BackendRegistry.default(threads: 1, environment: [:]).name != "counting")
    }

    @Test func duplicateAndEmptyNamesAreClearErrors() throws {
        try Self.registerOnce("counting")
        let entry = BackendRegistry.Entry(name: "counting", summary: "again") { _, _ in SwiftBackend() }
        #expect(throws: BackpropError.self) { try BackendRegistry.register(entry) }
        do {
            try BackendRegistry.register(.init(name: "c", summary: "clash") { _, _ in SwiftBackend() })
            Issue.record("registering 'c' again succeeded")
        } catch {
            #expect("\(error)".contains("'c'") && "\(error)".contains("already registered"))
        }
        for bad in ["", "two words", "a,b"] {
            #expect(throws: BackpropError.self) {
                try BackendRegistry.register(.init(name: bad, summary: "bad") { _, _ in SwiftBackend() })
            }
        }
    }

    @Test func registrationIsThreadSafe() async throws {
        // 16 tasks race to register 16 distinct names: all must land exactly once.
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<16 {
                group.addTask {
                    try? BackendRegistry.register(.init(name: "racer\(i)", summary: "race") { _, _ in SwiftBackend() })
                }
            }
        }
        let names = BackendRegistry.names.filter { $0.hasPrefix("racer") }
        #expect(names.count == 16 && Set(names).count == 16)
    }

    @Test func theConformanceKitPassesACorrectBackendAndTrainsOnIt() throws {
        try Self.registerOnce("counting")
        let backend = try backend(named: "counting")
        let report = try Conformance.run(backend)
        #expect(report.passed, "\(report.failures)")
        #expect(report.ops.count == VerifiedOp.allCases.count)
        #expect(report.training?.pass == true)
        #expect((backend as? CountingBackend)?.gemms ?? 0 > 100, "training ran on the registered backend")
    }

    @Test func theConformanceKitNamesTheBrokenOp() throws {
        final class IgnoresBeta: Backend {
            let name = "ignores-beta"
            var detail: String { "GEMM that overwrites C" }
            func gemm(
                transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>,
                lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
            ) {
                SwiftBackend().gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                                    b: b, ldb: ldb, beta: 0, c: c, ldc: ldc)
            }
        }
        let report = try Conformance.run(IgnoresBeta(), training: false)
        #expect(!report.passed)
        #expect(report.failures.count == 1 && report.failures[0].hasPrefix("ignores-beta gemm:"), "\(report.failures)")
    }
}
