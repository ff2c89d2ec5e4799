import ArgumentParser
import Backprop
import Foundation

/// `backprop backends`: every backend, whether it runs on this machine, and why not.
struct BackendsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backends",
        abstract: "List the backends, whether each can run here, and what it uses.",
        discussion: """
            Choose one with --backend on the other commands or BACKPROP_BACKEND=name; \
            without either, the fastest available backend runs.
            """)

    @Option(help: "Threads for the c and openblas backends (default: BACKPROP_NUM_THREADS, OMP_NUM_THREADS, or every core).")
    var threads: Int?

    @OptionGroup var plugins: PluginOptions

    @Flag(help: "Print a JSON array of {name, available, reason, detail} instead of a table.")
    var json = false

    func run() throws {
        try plugins.load()
        let entries = try BackendRegistry.entries(threads: threads)
        if json {
            try printJSON(entries)
            return
        }
        let nameWidth = max(4, entries.map(\.name.count).max() ?? 0)
        print(pad("name", nameWidth) + "  available  detail")
        for entry in entries {
            let text = entry.available ? entry.detail : "\(entry.reason ?? "unavailable")"
            print(pad(entry.name, nameWidth) + "  " + pad(entry.available ? "yes" : "no", 9) + "  " + text)
        }
    }
}

/// `text` padded with spaces to `width` characters.
func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

/// Prints `value` as pretty JSON with sorted keys, snake_case names, and non-finite numbers
/// as the strings "inf", "-inf", "nan".
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
        positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    let data = try encoder.encode(value)
    print(String(decoding: data, as: UTF8.self))
}
