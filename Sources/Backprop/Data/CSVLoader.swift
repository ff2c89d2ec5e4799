/// What a loader makes of the target column.
public enum TargetKind: String, Sendable, CaseIterable {
    /// Integer class ids 0, 1, 2, ...; the class count is the largest id + 1.
    case labels
    /// Real values for regression: a (samples, 1) target tensor.
    case values
}

/// Loader for numeric CSV files: one sample per line, one column of which is the target.
public enum CSV {
    /// Which column holds the target.
    public enum LabelColumn: Sendable, Equatable {
        /// By 0-based index; negative counts from the end (-1 is the last column).
        case index(Int)
        /// By name in the header row.
        case name(String)
    }

    /// Loads a CSV file (plain or gzip-compressed) into a dataset.
    ///
    /// Every cell except the target must be a finite number. The header row is optional:
    /// with `header: nil` the first row is taken as a header when one of its cells is not a
    /// number. The file is parsed record by record from its bytes.
    /// - Parameters:
    ///   - path: the file to read (`.gz` or gzip magic bytes: decompressed).
    ///   - labelColumn: the target column; the last one by default.
    ///   - targets: class ids (default) or regression values.
    ///   - header: true or false to force, nil to detect.
    ///   - imageShape: the (height, width) of the features, when they are images.
    /// - Throws: ``BackpropError/io(path:message:)`` when the file cannot be read, and
    ///   ``BackpropError/malformedFile(path:location:message:)`` naming the line and column of
    ///   a bad cell, a ragged row, a bad label, a missing label column, or missing data.
    public static func load(path: String, labelColumn: LabelColumn = .index(-1), targets: TargetKind = .labels,
                            header: Bool? = nil, imageShape: (height: Int, width: Int)? = nil) throws -> Dataset {
        let bytes = try readFileMaybeGzip(path: path, expected: "a CSV file of numbers")
        return try parse(bytes: bytes, path: path, labelColumn: labelColumn, targets: targets,
                         header: header, imageShape: imageShape)
    }

    /// Parses CSV bytes; `path` only labels errors.
    public static func parse(bytes: [UInt8], path: String, labelColumn: LabelColumn = .index(-1),
                             targets: TargetKind = .labels, header: Bool? = nil,
                             imageShape: (height: Int, width: Int)? = nil) throws -> Dataset {
        var reader = CSVReader(bytes: bytes, path: path)
        guard try reader.next() else {
            throw BackpropError.malformedFile(path: path, location: "", message: "no data rows: the file is blank")
        }
        let columns = reader.fields.count
        let firstLine = reader.recordLine
        let hasHeader = header ?? (0..<columns).contains { reader.number(reader.fields[$0]) == nil }
        let names = hasHeader ? reader.fields.map { reader.text($0) } : nil
        let label = try resolve(labelColumn, columns: columns, names: names, path: path, line: firstLine)
        guard columns >= 2 else {
            throw BackpropError.malformedFile(
                path: path, location: "line \(firstLine)",
                message: "only one column; expected feature columns and a label column")
        }

        var features = [Float]()
        var labels = [Int32]()
        var values = [Float]()
        var rows = 0
        var row = [Float](repeating: 0, count: columns - 1)
        var pending = !hasHeader  // the first record is data when there is no header
        while try pending || reader.next() {
            pending = false
            let line = reader.recordLine
            guard reader.fields.count == columns else {
                throw BackpropError.malformedFile(
                    path: path, location: "line \(line)",
                    message: "\(reader.fields.count) columns, but line \(firstLine) has \(columns)")
            }
            var k = 0
            for c in 0..<columns {
                let field = reader.fields[c]
                let where_ = "line \(line), column \(c + 1)"
                guard let x = reader.number(field) else {
                    let cell = reader.shown(field)
                    if c == label, targets == .labels {
                        throw BackpropError.malformedFile(
                            path: path, location: where_,
                            message: "label '\(cell)' is not an integer class id (0, 1, 2, ...)")
                    }
                    throw BackpropError.malformedFile(
                        path: path, location: where_,
                        message: cell.isEmpty ? "empty cell; expected a number" : "'\(cell)' is not a number")
                }
                guard x.isFinite, abs(x) <= Double(Float.greatestFiniteMagnitude) else {
                    throw BackpropError.malformedFile(
                        path: path, location: where_,
                        message: "\(reader.text(field)) is not a finite 32-bit float (NaN and infinities are not allowed)")
                }
                if c == label {
                    if targets == .values {
                        values.append(Float(x))
                    } else {
                        guard x >= 0, x == x.rounded() else {
                            throw BackpropError.malformedFile(
                                path: path, location: where_,
                                message: "label \(reader.text(field)) is not a non-negative integer class id")
                        }
                        guard x < Double(Int32.max) else {
                            throw BackpropError.malformedFile(
                                path: path, location: where_,
                                message: "label \(reader.text(field)) is too large: class ids must be below \(Int32.max) "
                                    + "(the class count is the largest id + 1)")
                        }
                        labels.append(Int32(x))
                    }
                } else {
                    row[k] = Float(x)
                    k += 1
                }
            }
            features.append(contentsOf: row)
            rows += 1
        }
        guard rows > 0 else {
            throw BackpropError.malformedFile(
                path: path, location: "line \(firstLine)", message: "header only, no data rows")
        }
        if let imageShape, imageShape.height * imageShape.width != columns - 1 {
            throw BackpropError.invalidArgument(
                "image shape \(imageShape.height)×\(imageShape.width) does not match the \(columns - 1) features of \(path)")
        }
        let x = try Tensor(rows: rows, cols: columns - 1, values: features)
        switch targets {
        case .labels: return try Dataset(features: x, labels: labels, imageShape: imageShape)
        case .values: return try Dataset(features: x, targets: Tensor(rows: rows, cols: 1, values: values),
                                         imageShape: imageShape)
        }
    }

    /// The 0-based index of the label column.
    private static func resolve(_ column: LabelColumn, columns: Int, names: [String]?,
                                path: String, line: Int) throws -> Int {
        switch column {
        case .index(let i):
            let index = i < 0 ? columns + i : i
            guard index >= 0, index < columns else {
                throw BackpropError.malformedFile(
                    path: path, location: "line \(line)",
                    message: "label column \(i) does not exist: the file has \(columns) columns")
            }
            return index
        case .name(let name):
            guard let names else {
                throw BackpropError.malformedFile(
                    path: path, location: "line \(line)",
                    message: "label column '\(name)' needs a header row, but the file has none")
            }
            guard let index = names.firstIndex(of: name) else {
                let shown = names.prefix(12).map { printable($0) }.joined(separator: ", ") + (names.count > 12 ? ", ..." : "")
                throw BackpropError.malformedFile(
                    path: path, location: "line \(line)",
                    message: "no column named '\(printable(name))' in the header (columns: \(shown))")
            }
            return index
        }
    }
}
