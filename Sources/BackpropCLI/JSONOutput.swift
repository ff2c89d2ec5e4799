import Backprop

/// A JSON value with ordered object keys, for `--json` output that reads well and diffs well.
indirect enum JSON {
    case null
    case bool(Bool)
    case int(Int)
    case number(Double)
    /// A 32-bit float, written in its own shortest form (0.98690748, not 0.9869074821472168).
    case float(Float)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    /// A number, or null when absent or not finite (JSON has no NaN).
    static func number(_ x: Double?) -> JSON {
        guard let x, x.isFinite else { return .null }
        return .number(x)
    }

    static func string(_ s: String?) -> JSON { s.map { .string($0) } ?? .null }

    /// Compact JSON text. Doubles use Swift's shortest round-trip form.
    var text: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .number(let x):
            guard x.isFinite else { return "null" }
            if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
            return String(x)
        case .float(let x):
            guard x.isFinite else { return "null" }
            return x == x.rounded() && abs(x) < 1e7 ? String(Int64(x)) : String(x)
        case .string(let s): return JSONText.stringLiteral(s)
        case .array(let items): return "[" + items.map(\.text).joined(separator: ",") + "]"
        case .object(let pairs): return "{" + pairs.map { JSONText.stringLiteral($0.0) + ":" + $0.1.text }.joined(separator: ",") + "}"
        }
    }
}

/// Prints one JSON object on stdout.
func printJSON(_ value: JSON) {
    writeStdout(value.text + "\n")
}
