/// `text` made safe to quote in a one-line error message: control characters escaped (see
/// ``escapingControlCharacters(_:)``) and anything past `limit` characters cut to "…", so a
/// cell or name holding a newline or a megabyte cannot break or flood the message.
public func printable(_ text: String, limit: Int = 40) -> String {
    let scalars = text.unicodeScalars
    guard scalars.count > limit else { return escapingControlCharacters(text) }
    return escapingControlCharacters(String(String.UnicodeScalarView(scalars.prefix(limit)))) + "…"
}

/// `text` on one line: line breaks and tabs as `\n`, `\r`, `\t`, other control characters
/// (C0, DEL, C1, and the Unicode line and paragraph separators) as `\u{1b}`. Error messages
/// quote names and cells from files, which may hold any of these.
public func escapingControlCharacters(_ text: String) -> String {
    func isControl(_ s: Unicode.Scalar) -> Bool {
        s.value < 0x20 || (0x7f...0x9f).contains(s.value) || s.value == 0x2028 || s.value == 0x2029
    }
    guard text.unicodeScalars.contains(where: isControl) else { return text }
    var out = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where isControl(scalar): out += "\\u{" + String(scalar.value, radix: 16) + "}"
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out
}
