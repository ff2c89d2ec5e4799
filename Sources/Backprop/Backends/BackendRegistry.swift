import Synchronization

/// What ``BackendRegistry/entries(threads:environment:)`` reports about one backend.
public struct BackendInfo: Sendable, Equatable, Codable {
    /// The registry name: `swift`, `c`, `openblas`.
    public let name: String
    /// Whether ``BackendRegistry/make(name:threads:environment:)`` succeeds here.
    public let available: Bool
    /// Why the backend cannot run, with how to fix it; nil when available.
    public let reason: String?
    /// The backend's ``Backend/detail`` when available (SIMD level, threads, library version),
    /// else a one-line description of what it would need.
    public let detail: String

    /// A report with the given fields.
    public init(name: String, available: Bool, reason: String?, detail: String) {
        self.name = name
        self.available = available
        self.reason = reason
        self.detail = detail
    }

    private enum CodingKeys: String, CodingKey { case name, available, reason, detail }

    /// Encodes every key, with `reason` as null when available (the synthesized encoder
    /// would leave it out).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(available, forKey: .available)
        try container.encode(reason, forKey: .reason)
        try container.encode(detail, forKey: .detail)
    }
}

/// Every backend by name, and the rules for choosing one.
///
/// The built-in backends (`c`, `openblas`, `swift`) come first; ``register(_:)`` appends a
/// backend written elsewhere (another package, or a C plugin loaded by ``BackendPlugins``), and
/// from then on `--backend`, `BACKPROP_BACKEND`, ``backend(named:threads:)``, the `backends`,
/// `verify` and `bench` commands and the equivalence tests see it like a built-in one.
public enum BackendRegistry {
    /// One registered backend: its name, what it needs, and how to build it with a resolved
    /// thread count and the environment.
    public struct Entry: Sendable {
        /// The name `--backend` and `BACKPROP_BACKEND` take: not empty, no spaces or commas.
        public let name: String
        /// What the backend is and needs, shown when it is unavailable.
        public let summary: String
        let factory: @Sendable (_ threads: Int, _ environment: [String: String]) throws -> any Backend

        /// A backend the registry can build by name.
        ///
        /// - Parameters:
        ///   - name: the registry name.
        ///   - summary: one line on what the backend is and needs.
        ///   - factory: builds an instance for a resolved thread count (≥ 1) and the environment.
        ///     Throw ``BackpropError/backendUnavailable(name:reason:)`` with a reason that says
        ///     how to fix it when the backend cannot run here; `backprop backends` shows it.
        public init(
            name: String, summary: String,
            factory: @escaping @Sendable (_ threads: Int, _ environment: [String: String]) throws -> any Backend
        ) {
            self.name = name
            self.summary = summary
            self.factory = factory
        }
    }

    /// The built-in backends, fastest first.
    static let builtIn: [Entry] = [
        Entry(
            name: "c", summary: "C kernels with run-time AVX2/AVX-512 dispatch and OpenMP threads",
            factory: { threads, environment in
                CBackend(threads: threads, simd: try SIMDLevel.resolve(environment: environment))
            }),
        Entry(
            name: "openblas", summary: "GEMM through OpenBLAS (loaded at run time), other ops through the C kernels",
            factory: { threads, environment in try OpenBLASBackend(threads: threads, environment: environment) }),
        Entry(
            name: "swift", summary: "pure Swift reference, the oracle the others are tested against",
            factory: { _, _ in SwiftBackend() }),
    ]

    /// The built-ins, then every registered backend in the order it was registered.
    private static let registered = Mutex<[Entry]>(builtIn)

    /// Every backend: the built-ins fastest first, then the registered ones in registration
    /// order. ``default(threads:environment:)`` takes the first that is available.
    public static var all: [Entry] { registered.withLock { $0 } }

    /// Adds a backend; thread-safe.
    /// - Throws: ``BackpropError/invalidArgument(_:)`` when the name is empty, holds a space or a
    ///   comma (which would break `--backend a,b` lists), or is already registered.
    public static func register(_ entry: Entry) throws {
        let name = entry.name
        if name.isEmpty || name.contains(where: { $0 == "," || $0.isWhitespace }) {
            throw BackpropError.invalidArgument(
                "cannot register a backend named '\(name)': a name must be non-empty, without spaces or commas")
        }
        try registered.withLock { entries in
            if entries.contains(where: { $0.name == name }) {
                throw BackpropError.invalidArgument(
                    "cannot register backend '\(name)': that name is already registered "
                        + "(registered: \(entries.map(\.name).joined(separator: ", ")))")
            }
            entries.append(entry)
        }
    }

    /// Whether a backend called `name` is registered.
    public static func contains(_ name: String) -> Bool { all.contains { $0.name == name } }

    /// The registered names: built-ins fastest first, then registered ones.
    public static var names: [String] { all.map(\.name) }

    /// Every backend with whether it can run here, and why not.
    /// - Parameters:
    ///   - threads: the thread count to report (nil: ``ThreadSettings`` decides).
    ///   - environment: the variables to read (the process environment by default).
    /// - Throws: ``BackpropError/invalidArgument(_:)`` for a bad thread count or variable.
    public static func entries(
        threads: Int? = nil, environment: [String: String] = ProcessEnvironment.current
    ) throws -> [BackendInfo] {
        let resolved = try ThreadSettings.resolve(threads, environment: environment)
        return all.map { entry in
            do {
                let backend = try entry.factory(resolved, environment)
                return BackendInfo(name: entry.name, available: true, reason: nil, detail: backend.detail)
            } catch let BackpropError.backendUnavailable(_, reason) {
                return BackendInfo(name: entry.name, available: false, reason: reason, detail: entry.summary)
            } catch {
                return BackendInfo(
                    name: entry.name, available: false, reason: "\(error)", detail: entry.summary)
            }
        }
    }

    /// The backend called `name`.
    /// - Throws: ``BackpropError/unknownBackend(name:known:)`` listing the known names,
    ///   ``BackpropError/backendUnavailable(name:reason:)`` when it cannot run here,
    ///   ``BackpropError/invalidArgument(_:)`` for a bad thread count.
    public static func make(
        name: String, threads: Int? = nil, environment: [String: String] = ProcessEnvironment.current
    ) throws -> any Backend {
        guard let entry = all.first(where: { $0.name == name }) else {
            throw BackpropError.unknownBackend(name: name, known: names)
        }
        let resolved = try ThreadSettings.resolve(threads, environment: environment)
        return try entry.factory(resolved, environment)
    }

    /// The backend named by `BACKPROP_BACKEND` when it is set (and not empty), else the
    /// fastest available one.
    ///
    /// A named backend that is unknown or unavailable is an error, never a silent fallback.
    public static func `default`(
        threads: Int? = nil, environment: [String: String] = ProcessEnvironment.current
    ) throws -> any Backend {
        if let requested = environment[ProcessEnvironment.backendVariable], !requested.isEmpty {
            return try make(name: requested, threads: threads, environment: environment)
        }
        let resolved = try ThreadSettings.resolve(threads, environment: environment)
        var reasons: [String] = []
        for entry in all {
            do {
                return try entry.factory(resolved, environment)
            } catch let BackpropError.backendUnavailable(name, reason) {
                reasons.append("\(name): \(reason)")
            }
        }
        // Unreachable while `swift` is registered, since it always builds.
        throw BackpropError.backendUnavailable(name: "default", reason: reasons.joined(separator: "; "))
    }
}

/// The backend called `name` (`swift`, `c`, `openblas`); call it as
/// `try Backprop.backend(named: "openblas", threads: 2)`.
/// - Throws: see ``BackendRegistry/make(name:threads:environment:)``.
public func backend(named name: String, threads: Int? = nil) throws -> any Backend {
    try BackendRegistry.make(name: name, threads: threads)
}

/// The backend named by `BACKPROP_BACKEND`, else the fastest available; call it as
/// `try Backprop.defaultBackend()`.
/// - Throws: see ``BackendRegistry/default(threads:environment:)``.
public func defaultBackend(threads: Int? = nil) throws -> any Backend {
    try BackendRegistry.default(threads: threads)
}
