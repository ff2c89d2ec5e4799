#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A streaming CSV tokenizer over bytes: one record at a time, no copy of the file.
///
/// Fields are separated by commas, records by `\n` or `\r\n`. A field may be quoted with
/// `"`, in which case it may hold commas, newlines and doubled quotes (`""`). Blank lines
/// are skipped. Positions are 1-based lines and columns for error messages.
struct CSVReader {
    /// One field of the current record: the byte range of its content (inside the quotes
    /// when quoted) and whether it was quoted.
    struct Field {
        var start: Int
        var end: Int
        var quoted: Bool
    }

    let bytes: [UInt8]
    let path: String
    /// Fields of the record `next()` returned last.
    private(set) var fields: [Field] = []
    /// The line the current record starts on.
    private(set) var recordLine = 0
    private var position = 0
    private var line = 1
    /// Scratch for strtod, which needs a NUL-terminated string.
    private var scratch = [CChar](repeating: 0, count: 64)

    init(bytes: [UInt8], path: String) {
        self.bytes = bytes
        self.path = path
        // Skip a UTF-8 byte order mark, as spreadsheet programs write one.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
    }

    /// Reads the next non-blank record into ``fields``; false at the end of the data.
    mutating func next() throws -> Bool {
        while position < bytes.count {
            recordLine = line
            fields.removeAll(keepingCapacity: true)
            try readRecord()
            let blank = fields.count == 1 && !fields[0].quoted && trimmed(fields[0]).isEmpty
            if !blank { return true }
        }
        return false
    }

    private mutating func readRecord() throws {
        while true {
            let field = try readField()
            fields.append(field)
            guard position < bytes.count else { return }
            let separator = bytes[position]
            position += 1
            if separator == UInt8(ascii: "\n") {
                line += 1
                return
            }
            // A comma: another field follows, possibly empty at the end of the line.
        }
    }

    /// Reads one field and leaves `position` on the comma or newline after it (or at the end).
    private mutating func readField() throws -> Field {
        let count = bytes.count
        var p = position
        while p < count, bytes[p] == UInt8(ascii: " ") || bytes[p] == UInt8(ascii: "\t") { p += 1 }
        if p < count, bytes[p] == UInt8(ascii: "\"") {
            let startLine = line
            let column = fields.count + 1
            let start = p + 1
            p = start
            while true {
                guard p < count else {
                    throw BackpropError.malformedFile(
                        path: path, location: "line \(startLine), column \(column)",
                        message: "quoted field is never closed (missing \")")
                }
                if bytes[p] == UInt8(ascii: "\"") {
                    if p + 1 < count, bytes[p + 1] == UInt8(ascii: "\"") { p += 2; continue }
                    break
                }
                if bytes[p] == UInt8(ascii: "\n") { line += 1 }
                p += 1
            }
            let end = p
            p += 1
            while p < count, bytes[p] == UInt8(ascii: " ") || bytes[p] == UInt8(ascii: "\t")
                || bytes[p] == UInt8(ascii: "\r") { p += 1 }
            guard p == count || bytes[p] == UInt8(ascii: ",") || bytes[p] == UInt8(ascii: "\n") else {
                throw BackpropError.malformedFile(
                    path: path, location: "line \(line), column \(column)",
                    message: "unexpected text after the closing quote of a quoted field")
            }
            position = p
            return Field(start: start, end: end, quoted: true)
        }
        let start = position
        while p < count, bytes[p] != UInt8(ascii: ","), bytes[p] != UInt8(ascii: "\n") { p += 1 }
        position = p
        return Field(start: start, end: p, quoted: false)
    }

    /// The field's bytes without surrounding blanks (and a `\r` before the newline).
    func trimmed(_ field: Field) -> ArraySlice<UInt8> {
        var a = field.start, b = field.end
        func blank(_ c: UInt8) -> Bool {
            c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\r")
        }
        while a < b, blank(bytes[a]) { a += 1 }
        while b > a, blank(bytes[b - 1]) { b -= 1 }
        return bytes[a..<b]
    }

    /// The field as text, with doubled quotes undone; for header names and messages.
    func text(_ field: Field) -> String {
        guard field.quoted else { return String(decoding: trimmed(field), as: UTF8.self) }
        var unquoted = [UInt8]()
        var previousWasQuote = false
        for b in bytes[field.start..<field.end] {
            // Inside quotes every quote is doubled: keep the first of each pair.
            if b == UInt8(ascii: "\""), previousWasQuote { previousWasQuote = false; continue }
            previousWasQuote = b == UInt8(ascii: "\"")
            unquoted.append(b)
        }
        return String(decoding: unquoted, as: UTF8.self)
    }

    /// The field as text for an error message: one line, at most 40 characters (see ``printable(_:limit:)``).
    func shown(_ field: Field) -> String {
        printable(text(field))
    }

    /// The field as a number, or nil when it is not one. NaN and infinities are returned as
    /// such; the caller decides whether they are allowed.
    mutating func number(_ field: Field) -> Double? {
        let slice = trimmed(field)
        guard !slice.isEmpty, slice.count < scratch.count else { return nil }
        // Reject what strtod accepts beyond plain decimals: hex floats and leading blanks.
        if slice.contains(where: { $0 == UInt8(ascii: "x") || $0 == UInt8(ascii: "X") }) { return nil }
        var i = 0
        for b in slice { scratch[i] = CChar(bitPattern: b); i += 1 }
        scratch[i] = 0
        return scratch.withUnsafeMutableBufferPointer { buffer -> Double? in
            var end: UnsafeMutablePointer<CChar>?
            let value = strtod(buffer.baseAddress!, &end)
            guard let end, end - buffer.baseAddress! == slice.count else { return nil }
            return value
        }
    }
}
