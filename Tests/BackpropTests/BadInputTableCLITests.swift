import Foundation
import Testing
@testable import Backprop

/// The rows of the bad-input table (docs/RELIABILITY.md) that the library tests check, now
/// through the CLI as a user meets them: exit status 1, one `error:` line with the exact
/// message, nothing on stdout, and (see `BadInputCLITests.run`) an existing checkpoint given to
/// `--save` left byte for byte as it was, with no temporary file left in the directory.
extension BadInputCLITests {
    static let csvGzip: [UInt8] = [  // gzip -n of "a,b,label\n1,2,0\n3,4,1\n"; CRC-32 at bytes 34..<38
        31, 139, 8, 0, 0, 0, 0, 0, 2, 255, 75, 212, 73, 210, 201, 73, 76, 74, 205, 225, 50, 212, 49, 210,
        49, 224, 50, 214, 49, 209, 49, 228, 2, 0, 72, 107, 247, 230, 22, 0, 0, 0,
    ]

    /// An MNIST directory `m/` of valid one-image files, with some replaced or removed (nil).
    static func mnist(_ replaced: [String: [UInt8]?]) -> [String: [UInt8]] {
        var files = [
            "train-images-idx3-ubyte": idxHeader(0x803, [1, 1, 1]) + [0],
            "train-labels-idx1-ubyte": idxHeader(0x801, [1]) + [0],
            "t10k-images-idx3-ubyte": idxHeader(0x803, [1, 1, 1]) + [0],
            "t10k-labels-idx1-ubyte": idxHeader(0x801, [1]) + [0],
        ]
        for (name, bytes) in replaced { files[name] = bytes }
        return Dictionary(uniqueKeysWithValues: files.map { ("m/" + $0.key, $0.value) })
    }

    static let mnistArguments = ["--dataset", "mnist", "--data", "m"]
    static let images = "$DIR/m/train-images-idx3-ubyte"

    /// Rows 2, 9–11, 13–15 (MNIST), 17, 18, 99 (gzip), 22, 25, 27, 29, 31–33 (CSV), through `train`.
    static let tableTrainCases: [Case] = [
        Case(name: "row 2: MNIST directory without a file", files: mnist(["train-images-idx3-ubyte": nil]),
             arguments: mnistArguments,
             message: "\(images): no such file (nor train-images-idx3-ubyte.gz); expected the MNIST file train-images-idx3-ubyte in $DIR/m"),
        Case(name: "row 9: IDX shorter than the magic", files: mnist(["train-images-idx3-ubyte": [0, 0, 8]]),
             arguments: mnistArguments, message: "\(images): byte 0: file is 3 bytes, too short for an IDX magic number"),
        Case(name: "row 9: IDX header cut short", files: mnist(["train-images-idx3-ubyte": idxHeader(0x803, [1, 28])]),
             arguments: mnistArguments, message: "\(images): byte 12: file ends inside the 16-byte header"),
        Case(name: "row 10: a zero dimension", files: mnist(["train-images-idx3-ubyte": idxHeader(0x803, [1, 0, 28])]),
             arguments: mnistArguments, message: "\(images): byte 8: dimension 1 is 0"),
        Case(name: "row 11: dimensions overflow",
             files: mnist(["train-images-idx3-ubyte": idxHeader(0x803, [.max, .max, .max])]), arguments: mnistArguments,
             message: "\(images): byte 8: the dimensions [4294967295, 4294967295] multiply past the largest integer"),
        Case(name: "row 13: bytes after the data",
             files: mnist(["train-images-idx3-ubyte": idxHeader(0x803, [1, 1, 1]) + [0, 9]]), arguments: mnistArguments,
             message: "\(images): byte 17: 1 unexpected bytes after the 1 bytes of data the header promises"),
        Case(name: "row 14: a label ≥ 10", files: mnist(["train-labels-idx1-ubyte": idxHeader(0x801, [1]) + [12]]),
             arguments: mnistArguments,
             message: "$DIR/m/train-labels-idx1-ubyte: byte 8: label 12 of item 0 is outside 0...9"),
        Case(name: "row 15: image and label counts disagree",
             files: mnist(["train-labels-idx1-ubyte": idxHeader(0x801, [2]) + [0, 1]]), arguments: mnistArguments,
             message: "$DIR/m/train-labels-idx1-ubyte: byte 4: 2 labels but \(images) has 1 images"),
        Case(name: "row 17: corrupt gzip (bad CRC)",
             files: ["d.csv.gz": Array(csvGzip[..<34]) + [73] + Array(csvGzip[35...])],
             arguments: ["--data", "d.csv.gz"], message: "$DIR/d.csv.gz: byte 38: corrupt gzip data (detected here): incorrect data check"),
        Case(name: "row 18: garbage after the gzip stream", files: ["d.csv.gz": csvGzip + [1, 2, 3]],
             arguments: ["--data", "d.csv.gz"],
             message: "$DIR/d.csv.gz: byte 42: 3 bytes of trailing data after the end of the gzip stream"),
        Case(name: "row 99: gzip data longer than its trailer declares",
             files: ["d.csv.gz": Array(csvGzip[..<38]) + [10, 0, 0, 0]], arguments: ["--data", "d.csv.gz"],
             message: "$DIR/d.csv.gz: byte 42: gzip data inflates past the 10 bytes its trailer declares "
                 + "(ISIZE, the size mod 2^32), so the file is corrupt or forged; download it again"),
        Case(name: "row 22: empty cell", files: ["d.csv": text("a,b,label\n,2,0\n")],
             arguments: ["--data", "d.csv"], message: "$DIR/d.csv: line 2, column 1: empty cell; expected a number"),
        Case(name: "row 25: non-numeric label", files: ["d.csv": text("a,b,label\n1,2,cat\n")],
             arguments: ["--data", "d.csv"],
             message: "$DIR/d.csv: line 2, column 3: label 'cat' is not an integer class id (0, 1, 2, ...)"),
        Case(name: "row 27: label column index that does not exist", files: ["d.csv": text("a,b,label\n1,2,0\n")],
             arguments: ["--data", "d.csv", "--label-column", "5"],
             message: "$DIR/d.csv: line 1: label column 5 does not exist: the file has 3 columns"),
        Case(name: "row 29: label column by name without a header", files: ["d.csv": text("1,2,0\n3,4,1\n")],
             arguments: ["--data", "d.csv", "--label-column", "y"],
             message: "$DIR/d.csv: line 1: label column 'y' needs a header row, but the file has none"),
        Case(name: "row 31: a single column", files: ["d.csv": text("a\n1\n2\n")],
             arguments: ["--data", "d.csv"],
             message: "$DIR/d.csv: line 1: only one column; expected feature columns and a label column"),
        Case(name: "row 32: quote never closed", files: ["d.csv": text("a,b,label\n\"1,2,0\n")],
             arguments: ["--data", "d.csv"], message: "$DIR/d.csv: line 2, column 1: quoted field is never closed (missing \")"),
        Case(name: "row 33: a quoted cell holding a newline", files: ["d.csv": text("a,b,label\n\"two\nlines\u{1b}\",2,0\n")],
             arguments: ["--data", "d.csv"], message: "$DIR/d.csv: line 2, column 1: 'two\\nlines\\u{1b}' is not a number"),
    ]

    @Test(arguments: tableTrainCases)
    func tableRowsThroughTrain(_ c: Case) throws {
        let output = try run(c, prefix: ["train", "--dataset", "csv", "--epochs", "1", "--quiet"])
        #expect(output.status == 1)
    }

    /// Rows 1, 7, 50, 53 (status 1) and 57, 59 (status 2), which CLITests checks by prefix,
    /// here with exact messages and the `--save` over an existing checkpoint.
    static let otherRuntimeCases: [Case] = [
        Case(name: "row 1: --data file missing", arguments: ["--dataset", "csv", "--data", "missing.csv"],
             message: "$DIR/missing.csv: cannot open (No such file or directory); expected a CSV file of numbers"),
        Case(name: "row 7: --report into a missing directory", arguments: ["--dataset", "xor", "--report", "no/such/r.html"],
             message: "cannot write no/such/r.html (--report): the directory no/such does not exist"),
        Case(name: "row 50: --layers that do not fit the data", arguments: ["--dataset", "xor", "--layers", "3,4,2"],
             message: "--layers 3,4,2 does not fit the xor data, which has 2 features and 2 classes: the first width must be 2 and the last 2 (or use --hidden)"),
        Case(name: "row 53: unknown backend", arguments: ["--dataset", "xor", "--backend", "no-such-backend"],
             message: "unknown backend 'no-such-backend'; known backends: c, openblas, swift"),
    ]
    static let otherUsageCases: [Case] = [
        Case(name: "row 57: an unknown option", arguments: ["--no-such-flag"], message: "unknown option '--no-such-flag'"),
        Case(name: "row 59: --resume with a setting the checkpoint fixes",
             arguments: ["--resume", "existing.safetensors", "--lr", "0.5"],
             message: "--lr cannot be changed when resuming; existing.safetensors holds the run's settings"),
    ]

    @Test(arguments: otherRuntimeCases)
    func otherRuntimeRowsThroughTrain(_ c: Case) throws {
        #expect(try run(c, prefix: ["train", "--epochs", "1", "--quiet"]).status == 1)
    }

    @Test(arguments: otherUsageCases)
    func otherUsageRowsThroughTrain(_ c: Case) throws {
        #expect(try run(c, prefix: ["train", "--epochs", "1", "--quiet"]).status == 2)
    }

    /// A safetensors file with `header` and `data` after it; `dataStart` is where `data` begins.
    static func safetensors(header: String, data: [UInt8]) -> (bytes: [UInt8], dataStart: Int) {
        (safetensors(header: header) + data, 8 + header.utf8.count)
    }

    static func entry(_ name: String, dtype: String = "F32", shape: String = "[1,2]", offsets: String = "[0,8]") -> String {
        "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":\(offsets)}"
    }

    /// A backprop checkpoint for `dense:3:2` written by the library with these tensors.
    static func checkpoint(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) -> [UInt8] {
        do {
            let path = try CheckpointTests.writeDense32(tensors, shapes: ["layers.0.bias": [2]], metadata: metadata)
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            preconditionFailure("cannot write a checkpoint: \(error)")
        }
    }

    static let weight = ("layers.0.weight", Tensor(rows: 2, cols: 3)), bias = ("layers.0.bias", Tensor(rows: 1, cols: 2))
    static let zeros = [UInt8](repeating: 0, count: 16)
    static let past = safetensors(header: "{" + entry("a", offsets: "[16,24]") + "}", data: zeros)
    static let overlap = safetensors(header: "{" + entry("a", offsets: "[0,8]") + "," + entry("b", offsets: "[4,12]") + "}", data: zeros)
    static let mismatch = safetensors(header: "{" + entry("a", offsets: "[0,12]") + "}", data: zeros)
    static let f16 = safetensors(header: "{" + entry("w", dtype: "F16", offsets: "[0,4]") + "}", data: zeros)
    static let negative = safetensors(header: "{" + entry("w", shape: "[-1,2]") + "}", data: zeros)
    static let regression: [UInt8] = {
        guard let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil),
              let data = try? Data(contentsOf: url.appendingPathComponent("regressions/safetensors/newline-in-metadata-key"))
        else { preconditionFailure("the fixture regressions/safetensors/newline-in-metadata-key is missing") }
        return [UInt8](data)
    }()

    /// Rows 35, 38–42, 44–46, 48, 49 (checkpoints), through `eval --model`.
    static let tableModelCases: [Case] = [
        Case(name: "row 35: shorter than the 8-byte length", files: ["m.safetensors": [1, 2, 3, 4, 5]],
             arguments: ["--model", "m.safetensors"],
             message: "m.safetensors: byte 0: file is 5 bytes, shorter than the 8-byte header length"),
        Case(name: "row 38: offsets outside the data", files: ["m.safetensors": past.bytes],
             arguments: ["--model", "m.safetensors"],
             message: "m.safetensors: byte \(past.dataStart + 16): tensor 'a' data_offsets [16, 24] run past the 16-byte data buffer"),
        Case(name: "row 39: overlapping tensors", files: ["m.safetensors": overlap.bytes],
             arguments: ["--model", "m.safetensors"],
             message: "m.safetensors: byte \(overlap.dataStart + 4): tensor 'b' [4, 12] overlaps tensor 'a' [0, 8] in the data buffer"),
        Case(name: "row 40: offsets not matching shape × dtype", files: ["m.safetensors": mismatch.bytes],
             arguments: ["--model", "m.safetensors"],
             message: "m.safetensors: header (bytes 8..<\(mismatch.dataStart)): tensor 'a': shape [1, 2] needs 8 bytes of F32 but data_offsets [0, 12] span 12"),
        Case(name: "row 41: unsupported dtype", files: ["m.safetensors": f16.bytes], arguments: ["--model", "m.safetensors"],
             message: "m.safetensors: header (bytes 8..<\(f16.dataStart)): tensor 'w': dtype F16 is not supported; only F32 tensors can be loaded (convert with .float())"),
        Case(name: "row 42: a negative shape entry", files: ["m.safetensors": negative.bytes], arguments: ["--model", "m.safetensors"],
             message: "m.safetensors: header (bytes 8..<\(negative.dataStart)): tensor 'w': shape entry 0 is -1, expected a non-negative integer"),
        Case(name: "row 44: a tensor the architecture needs is missing", files: ["m.safetensors": checkpoint([weight])],
             arguments: ["--model", "m.safetensors"],
             message: "m.safetensors: tensor 'layers.0.bias' is missing (the architecture dense:3:2 needs it)"),
        Case(name: "row 45: a shape that does not fit the architecture",
             files: ["m.safetensors": checkpoint([("layers.0.weight", Tensor(rows: 3, cols: 2)), bias])],
             arguments: ["--model", "m.safetensors"],
             message: "m.safetensors: tensor 'layers.0.weight': shape [3, 2] does not match [2, 3] expected by the architecture"),
        Case(name: "row 46: an extra tensor",
             files: ["m.safetensors": checkpoint([weight, bias, ("layers.1.weight", Tensor(rows: 1, cols: 1))])],
             arguments: ["--model", "m.safetensors"],
             message: "m.safetensors: tensor 'layers.1.weight': unexpected tensor: the architecture dense:3:2 has no such parameter"),
        Case(name: "row 48: bad architecture metadata",
             files: ["m.safetensors": checkpoint([weight, bias], metadata: ["architecture": "dense:3:2,gelu"])],
             arguments: ["--model", "m.safetensors"],
             message: "m.safetensors: metadata 'architecture': layer 1 'gelu' is not a known layer kind (known: dense, relu,"),
        Case(name: "row 48: bad training state",
             files: ["m.safetensors": checkpoint([weight, bias], metadata: ["training_state": "{\"epochs_completed\": 1}"])],
             arguments: ["--model", "m.safetensors"],
             message: "m.safetensors: metadata 'training_state': missing field 'batches_completed'"),
        Case(name: "row 49: a newline in a metadata key", files: ["m.safetensors": regression],
             arguments: ["--model", "m.safetensors"],
             message: "m.safetensors: header (bytes 8..<42): __metadata__ value for 'line\\nbreak' is a number, expected a string"),
    ]

    @Test(arguments: tableModelCases)
    func tableRowsThroughEval(_ c: Case) throws {
        let output = try run(c, prefix: ["eval"])
        #expect(output.status == 1)
    }

    /// The same checkpoints given to `train --resume`, which reads them before it would `--save`
    /// over the existing checkpoint: the error, and that checkpoint untouched.
    @Test(arguments: tableModelCases)
    func tableRowsThroughResume(_ c: Case) throws {
        let resumed = Case(name: c.name, files: c.files, arguments: ["--resume"] + c.arguments.dropFirst(), message: c.message)
        let output = try run(resumed, prefix: ["train", "--quiet"])
        #expect(output.status == 1)
    }
}
