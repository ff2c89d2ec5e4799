extension Trace {
    /// The trace as plain text that reads like the tutorial: per step its title, equation,
    /// shapes and numbers. Matrices with more than `maxRows` rows or `maxCols` columns are
    /// summarized by their first rows and columns and their norm.
    public func text(decimals: Int = 4, maxRows: Int = 4, maxCols: Int = 8) -> String {
        var lines = [title, String(repeating: "=", count: title.count)]
        lines += introduction
        for (index, step) in steps.enumerated() {
            lines.append("")
            lines.append("Step \(index + 1). \(step.title)")
            lines.append("    \(step.equation)")
            for value in step.values {
                lines += value.textLines(decimals: decimals, maxRows: maxRows, maxCols: maxCols).map { "    " + $0 }
            }
            for note in step.notes {
                let noteLines = note.split(separator: "\n", omittingEmptySubsequences: false)
                if noteLines.count > 1 {
                    // A drawing: indent it as a block.
                    lines += noteLines.map { "        " + $0 }
                } else {
                    lines.append("    • " + note)
                }
            }
        }
        lines.append("")
        lines.append("Summary: " + BackpropTrace.lossChange(before: lossBefore, after: lossAfter))
        return lines.joined(separator: "\n") + "\n"
    }
}

extension TraceValue {
    /// The shape as `(rows, cols)`.
    public var shapeText: String { "(\(rows), \(cols))" }

    /// The value as text lines: a scalar inline, a short row inline, a matrix as aligned rows.
    func textLines(decimals: Int, maxRows: Int, maxCols: Int) -> [String] {
        func f(_ v: Float) -> String { formatFixed(Double(v), decimals: decimals) }
        if rows == 1 && cols == 1 {
            return ["\(name) = \(f(values[0]))"]
        }
        let shownCols = min(cols, maxCols)
        let colsCut = cols > shownCols
        let normText = "‖\(name)‖ = " + formatFixed(norm, decimals: decimals)
        if rows == 1 {
            let items = (0..<shownCols).map { f(values[$0]) } + (colsCut ? ["…"] : [])
            let row = "\(name) \(shapeText) = [" + items.joined(separator: ", ") + "]"
            return [colsCut ? row + "   " + normText : row]
        }
        let shownRows = min(rows, maxRows)
        let rowsCut = rows > shownRows
        let cells = (0..<shownRows).map { r in (0..<shownCols).map { c in f(self[r, c]) } }
        let width = cells.flatMap { $0 }.map(\.count).max() ?? 1
        var header = "\(name) \(shapeText)"
        if rowsCut || colsCut {
            header += "   \(normText), first \(shownRows) of \(rows) rows"
                + (colsCut ? ", \(shownCols) of \(cols) columns" : "") + ":"
        } else {
            header += " ="
        }
        var lines = [header]
        for row in cells {
            let padded = row.map { String(repeating: " ", count: width - $0.count) + $0 }
            lines.append("    [" + padded.joined(separator: "  ") + (colsCut ? "  …" : "") + "]")
        }
        if rowsCut { lines.append("    …") }
        return lines
    }
}
