@testable import Backprop

/// The backends the parameterized tests run on, built with two threads: every registered one
/// that can run on this machine, and the plugins of `BACKPROP_PLUGIN_PATH` (scripts/test points
/// it at .build/plugins; a load error fails `PluginTests.thePluginPathOfThisRunLoads`). The
/// process environment is honoured, so `BACKPROP_OPENBLAS_DISABLE=1 swift test` runs the suite
/// as on a machine without OpenBLAS. A registry error stops the suite instead of leaving an
/// empty list.
enum TestBackends {
    /// Every backend that can run on this machine (`swift`, the reference, always).
    static let available: [String] = {
        _ = try? BackendPlugins.loadFromEnvironment()
        do {
            let entries = try BackendRegistry.entries(threads: 2, environment: ProcessEnvironment.current)
            return nonEmpty(entries.filter(\.available).map(\.name), "the available backends")
        } catch {
            preconditionFailure("the backend registry failed: \(error)")
        }
    }()

    /// Every available backend except the reference: the ones compared *with* the reference,
    /// so that no test compares `swift` with itself. Never empty: `c` is always built.
    static let compared: [String] = nonEmpty(available.filter { $0 != "swift" }, "the non-reference backends")

    static func make(_ name: String) throws -> any Backend {
        try BackendRegistry.make(name: name, threads: 2, environment: ProcessEnvironment.current)
    }
}
