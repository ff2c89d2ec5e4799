import ArgumentParser
import Backprop

/// `--plugin PATH` (repeatable), on every command that takes `--backend`.
struct PluginOptions: ParsableArguments {
    @Option(name: .customLong("plugin"), help: ArgumentHelp(
        "Load a backend plugin (a shared library, see docs/PLUGINS.md); repeat for several. "
            + "$BACKPROP_PLUGIN_PATH (files or directories, colon-separated) is loaded first.",
        valueName: "path"))
    var paths: [String] = []

    func validate() throws {
        if paths.contains(where: \.isEmpty) { throw ValidationError("--plugin must not be empty") }
    }

    /// Loads `BACKPROP_PLUGIN_PATH`, then every `--plugin`, registering each backend.
    /// - Returns: the names the `--plugin` libraries registered, in order.
    @discardableResult
    func load() throws -> [String] {
        try BackendPlugins.loadFromEnvironment()
        return try paths.map { try BackendPlugins.load(path: $0) }
    }
}
