#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CKernels
import Synchronization

/// Loads C backend plugins (shared libraries built against `backprop_plugin.h`) and registers
/// each in ``BackendRegistry`` under the plugin's own name.
///
/// ```swift
/// let name = try BackendPlugins.load(path: ".build/plugins/libbackprop-example.so")  // "example"
/// let backend = try backend(named: name, threads: 2)
/// ```
///
/// A bad plugin never falls back silently: a missing file, a library without the entry
/// symbol, an ABI version the host does not know, a table that is too small, a NULL required
/// field or a name that is taken each throw ``BackpropError/badPlugin(path:reason:)`` (one line
/// naming the path). A plugin whose `probe` says no, or whose `create` fails, is registered but
/// unavailable: ``BackendRegistry/entries(threads:environment:)`` shows its reason.
/// Libraries are never unloaded.
public enum BackendPlugins {
    /// The symbol every plugin exports (`BP_PLUGIN_ENTRY`).
    public static let entrySymbol = "backprop_plugin"
    /// The ABI version this host speaks (`BP_PLUGIN_ABI_VERSION`).
    public static let abiVersion = Int(BP_PLUGIN_ABI_VERSION)
    /// The oldest ABI version this host still loads (`BP_PLUGIN_ABI_OLDEST`): each version only
    /// appended slots, so an older table is a prefix whose missing slots are NULL.
    public static let oldestABIVersion = Int(BP_PLUGIN_ABI_OLDEST)

    /// The size of a table of ABI `version`: where the first slot of the next version starts.
    static func tableSize(ofVersion version: Int) -> Int {
        switch version {
        case 1: MemoryLayout<bp_plugin>.offset(of: \bp_plugin.im2col)!
        case 2: MemoryLayout<bp_plugin>.offset(of: \bp_plugin.conv2d_forward)!
        default: MemoryLayout<bp_plugin>.size
        }
    }
    /// In a directory of ``ProcessEnvironment/pluginPathVariable``, the files loaded are
    /// `libbackprop-*.so`.
    public static let filePrefix = "libbackprop-", fileSuffix = ".so"

    /// Loaded plugins: the path as given -> the registered name.
    private static let loaded = Mutex<[String: String]>([:])

    /// Loads the plugin at `path` and registers it; loading the same path again returns the
    /// name it got the first time.
    /// - Returns: the name it is registered under.
    /// - Throws: ``BackpropError/badPlugin(path:reason:)``.
    @discardableResult
    public static func load(path: String) throws -> String {
        // One load at a time, so two threads loading the same path register it once.
        try loaded.withLock { loaded in
            if let name = loaded[path] { return name }
            let name = try register(path: path)
            loaded[path] = name
            return name
        }
    }

    /// Loads every plugin `BACKPROP_PLUGIN_PATH` names: colon-separated files, or directories
    /// whose `libbackprop-*.so` files are loaded in name order. Unset or empty loads nothing.
    /// - Returns: the registered names, in load order.
    /// - Throws: ``BackpropError/badPlugin(path:reason:)`` for the first bad plugin.
    @discardableResult
    public static func loadFromEnvironment(
        _ environment: [String: String] = ProcessEnvironment.current
    ) throws -> [String] {
        guard let value = environment[ProcessEnvironment.pluginPathVariable], !value.isEmpty else { return [] }
        var names: [String] = []
        for item in value.split(separator: ":").map(String.init) where !item.isEmpty {
            for file in try files(in: item) { names.append(try load(path: file)) }
        }
        return names
    }

    /// `item` itself, or the `libbackprop-*.so` files of the directory `item`, sorted.
    static func files(in item: String) throws -> [String] {
        guard let directory = opendir(item) else { return [item] }
        defer { closedir(directory) }
        var files: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name.hasPrefix(filePrefix) && name.hasSuffix(fileSuffix) {
                files.append(item.hasSuffix("/") ? item + name : item + "/" + name)
            }
        }
        return files.sorted()
    }

    private static func register(path: String) throws -> String {
        func bad(_ reason: String) -> BackpropError { .badPlugin(path: path, reason: reason) }
        if path.contains("/") && access(path, F_OK) != 0 {
            throw bad("no such file")
        }
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw bad("cannot be loaded: \(dlerror().map { String(cString: $0) } ?? "dlopen failed")")
        }
        guard let symbol = dlsym(handle, entrySymbol) else {
            throw bad("not a Backprop plugin: it does not export '\(entrySymbol)' (see backprop_plugin.h)")
        }
        let entry = unsafeBitCast(symbol, to: bp_plugin_entry_fn.self)
        guard let tablePointer = entry() else { throw bad("'\(entrySymbol)' returned NULL") }
        // Read the two header fields before trusting the size of the rest.
        let header = UnsafeRawPointer(tablePointer)
        let version = Int(header.load(as: UInt32.self))
        let size = Int(header.load(fromByteOffset: 4, as: UInt32.self))
        if version > abiVersion || version < oldestABIVersion {
            let age = version > abiVersion ? "newer than this host's version \(abiVersion)"
                : "older than the oldest this host loads (\(oldestABIVersion))"
            throw bad("built for plugin ABI version \(version), \(age); "
                      + "rebuild it against this Backprop's backprop_plugin.h")
        }
        let needed = tableSize(ofVersion: version)
        if size < needed {
            throw bad("its table is \(size) bytes, smaller than the \(needed) bytes of ABI "
                      + "version \(version); rebuild it against this Backprop's backprop_plugin.h")
        }
        // Copy only the bytes the plugin has (an older version's table is shorter, and reading
        // past it would read past the library's data); the slots it lacks stay NULL.
        var table = bp_plugin()  // every slot NULL
        withUnsafeMutableBytes(of: &table) { bytes in
            bytes.copyMemory(from: UnsafeRawBufferPointer(start: header, count: min(size, bytes.count)))
        }
        return try register(table: table, path: path)
    }

    /// Checks the required fields and the name of a table already read, and registers it.
    private static func register(table: bp_plugin, path: String) throws -> String {
        func bad(_ reason: String) -> BackpropError { .badPlugin(path: path, reason: reason) }
        guard let namePointer = table.name else { throw bad("required field 'name' is NULL") }
        guard table.detail != nil else { throw bad("required field 'detail' is NULL") }
        guard table.create != nil else { throw bad("required field 'create' is NULL") }
        guard table.destroy != nil else { throw bad("required field 'destroy' is NULL") }
        let name = String(cString: namePointer)
        if name.isEmpty || name.contains(where: { $0 == "," || $0.isWhitespace }) {
            throw bad("its name '\(name)' is not usable: it must be non-empty, without spaces or commas")
        }
        if BackendRegistry.builtIn.contains(where: { $0.name == name }) {
            throw bad("its name '\(name)' clashes with a built-in backend; rename the plugin")
        }
        if BackendRegistry.contains(name) {
            throw bad("its name '\(name)' is already registered (another plugin or backend); rename one of them")
        }
        let summary = "plugin \(path): \(String(cString: table.detail))"
        let shared = PluginTable(table: table)
        do {
            try BackendRegistry.register(.init(name: name, summary: summary) { threads, environment in
                try PluginBackend(table: shared.table, path: path, threads: threads, environment: environment)
            })
        } catch {
            throw bad("\(error)")
        }
        return name
    }
}

/// A plugin's table, copied once and never written: its pointers are functions and strings of a
/// library that is never unloaded, so safe to share.
private struct PluginTable: @unchecked Sendable {
    let table: bp_plugin
}
