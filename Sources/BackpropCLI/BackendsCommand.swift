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

    @Flag(help: "Also list, per available backend, the ops that run on the Swift reference loops instead of its own code.")
    var ops = false

    @Flag(help: "Print a JSON array of {name, available, reason, detail} (with --ops, also reference_ops) instead of a table.")
    var json = false

    func run() throws {
        try plugins.load()
        let entries = try BackendRegistry.entries(threads: threads)
        let fallbacks = ops ? try referenceOps(of: entries) : [:]
        if json {
            if ops {
                try printJSON(entries.map { BackendOpsRow(info: $0, referenceOps: fallbacks[$0.name]?.map(\.rawValue)) })
            } else {
                try printJSON(entries)
            }
            return
        }
        let nameWidth = max(4, entries.map(\.name.count).max() ?? 0)
        print(pad("name", nameWidth) + "  available  detail")
        for entry in entries {
            let text = entry.available ? entry.detail : "\(entry.reason ?? "unavailable")"
            print(pad(entry.name, nameWidth) + "  " + pad(entry.available ? "yes" : "no", 9) + "  " + text)
            guard let fallback = fallbacks[entry.name] else { continue }
            let indent = String(repeating: " ", count: nameWidth + 13)
            if entry.name == "swift" {
                print(indent + "every op is the Swift reference (the oracle)")
            } else if fallback.isEmpty {
                print(indent + "every op has its own implementation (none on the Swift reference)")
            } else {
                print(indent + "on the Swift reference: " + fallback.map(\.rawValue).joined(separator: " "))
            }
        }
    }

    /// For each available backend, the ops it runs on the reference loops.
    private func referenceOps(of entries: [BackendInfo]) throws -> [String: [VerifiedOp]] {
        var result: [String: [VerifiedOp]] = [:]
        for entry in entries where entry.available {
            result[entry.name] = ReferenceFallbacks.ops(of: try BackendRegistry.make(name: entry.name, threads: threads))
        }
        return result
    }
}

/// A `backends --ops --json` row: the registry's row and the ops on the reference (null when
/// the backend is unavailable).
private struct BackendOpsRow: Encodable {
    let info: BackendInfo
    let referenceOps: [String]?

    private enum CodingKeys: String, CodingKey { case referenceOps }

    func encode(to encoder: any Encoder) throws {
        try info.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(referenceOps, forKey: .referenceOps)
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
