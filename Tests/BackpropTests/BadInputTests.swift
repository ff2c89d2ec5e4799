import Foundation
import Testing
@testable import Backprop

// Rows of the bad-input table in docs/RELIABILITY.md that LoaderTests, SafeTensorsTests,
// CheckpointTests and CLITests do not already check, and the inputs the fuzzers found.

/// Library-level: what a program using Backprop gets for a bad file.
@Suite struct BadInputLibraryTests {
    /// Tests run as root, for whom chmod 000 blocks nothing; /proc/self/mem opens but every read
    /// at offset 0 fails with EIO (page 0 is never mapped), the same read(2) error path an
    /// unreadable file or a failing disk takes.
    @Test func unreadableFileIsAnIOErrorNamingTheErrno() {
        expectIO(path: "/proc/self/mem", containing: "read failed after 0 bytes (Input/output error)") {
            _ = try CSV.load(path: "/proc/self/mem")
        }
    }

    /// IDX files through the file loader: a cut-off .gz download and a .gz name on plain data.
    @Test func truncatedAndFakeGzipIDXFiles() throws {
        try withTemporaryDirectory { dir in
            let raw = idxHeader(0x803, [50, 28, 28]) + (0..<(50 * 784)).map { UInt8($0 % 251) }
            let gz = try gzip(raw, in: dir)
            let cut = try writeFile(dir, "cut-idx3-ubyte.gz", Array(gz[..<(gz.count - 100)]))
            expectMalformed(path: cut, location: "byte \(gz.count - 100)", containing: "truncated gzip data") {
                _ = try IDX.loadImages(path: cut)
            }
            let fake = try writeFile(dir, "plain-idx3-ubyte.gz", raw)
            expectMalformed(path: fake, location: "byte 0", containing: "not gzip data although the name ends in .gz (expected the magic bytes 1f 8b, found 00 00)") {
                _ = try IDX.loadImages(path: fake)
            }
        }
    }

    /// Regression: a checkpoint whose architecture claims a 4-billion-wide layer used to be
    /// built (and allocated: 1 TB) before its tensors were checked, and trapped out of memory.
    @Test func forgedHugeArchitectureIsAMissingTensorNotATrap() throws {
        let path = try CheckpointTests.writeDense32(
            [("layers.0.weight", Tensor(rows: 2, cols: 3)), ("layers.0.bias", Tensor(rows: 1, cols: 2))],
            shapes: ["layers.0.bias": [2]], metadata: ["architecture": "dense:3:2,relu,dense:2:4000000000"])
        #expect(throws: BackpropError.malformedFile(
            path: path, location: "",
            message: "tensor 'layers.2.weight' is missing (the architecture dense:3:2,relu,dense:2:4000000000 needs it)")) {
            try ModelCheckpoint.load(from: path)
        }
        let wide = try CheckpointTests.writeDense32(
            [("layers.0.weight", Tensor(rows: 2, cols: 3)), ("layers.0.bias", Tensor(rows: 1, cols: 2))],
            shapes: ["layers.0.bias": [2]], metadata: ["architecture": "dense:3:4000000000"])
        #expect(throws: BackpropError.malformedFile(
            path: wide, location: "tensor 'layers.0.weight'",
            message: "shape [2, 3] does not match [4000000000, 3] expected by the architecture")) {
            try ModelCheckpoint.load(from: wide)
        }
    }

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

    /// Every input the fuzzers ever crashed on (Fixtures/regressions/<parser>/) now fails with a
    /// one-line BackpropError, through the same entry points the fuzzers use. Each one is bad
    /// input, so a successful parse is a failure here, not a pass; a missing corpus directory
    /// fails too (it would otherwise check nothing).
    @Test func fuzzerFindingsAreErrorsNotCrashes() throws {
        let root = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
            .appendingPathComponent("regressions")
        var checked: [String: Int] = [:]
        // The parsers that have regression inputs; a fuzz target with a finding adds its directory here.
        for parser in ["csv", "safetensors"] {
            let dir = root.appendingPathComponent(parser)
            let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !$0.hasPrefix(".") }
            for name in names.sorted() {
                let bytes = [UInt8](try Data(contentsOf: dir.appendingPathComponent(name)))
                for outcome in Self.outcomes(bytes, as: parser) {
                    #expect(outcome.failed && outcome.isOneLine, "\(parser)/\(name): \(outcome.text)")
                }
                checked[parser, default: 0] += 1
            }
        }
        #expect(checked["csv", default: 0] >= 1 && checked["safetensors", default: 0] >= 1,
                "regression inputs under \(root.path): \(checked)")
        // No parser directory goes unchecked.
        let present = try FileManager.default.contentsOfDirectory(atPath: root.path).filter { !$0.hasPrefix(".") }
        #expect(Set(present).isSubset(of: ["csv", "safetensors"]), "unchecked regression directories: \(present)")
    }

    struct Outcome {
        var text: String
        var isOneLine: Bool
        /// Whether the entry point threw (a BackpropError or anything else).
        var failed = true
    }

    /// What each entry point the fuzz target for `parser` calls makes of `bytes`.
    static func outcomes(_ bytes: [UInt8], as parser: String) -> [Outcome] {
        func outcome(_ body: () throws -> Void) -> Outcome {
            do {
                try body()
                return Outcome(text: "parsed", isOneLine: true, failed: false)
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

    private func gzip(_ bytes: [UInt8], in dir: String) throws -> [UInt8] {
        let path = try writeFile(dir, "raw", bytes)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-kn", path]
        try process.run()
        process.waitUntilExit()
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path + ".gz")))
    }
}

/// CLI-level: the exit status and the one stderr line a user gets for a bad file or value.
@Suite struct BadInputCLITests {
    /// A bad input for `backprop`: files to create in a fresh directory, the arguments, and the
    /// start of the one stderr line (after "error: "), with `$DIR` for the directory.
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var files: [String: [UInt8]] = [:]
        var arguments: [String]
        var message: String
        var testDescription: String { name }
    }

    static func text(_ s: String) -> [UInt8] { Array(s.utf8) }

    /// A 1-D safetensors file whose 8-byte length prefix is `length` and whose header is `header`.
    static func safetensors(length: UInt64? = nil, header: String) -> [UInt8] {
        let h = Array(header.utf8)
        let n = length ?? UInt64(h.count)
        return (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * $0)) } + h
    }

    /// An MNIST directory `m/` of valid tiny files, with the training images replaced.
    static func mnist(trainImages name: String, _ bytes: [UInt8]) -> [String: [UInt8]] {
        [
            "m/" + name: bytes,
            "m/train-labels-idx1-ubyte": idxHeader(0x801, [1]) + [0],
            "m/t10k-images-idx3-ubyte": idxHeader(0x803, [1, 1, 1]) + [0],
            "m/t10k-labels-idx1-ubyte": idxHeader(0x801, [1]) + [0],
        ]
    }

    static let trainCases: [Case] = [
        Case(name: "csv ragged row", files: ["d.csv": text("a,b,label\n1,2,0\n3,4\n")],
             arguments: ["--data", "d.csv"], message: "$DIR/d.csv: line 3: 2 columns, but line 1 has 3"),
        Case(name: "csv non-numeric cell", files: ["d.csv": text("a,b,label\n1,x,0\n")],
             arguments: ["--data", "d.csv"], message: "$DIR/d.csv: line 2, column 2: 'x' is not a number"),
        Case(name: "csv NaN cell", files: ["d.csv": text("a,b,label\n1,nan,0\n")],
             arguments: ["--data", "d.csv"],
             message: "$DIR/d.csv: line 2, column 2: nan is not a finite 32-bit float (NaN and infinities are not allowed)"),
        Case(name: "csv Inf cell", files: ["d.csv": text("a,b,label\n1,-inf,0\n")],
             arguments: ["--data", "d.csv"], message: "$DIR/d.csv: line 2, column 2: -inf is not a finite 32-bit float"),
        Case(name: "csv negative label", files: ["d.csv": text("a,b,label\n1,2,-1\n")],
             arguments: ["--data", "d.csv"],
             message: "$DIR/d.csv: line 2, column 3: label -1 is not a non-negative integer class id"),
        Case(name: "csv huge label", files: ["d.csv": text("a,b,label\n1,2,2000000000\n3,4,0\n")],
             arguments: ["--data", "d.csv"],
             message: "a 2 → 32 → 2000000001 network has 66000000129 parameters and needs about"),
        Case(name: "hidden layer too large for memory", arguments: ["--dataset", "digits", "--hidden", "100000000000"],
             message: "a 64 → 100000000000 → 10 network has 7500000000010 parameters and needs about "),
        Case(name: "csv missing label column", files: ["d.csv": text("a,b,label\n1,2,0\n")],
             arguments: ["--data", "d.csv", "--label-column", "y"],
             message: "$DIR/d.csv: line 1: no column named 'y' in the header (columns: a, b, label)"),
        Case(name: "csv header only", files: ["d.csv": text("a,b,label\n")],
             arguments: ["--data", "d.csv"], message: "$DIR/d.csv: line 1: header only, no data rows"),
        Case(name: "csv empty file", files: ["d.csv": []],
             arguments: ["--data", "d.csv"], message: "$DIR/d.csv: file is empty; expected a CSV file of numbers"),
        Case(name: "data is a directory", files: ["sub/x": []],
             arguments: ["--data", "sub"], message: "$DIR/sub: is a directory; expected a CSV file of numbers"),
        Case(name: "data unreadable", arguments: ["--data", "/proc/self/mem"],
             message: "/proc/self/mem: read failed after 0 bytes (Input/output error)"),
        Case(name: "csv truncated gzip", files: ["d.csv.gz": [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0x33, 0xd4]],
             arguments: ["--data", "d.csv.gz"], message: "$DIR/d.csv.gz: byte 12: truncated gzip data"),
        Case(name: "mnist wrong magic",
             files: mnist(trainImages: "train-images-idx3-ubyte", idxHeader(0x801, [1]) + [0]),
             arguments: ["--dataset", "mnist", "--data", "m"],
             message: "$DIR/m/train-images-idx3-ubyte: byte 0: magic number is 0x00000801, expected 0x00000803 for an IDX image file (images and labels swapped?)"),
        Case(name: "mnist header promises more data",
             files: mnist(trainImages: "train-images-idx3-ubyte", idxHeader(0x803, [60000, 28, 28]) + [1, 2, 3]),
             arguments: ["--dataset", "mnist", "--data", "m"],
             message: "$DIR/m/train-images-idx3-ubyte: byte 19: header promises 60000×28×28 = 47040000 bytes of data from byte 16, but the file ends after 3; truncated?"),
        Case(name: "mnist .gz that is not gzip",
             files: mnist(trainImages: "train-images-idx3-ubyte.gz", idxHeader(0x803, [1, 1, 1]) + [0]),
             arguments: ["--dataset", "mnist", "--data", "m"],
             message: "$DIR/m/train-images-idx3-ubyte.gz: byte 0: not gzip data although the name ends in .gz"),
    ]

    @Test(arguments: trainCases)
    func badTrainingInputIsOneLineWithStatus1(_ c: Case) throws {
        let output = try run(c, prefix: ["train", "--dataset", "csv", "--epochs", "1", "--quiet"])
        #expect(output.status == 1)
    }

    static let modelCases: [Case] = [
        Case(name: "checkpoint missing", arguments: ["--model", "none.safetensors"],
             message: "none.safetensors: cannot open (No such file or directory); expected a safetensors file"),
        Case(name: "checkpoint header length 2^63",
             files: ["m.safetensors": safetensors(length: 1 << 63, header: "{}")], arguments: ["--model", "m.safetensors"],
             message: "m.safetensors: byte 0: header length 9223372036854775808 runs past the end of the file"),
        Case(name: "checkpoint header not JSON",
             files: ["m.safetensors": safetensors(header: "{\"a\":")], arguments: ["--model", "m.safetensors"],
             message: "m.safetensors: header (bytes 8..<13): header is not valid JSON"),
        Case(name: "checkpoint not from backprop",
             files: ["m.safetensors": safetensors(header: "{}")], arguments: ["--model", "m.safetensors"],
             message: "m.safetensors: not a backprop checkpoint: no 'format' in __metadata__ (expected backprop-1)"),
        Case(name: "checkpoint forged architecture",
             files: ["m.safetensors": safetensors(header: #"{"__metadata__":{"format":"backprop-1","architecture":"dense:64:4000000000","loss":"cross-entropy"}}"#)],
             arguments: ["--model", "m.safetensors"],
             message: "m.safetensors: tensor 'layers.0.weight' is missing (the architecture dense:64:4000000000 needs it)"),
    ]

    @Test(arguments: modelCases)
    func badCheckpointIsOneLineWithStatus1(_ c: Case) throws {
        let output = try run(c, prefix: ["eval"])
        #expect(output.status == 1)
    }

    static let valueCases: [Case] = [
        Case(name: "negative layer width", arguments: ["--layers=2,-3,2"], message: "--layers '2,-3,2': widths must be at least 1, got -3"),
        Case(name: "zero hidden width", arguments: ["--hidden", "0"], message: "--hidden '0': widths must be at least 1, got 0"),
        Case(name: "threads negative", arguments: ["--threads=-1"], message: "--threads must be at least 1, got -1"),
        Case(name: "batch size negative", arguments: ["--batch-size=-5"], message: "--batch-size must be at least 1, got -5"),
        Case(name: "epochs zero", arguments: ["--epochs", "0"], message: "--epochs must be at least 1, got 0"),
        Case(name: "learning rate NaN", arguments: ["--lr", "nan"], message: "--lr must be a positive number, got nan"),
        Case(name: "clip norm zero", arguments: ["--clip-grad-norm", "0"], message: "--clip-grad-norm must be a positive number, got 0.0"),
        Case(name: "test split 1", arguments: ["--test-split", "1"], message: "--test-split must be in [0, 1), got 1.0"),
        Case(name: "unknown dataset", arguments: ["--dataset", "cifar"], message: "the value 'cifar' is invalid for '--dataset"),
    ]

    @Test(arguments: valueCases)
    func badValuesAreOneLineWithStatus2(_ c: Case) throws {
        let output = try run(c, prefix: ["train"])
        #expect(output.status == 2)
    }

    /// The bytes of a valid checkpoint that every case's `--save` (for `train`) points at.
    static let existingCheckpoint: [UInt8] = {
        do {
            let path = try CheckpointTests.writeDense32(
                [("layers.0.weight", Tensor(rows: 2, cols: 3, repeating: 0.5)), ("layers.0.bias", Tensor(rows: 1, cols: 2))],
                shapes: ["layers.0.bias": [2]])
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            preconditionFailure("cannot write the existing checkpoint: \(error)")
        }
    }()

    /// Runs `prefix + c.arguments` in a fresh directory holding `c.files` and an existing
    /// checkpoint `existing.safetensors` (which `train` is told to `--save` over), and checks
    /// the output is exactly one stderr line `error: <message>...`, nothing on stdout, no
    /// signal; and that the checkpoint's bytes are unchanged and no file (a temporary one, say)
    /// appeared or went away.
    func run(_ c: Case, prefix: [String]) throws -> CLITests.Output {
        let dir = try CLITests.temporaryDirectory()
        for (name, bytes) in c.files.merging(["existing.safetensors": Self.existingCheckpoint], uniquingKeysWith: { a, _ in a }) {
            let url = URL(fileURLWithPath: dir + "/" + name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: url)
        }
        let before = try FileManager.default.subpathsOfDirectory(atPath: dir).sorted()
        let save = prefix.first == "train" ? ["--save", "existing.safetensors"] : []
        // Datasets are given relative to the directory, and the CLI names them by absolute path.
        let output = try CLITests.run(prefix + c.arguments + save, in: dir)
        let expected = "error: " + c.message.replacingOccurrences(of: "$DIR", with: dir)
        #expect(output.stderr.hasPrefix(expected), "\(c.name): \(output.stderr)")
        #expect(output.stderr.split(separator: "\n").count == 1 && output.stderr.hasSuffix("\n"), "\(c.name): \(output.stderr)")
        #expect(output.stdout.isEmpty, "\(c.name): \(output.stdout)")
        #expect(output.status == 1 || output.status == 2, "\(c.name): status \(output.status)")
        // (CLITests.run captures stdout and stderr in stdout-<uuid>.txt and stderr-<uuid>.txt here.)
        let after = try FileManager.default.subpathsOfDirectory(atPath: dir).sorted()
            .filter { !(($0.hasPrefix("stdout-") || $0.hasPrefix("stderr-")) && $0.hasSuffix(".txt")) }
        #expect(after == before, "\(c.name): files before \(before), after \(after)")
        let kept = try Data(contentsOf: URL(fileURLWithPath: dir + "/existing.safetensors"))
        #expect([UInt8](kept) == Self.existingCheckpoint, "\(c.name): the existing checkpoint changed")
        return output
    }

    /// A learning rate so large the loss overflows: training stops with the epoch and batch and
    /// suggests what to change. On every backend: the NaN or ∞ must reach the loss on `c` and
    /// `openblas` (what users get by default) as on the reference.
    @Test(arguments: TestBackends.available)
    func divergenceNamesEpochAndBatchAndSuggestsALowerRate(backend: String) throws {
        let output = try CLITests.run(["train", "--lr", "1e30", "--epochs", "3", "--quiet", "--backend", backend],
                                      in: try CLITests.temporaryDirectory())
        #expect(output.status == 1)
        #expect(output.stderr.hasPrefix("error: training diverged: the loss became "), "\(output.stderr)")
        #expect(output.stderr.contains(" at epoch 1, batch "), "\(output.stderr)")
        #expect(output.stderr.hasSuffix("; try a lower learning rate (--lr) or gradient clipping (--clip-grad-norm)\n"))
        #expect(output.stderr.split(separator: "\n").count == 1)
    }

    /// `--clip-grad-norm` exists, and keeps finite a run that diverges without it.
    @Test(arguments: TestBackends.available)
    func clippingKeepsADivergingRunFinite(backend: String) throws {
        let dir = try CLITests.temporaryDirectory()
        let common = ["train", "--lr", "10", "--epochs", "1", "--quiet", "--json", "--backend", backend]
        let plain = try CLITests.run(common, in: dir)
        #expect(plain.status == 1 && plain.stderr.hasPrefix("error: training diverged"), "\(plain.stderr)")
        let clipped = try CLITests.run(common + ["--clip-grad-norm", "1"], in: dir)
        #expect(clipped.status == 0, "\(clipped.stderr)")
        let loss = try #require(try CLITests.json(clipped.stdout)["train_loss"] as? Double)
        #expect(loss.isFinite)
    }
}
