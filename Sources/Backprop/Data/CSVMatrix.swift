extension CSV {
    /// Loads a CSV file (plain or gzip-compressed) of numbers with no target column: the inputs
    /// of `backprop predict`. A header row is detected as in ``load(path:labelColumn:targets:header:imageShape:)``.
    /// - Returns: every cell as a (rows, columns) tensor, and the header names when there is a header.
    /// - Throws: ``BackpropError/io(path:message:)`` when the file cannot be read, and
    ///   ``BackpropError/malformedFile(path:location:message:)`` naming the line and column of a
    ///   cell that is not a finite number, a ragged row, or a file with no data rows.
    public static func loadMatrix(path: String) throws -> (values: Tensor, columnNames: [String]?) {
        try parseMatrix(bytes: readFileMaybeGzip(path: path, expected: "a CSV file of numbers"), path: path)
    }

    /// ``loadMatrix(path:)`` on bytes already read (and inflated); `path` only labels errors.
    static func parseMatrix(bytes: [UInt8], path: String) throws -> (values: Tensor, columnNames: [String]?) {
        var reader = CSVReader(bytes: bytes, path: path)
        guard try reader.next() else {
            throw BackpropError.malformedFile(path: path, location: "", message: "no data rows: the file is blank")
        }
        let columns = reader.fields.count
        let firstLine = reader.recordLine
        let hasHeader = (0..<columns).contains { reader.number(reader.fields[$0]) == nil }
        let names = hasHeader ? reader.fields.map { reader.text($0) } : nil
        var values = [Float]()
        var rows = 0
        var pending = !hasHeader  // without a header the first record is data
        while try pending || reader.next() {
            pending = false
            let line = reader.recordLine
            guard reader.fields.count == columns else {
                throw BackpropError.malformedFile(
                    path: path, location: "line \(line)",
                    message: "\(reader.fields.count) columns, but line \(firstLine) has \(columns)")
            }
            for c in 0..<columns {
                let field = reader.fields[c]
                guard let x = reader.number(field), x.isFinite, abs(x) <= Double(Float.greatestFiniteMagnitude) else {
                    let cell = reader.shown(field)
                    throw BackpropError.malformedFile(
                        path: path, location: "line \(line), column \(c + 1)",
                        message: cell.isEmpty ? "empty cell; expected a number" : "'\(cell)' is not a finite number")
                }
                values.append(Float(x))
            }
            rows += 1
        }
        guard rows > 0 else {
            throw BackpropError.malformedFile(path: path, location: "line \(firstLine)", message: "header only, no data rows")
        }
        return (try Tensor(rows: rows, cols: columns, values: values), names)
    }
}
