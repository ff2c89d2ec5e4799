/// JSON text written without Foundation, shared by the safetensors header and the CLI's
/// `--json` output, so both escape strings the same way.
public enum JSONText {
    /// `text` as a JSON string literal: quotes and backslashes escaped, control characters as
    /// `\n`, `\r`, `\t` or `\u00XX`, everything else (including non-ASCII) as is.
    public static func stringLiteral(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
