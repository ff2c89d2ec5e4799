#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Text, CSV and JSON renderings of bench records.
public enum BenchReport {
    /// The CSV columns and the JSON keys, in order (JSON records of several rounds also carry
    /// `round_figures`).
    public static let columns = [
        "case", "variant", "shape", "backend", "threads", "median_seconds", "min_seconds", "max_seconds",
        "repeats", "gflops", "percent_of_peak", "gbps", "samples_per_second",
    ]

    /// One line per measurement, for progress output.
    public static func line(_ r: BenchRecord) -> String {
        var text = "\(r.kind.rawValue) \(r.variant) \(r.shape) on \(r.backend) (\(r.threads) thr): "
            + "\(number(r.figure)) \(r.kind.unit)"
        if let percent = r.percentOfPeak { text += " (\(formatFixed(percent, decimals: 1))% of peak)" }
        text += ", median \(duration(r.medianSeconds)) [\(duration(r.minSeconds)) .. \(duration(r.maxSeconds))]"
            + " over \(r.repeats) runs"
        return text
    }

    /// One row per case and shape, one column per backend (median figure), then ratios: each
    /// other backend over the `swift` reference when it is selected and ran (`c/swift`), else
    /// the first other backend over each remaining one (`c/openblas`). With several rounds a
    /// ratio is the median of the per-round ratios (the two backends measured in the same
    /// round), else the ratio of the figures.
    public static func sideBySide(_ records: [BenchRecord], skipped: [BenchSkip], backends: [String]) -> String {
        var keys: [String] = []
        var byKey: [String: [String: BenchRecord]] = [:]
        var units: [String: String] = [:]
        for r in records {
            if byKey[r.caseKey] == nil { keys.append(r.caseKey) }
            byKey[r.caseKey, default: [:]][r.backend] = r
            units[r.caseKey] = r.kind.unit
        }
        var skips: [String: [String: String]] = [:]
        for s in skipped {
            if byKey[s.caseKey] == nil, !keys.contains(s.caseKey) { keys.append(s.caseKey) }
            skips[s.caseKey, default: [:]][s.backend] = "skipped"
        }
        let reference = BenchBackend.referenceName
        // (numerator, denominator, decimals) per ratio column.
        // The reference pairing only when the reference has records (it skips, e.g., `conv`).
        let referenceRan = records.contains { $0.backend == reference }
        let others = backends.filter { $0 != reference }
        let pairs: [(String, String, Int)] = backends.contains(reference) && referenceRan
            ? others.map { ($0, reference, 1) }
            : others.dropFirst().map { (others[0], $0, 2) }
        var header = ["case", "unit"] + backends
        header += pairs.map { "\($0.0)/\($0.1)" }
        var rows: [[String]] = [header]
        for key in keys {
            let cells = byKey[key] ?? [:]
            var row = [key, units[key] ?? cells.values.first?.kind.unit ?? ""]
            row += backends.map { name in
                cells[name].map { number($0.figure) } ?? skips[key]?[name] ?? "-"
            }
            row += pairs.map { top, bottom, decimals in
                guard let a = cells[top], let b = cells[bottom], let r = ratio(a, over: b) else { return "-" }
                return formatFixed(r, decimals: decimals) + "x"
            }
            rows.append(row)
        }
        return table(rows)
    }

    /// `a`'s figure over `b`'s: the median of the per-round ratios when both have the same
    /// number of rounds (more than one), else the ratio of the figures; nil when undefined.
    public static func ratio(_ a: BenchRecord, over b: BenchRecord) -> Double? {
        if let ra = a.roundFigures, let rb = b.roundFigures, ra.count == rb.count, ra.count > 1 {
            let perRound = zip(ra, rb).compactMap { x, y in y > 0 ? x / y : nil }
            guard !perRound.isEmpty else { return nil }
            return BenchTiming(samples: perRound).median
        }
        return b.figure > 0 ? a.figure / b.figure : nil
    }

    /// Left-aligned first column, right-aligned numbers, two spaces between columns.
    static func table(_ rows: [[String]]) -> String {
        let widths = (0..<(rows.first?.count ?? 0)).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// The records as CSV with the ``columns`` header; missing figures are empty cells.
    public static func csv(_ records: [BenchRecord]) -> String {
        let lines = records.map { r -> String in
            let fields: [String] = [
                r.kind.rawValue, r.variant, r.shape, r.backend, String(r.threads),
                String(r.medianSeconds), String(r.minSeconds), String(r.maxSeconds), String(r.repeats),
                r.gflops.map { String($0) } ?? "", r.percentOfPeak.map { String($0) } ?? "",
                r.gbps.map { String($0) } ?? "", r.samplesPerSecond.map { String($0) } ?? "",
            ]
            return fields.joined(separator: ",")
        }
        return ([columns.joined(separator: ",")] + lines).joined(separator: "\n")
    }

    /// The records as one JSON array (keys sorted, one record per line).
    public static func json(_ records: [BenchRecord]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let lines = try records.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
        return lines.isEmpty ? "[]" : "[\n  " + lines.joined(separator: ",\n  ") + "\n]"
    }

    /// A figure with three significant digits or more (e.g. 0.123, 12.3, 1234).
    public static func number(_ x: Double) -> String {
        if x >= 100 { return formatFixed(x, decimals: 0) }
        if x >= 10 { return formatFixed(x, decimals: 1) }
        if x >= 1 { return formatFixed(x, decimals: 2) }
        return formatFixed(x, decimals: 3)
    }

    /// Seconds in s, ms or µs.
    public static func duration(_ seconds: Double) -> String {
        if seconds >= 1 { return number(seconds) + " s" }
        if seconds >= 1e-3 { return number(seconds * 1e3) + " ms" }
        return number(seconds * 1e6) + " µs"
    }
}
