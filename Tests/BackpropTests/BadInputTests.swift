import Foundation
import Testing
@testable import Backprop

// Rows of the bad-input table in docs/RELIABILITY.md that LoaderTests, SafeTensorsTests,
// CheckpointTests and CLITests do not already check, and the inputs the fuzzers found.

/// Library-level: what a program using Backprop gets for a bad file.
@Suite struct BadInputLibraryTests {
    /// A quoted cell may hold newlines or a megabyte of text: the error quotes it escaped and cut.
    @Test func badCellsAreQuotedOnOneShortLine() {
        let long = String(repeating: "z", count: 1 << 20)
        expectMalformed(path: "t.csv", location: "line 2, column 1", containing: "'\(String(repeating: "z", count: 40))…' is not a number") {
            _ = try CSV.parse(bytes: Array("a,label\n\"\(long)\",1\n".utf8), path: "t.csv")
        }
        expectMalformed(path: "t.csv", location: "line 2, column 1", containing: "'two\\nlines\\u{1b}' is not a number") {
            _ = try CSV.parse(bytes: Array("a,label\n\"two\nlines\u{1b}\",1\n".utf8), path: "t.csv")
        }
        let error = BackpropError.malformedFile(path: "a\nb", location: "", message: "c\rd")
        #expect(error.description == "a\\nb: c\\rd")
    }

    /// Every input the fuzzers ever crashed on (Fixtures/regressions/<parser>/) now parses or
    /// fails with a one-line BackpropError, through the same entry points the fuzzers use.
    @Test func fuzzerFindingsAreErrorsNotCrashes() throws {
        let root = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
            .appendingPathComponent("regressions")
        var checked = 0
        for parser in ["idx", "csv", "safetensors"] {
            let dir = root.appendingPathComponent(parser)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            for name in names.sorted() where !name.hasPrefix(".") {
                let bytes = [UInt8](try Data(contentsOf: dir.appendingPathComponent(name)))
                for outcome in Self.outcomes(bytes, as: parser) {
                    #expect(outcome.isOneLine, "\(parser)/\(name): \(outcome.text)")
                }
                checked += 1
            }
        }
        #expect(checked >= 1, "no regression inputs found under \(root.path)")
    }

    struct Outcome {
        var text: String
        var isOneLine: Bool
    }

    /// What each entry point the fuzz target for `parser` calls makes of `bytes`.
    static func outcomes(_ bytes: [UInt8], as parser: String) -> [Outcome] {
        func outcome(_ body: () throws -> Void) -> Outcome {
            do {
                try body()
                return Outcome(text: "parsed", isOneLine: true)
            } catch let error as BackpropError {
                return Outcome(text: error.description, isOneLine: !error.description.contains("\n"))
            } catch {
                return Outcome(text: "not a BackpropError: \(error)", isOneLine: false)
            }
        }
        switch parser {
        case "idx":
            var data = bytes
            let inflate = isGzip(bytes) ? [outcome { data = try gunzip(bytes, path: "r.gz") }] : []
            return inflate + [outcome { _ = try IDX.decodeImages(data, path: "r") },
                              outcome { _ = try IDX.decodeLabels(data, path: "r", classCount: 10) }]
        case "csv":
            return [outcome { _ = try CSV.parse(bytes: bytes, path: "r.csv") },
                    outcome { _ = try CSV.parse(bytes: bytes, path: "r.csv", labelColumn: .index(0), targets: .values) },
                    outcome { _ = try CSV.parse(bytes: bytes, path: "r.csv", labelColumn: .name("label")) },
                    outcome { _ = try CSV.parseMatrix(bytes: bytes, path: "r.csv") }]
        default:
            return [outcome { _ = try SafeTensors.decode(bytes, path: "r") }]
        }
    }
}
