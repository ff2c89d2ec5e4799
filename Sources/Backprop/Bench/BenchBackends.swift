/// One backend the bench runs on: its name, the thread count it was built with, and how to
/// build it.
public struct BenchBackend: Sendable {
    /// The registry name, as printed in records (`c`, `openblas`, `swift`, a plugin's name).
    public let name: String
    /// Threads the backend computes with (1 for `swift`).
    public let threads: Int
    /// Builds a fresh backend instance.
    public let make: @Sendable () throws -> any Backend

    /// A backend to benchmark, built by `make` when a case runs.
    public init(name: String, threads: Int, make: @escaping @Sendable () throws -> any Backend) {
        self.name = name
        self.threads = threads
        self.make = make
    }

    /// The reference backend every other one is compared against.
    public static let referenceName = "swift"
}

/// The backends to benchmark: the ones named (in that order), or every available backend
/// with the `swift` reference first.
///
/// This is the one place the bench learns which backends exist: the ``BackendRegistry``.
/// - Parameters:
///   - names: registry names, or nil for all available ones.
///   - threads: the thread count for multithreaded backends; nil resolves it from
///     `BACKPROP_NUM_THREADS`, `OMP_NUM_THREADS` or the core count.
/// - Throws: ``BackpropError/unknownBackend(name:known:)`` or
///   ``BackpropError/backendUnavailable(name:reason:)`` for a named backend that cannot run,
///   ``BackpropError/invalidArgument(_:)`` for a bad thread count.
public func benchBackends(names: [String]?, threads: Int?) throws -> [BenchBackend] {
    let resolved = try ThreadSettings.resolve(threads)
    @Sendable func make(_ name: String) throws -> any Backend {
        try BackendRegistry.make(name: name, threads: resolved)
    }
    func entry(_ name: String) -> BenchBackend {
        BenchBackend(name: name, threads: name == BenchBackend.referenceName ? 1 : resolved) { try make(name) }
    }
    if let names {
        var seen: Set<String> = []
        return try names.filter { seen.insert($0).inserted }.map { name in
            // Build once now so an unknown or unavailable backend fails before any timing.
            _ = try make(name)
            return entry(name)
        }
    }
    let available = try BackendRegistry.entries(threads: resolved).filter(\.available).map(\.name)
    let ordered = available.filter { $0 == BenchBackend.referenceName }
        + available.filter { $0 != BenchBackend.referenceName }
    return ordered.map(entry)
}
