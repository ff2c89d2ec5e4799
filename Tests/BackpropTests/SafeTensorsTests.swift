import Foundation
import Testing
@testable import Backprop

/// The layer both fixtures hold: weight (3, 2) and bias (1, 2), stored as shape [2].
private let weight = try! Tensor([[1.5, -2], [0.25, 3], [-0.125, 0.1]])
private let bias = try! Tensor([[0.5, -0.75]])
private let layer: [(name: String, tensor: Tensor)] = [("layers.0.weight", weight), ("layers.0.bias", bias)]
private let biasShape = ["layers.0.bias": [2]]
private let ourMetadata = ["writer": "backprop", "purpose": "interop fixture"]

private func fixture(_ name: String) -> String {
    Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(name).path
}

/// A safetensors file with a hand-written header (unpadded) and data buffer.
private func file(header: String, data: [UInt8] = []) -> [UInt8] {
    let json = Array(header.utf8)
    return (0..<8).map { UInt8(truncatingIfNeeded: json.count >> (8 * $0)) } + json + data
}

private func entry(_ name: String, dtype: String = "F32", shape: String = "[1,2]", offsets: String = "[0,8]") -> String {
    "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":\(offsets)}"
}

@Suite struct SafeTensorsTests {
    @Test func loadsTheFileWrittenByPythonSafetensors() throws {
        let path = fixture("python-written.safetensors")
        let (tensors, metadata) = try SafeTensors.read(path: path)
        #expect(Set(tensors.keys) == ["layers.0.weight", "layers.0.bias"])
        let w = try #require(tensors["layers.0.weight"])
        let b = try #require(tensors["layers.0.bias"])
        #expect(w.shape == [3, 2] && w.tensor.rows == 3 && w.tensor.cols == 2)
        #expect(w.tensor.scalars == weight.scalars)  // bit-exact, including 0.1
        #expect(b.shape == [2] && b.tensor.rows == 1 && b.tensor.cols == 2)
        #expect(b.tensor.scalars == [0.5, -0.75])
        #expect(metadata == ["writer": "python safetensors", "purpose": "interop fixture"])
    }

    @Test func writerProducesTheHandCheckedByteLayout() throws {
        let header = #"{"__metadata__":{"purpose":"interop fixture","writer":"backprop"},"#
            + #""layers.0.weight":{"dtype":"F32","shape":[3,2],"data_offsets":[0,24]},"#
            + #""layers.0.bias":{"dtype":"F32","shape":[2],"data_offsets":[24,32]}}"#
        #expect(header.utf8.count == 203)  // padded with 5 spaces to 208 = 0xd0
        let expected: [UInt8] = [0xd0, 0, 0, 0, 0, 0, 0, 0] + Array(header.utf8) + Array("     ".utf8) + [
            0x00, 0x00, 0xc0, 0x3f, 0x00, 0x00, 0x00, 0xc0,  // 1.5, -2
            0x00, 0x00, 0x80, 0x3e, 0x00, 0x00, 0x40, 0x40,  // 0.25, 3
            0x00, 0x00, 0x00, 0xbe, 0xcd, 0xcc, 0xcc, 0x3d,  // -0.125, 0.1
            0x00, 0x00, 0x00, 0x3f, 0x00, 0x00, 0x40, 0xbf,  // 0.5, -0.75
        ]
        let bytes = try SafeTensors.encode(tensors: layer, shapes: biasShape, metadata: ourMetadata)
        #expect(bytes == expected)
        // The committed fixture is this output; scripts/make-fixtures.py --check loads it with
        // the reference implementation, so a change here must be re-checked in Python.
        let committed = try Data(contentsOf: URL(fileURLWithPath: fixture("swift-written.safetensors")))
        #expect(Array(committed) == expected)
    }

    @Test func roundTripsThroughAFile() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/model.safetensors"
            let metadata = ["quote\"and\\slash": "line\nbreak\u{1} and ünïcödé", "empty": ""]
            let empty = Tensor(rows: 0, cols: 3)
            try SafeTensors.write(tensors: layer + [("empty", empty)], shapes: biasShape, metadata: metadata, to: path)
            let (tensors, readMetadata) = try SafeTensors.read(path: path)
            #expect(readMetadata == metadata)
            #expect(tensors["layers.0.weight"]!.tensor.nested == weight.nested)
            #expect(tensors["layers.0.bias"]!.shape == [2] && tensors["layers.0.bias"]!.tensor.scalars == bias.scalars)
            #expect(tensors["empty"]!.shape == [0, 3] && tensors["empty"]!.tensor.count == 0)
            // Without metadata there is no __metadata__ entry at all.
            try SafeTensors.write(tensors: [("w", weight)], to: path)
            let header = String(decoding: try SafeTensors.encode(tensors: [("w", weight)])[8...], as: UTF8.self)
            #expect(!header.contains("__metadata__"))
            #expect(try SafeTensors.read(path: path).metadata.isEmpty)
        }
    }

    @Test func writerRejectsBadNamesAndShapes() throws {
        #expect(throws: BackpropError.invalidArgument("tensor name 'w' appears twice")) {
            _ = try SafeTensors.encode(tensors: [("w", weight), ("w", bias)])
        }
        #expect(throws: BackpropError.self) { _ = try SafeTensors.encode(tensors: [("__metadata__", bias)]) }
        #expect(throws: BackpropError.invalidArgument("shape [3] for tensor 'b' does not hold its 1×2 values")) {
            _ = try SafeTensors.encode(tensors: [("b", bias)], shapes: ["b": [3]])
        }
        #expect(throws: BackpropError.self) { _ = try SafeTensors.encode(tensors: [("b", bias)], shapes: ["b": [.max, 2]]) }
        #expect(throws: BackpropError.self) { _ = try SafeTensors.encode(tensors: [("b", bias)], shapes: ["b": [-1, -2]]) }
    }

    @Test func lengthPrefixErrors() throws {
        expectMalformed(path: "f", location: "byte 0", containing: "file is 5 bytes, shorter than the 8-byte") {
            _ = try SafeTensors.decode([1, 2, 3, 4, 5], path: "f")
        }
        expectMalformed(path: "f", location: "byte 0", containing: "header length 100 runs past the end") {
            _ = try SafeTensors.decode([100, 0, 0, 0, 0, 0, 0, 0] + Array("{}".utf8), path: "f")
        }
        // 2^63 and 2^64 - 1: compared as UInt64, no allocation, no overflow trap.
        for top: UInt8 in [0x80, 0xff] {
            expectMalformed(path: "f", location: "byte 0", containing: "runs past the end") {
                _ = try SafeTensors.decode([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, top] + Array("{}".utf8), path: "f")
            }
        }
    }

    @Test func headerJSONErrors() throws {
        expectMalformed(path: "f", location: "header (bytes 8..<17)", containing: "header is not valid JSON") {
            _ = try SafeTensors.decode(file(header: "{\"a\": [1,"), path: "f")
        }
        expectMalformed(path: "f", containing: "not an object of tensors (found an array)") {
            _ = try SafeTensors.decode(file(header: "[1, 2]"), path: "f")
        }
        expectMalformed(path: "f", containing: "__metadata__ value for 'k' is a number, expected a string") {
            _ = try SafeTensors.decode(file(header: #"{"__metadata__":{"k":3}}"#), path: "f")
        }
        expectMalformed(path: "f", containing: "tensor 'w': entry is a string") {
            _ = try SafeTensors.decode(file(header: #"{"w":"x"}"#), path: "f")
        }
    }

    @Test func dtypeErrorsNameTheDtype() throws {
        let data = [UInt8](repeating: 0, count: 8)
        expectMalformed(path: "f", containing: "tensor 'w': dtype F16 is not supported; only F32") {
            _ = try SafeTensors.decode(file(header: "{" + entry("w", dtype: "F16", offsets: "[0,4]") + "}", data: data), path: "f")
        }
        expectMalformed(path: "f", containing: "unknown dtype 'F33'") {
            _ = try SafeTensors.decode(file(header: "{" + entry("w", dtype: "F33") + "}", data: data), path: "f")
        }
    }

    @Test func shapeErrors() throws {
        let data = [UInt8](repeating: 0, count: 8)
        func decode(shape: String) throws { _ = try SafeTensors.decode(file(header: "{" + entry("w", shape: shape) + "}", data: data), path: "f") }
        expectMalformed(path: "f", containing: "shape entry 0 is -1, expected a non-negative integer") { try decode(shape: "[-1,2]") }
        expectMalformed(path: "f", containing: "shape entry 1 is 2.5") { try decode(shape: "[1,2.5]") }
        expectMalformed(path: "f", containing: "shape entry 0 is true") { try decode(shape: "[true,2]") }
        expectMalformed(path: "f", containing: "shape entry 1 is 18446744073709551615") { try decode(shape: "[1,18446744073709551615]") }
        expectMalformed(path: "f", containing: "more elements than an Int can count") { try decode(shape: "[4611686018427387904,4]") }
        expectMalformed(path: "f", containing: "needs more than Int.max bytes") { try decode(shape: "[4611686018427387904,1]") }
        expectMalformed(path: "f", containing: "shape has 9 dimensions") { try decode(shape: "[1,1,1,1,1,1,1,1,2]") }
        expectMalformed(path: "f", containing: "shape has 0 dimensions") { try decode(shape: "[]") }
        expectMalformed(path: "f", containing: "missing or non-array \"shape\"") { try decode(shape: "\"2\"") }
    }

    @Test func offsetErrorsGiveFileByteOffsets() throws {
        let data = [UInt8](repeating: 0, count: 16)
        func header(_ entries: [String]) -> String { "{" + entries.joined(separator: ",") + "}" }
        /// Where the data buffer starts in the file these entries make.
        func dataStart(_ entries: String...) -> Int { 8 + header(entries).utf8.count }
        func decode(_ entries: String...) throws {
            _ = try SafeTensors.decode(file(header: header(entries), data: data), path: "f")
        }
        let past = entry("a", offsets: "[16,24]")
        expectMalformed(path: "f", location: "byte \(dataStart(past) + 16)", containing: "run past the 16-byte data buffer") {
            try decode(past)
        }
        expectMalformed(path: "f", containing: "shape [1, 2] needs 8 bytes of F32 but data_offsets [0, 12] span 12") {
            try decode(entry("a", offsets: "[0,12]"))
        }
        expectMalformed(path: "f", containing: "\"data_offsets\" must be [begin, end] with 0 <= begin <= end, found [8, 0]") {
            try decode(entry("a", offsets: "[8,0]"))
        }
        // Two tensors sharing bytes 4..<8: the location is the second one's first byte.
        let (a, b) = (entry("a", offsets: "[0,8]"), entry("b", offsets: "[4,12]"))
        expectMalformed(path: "f", location: "byte \(dataStart(a, b) + 4)", containing: "tensor 'b' [4, 12] overlaps tensor 'a' [0, 8]") {
            try decode(a, b)
        }
        let (c, d) = (entry("c", offsets: "[4,12]"), entry("d", shape: "[1]", offsets: "[12,16]"))
        expectMalformed(path: "f", location: "byte \(dataStart(c, d))", containing: "data bytes 0..<4 belong to no tensor (next is 'c')") {
            try decode(c, d)
        }
        expectMalformed(path: "f", location: "byte \(dataStart(a) + 8)", containing: "8 bytes after the last tensor") {
            try decode(a)
        }
    }

    @Test func missingFileIsAnIOError() throws {
        try withTemporaryDirectory { dir in
            expectIO(path: dir + "/none.safetensors", containing: "expected a safetensors file") {
                _ = try SafeTensors.read(path: dir + "/none.safetensors")
            }
        }
    }
}

@Suite struct AtomicFileTests {
    /// Files in `dir` other than the ones named.
    private func leftovers(_ dir: String, except names: Set<String>) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir).filter { !names.contains($0) }
    }

    @Test func replacesTheFileAndLeavesNoTemporary() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/model.safetensors"
            try AtomicFile.write([1, 2, 3], to: path)
            try AtomicFile.write([4, 5], to: path)
            #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == [4, 5])
            #expect(try leftovers(dir, except: ["model.safetensors"]).isEmpty)
        }
    }

    @Test func failedWriteKeepsTheOldFileAndRemovesTheTemporary() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/model.safetensors"
            try SafeTensors.write(tensors: layer, to: path)
            let before = try Data(contentsOf: URL(fileURLWithPath: path))
            let big = Tensor(rows: 300, cols: 100, repeating: 1)  // 120 KB: more than one chunk
            var calls = 0
            let hook: @Sendable (Int) throws -> Void = { written in
                if written >= AtomicFile.chunkSize { throw BackpropError.io(path: path, message: "disk full (injected)") }
            }
            #expect(throws: BackpropError.io(path: path, message: "disk full (injected)")) {
                try AtomicFile.$afterWrite.withValue(hook) {
                    calls += 1
                    try SafeTensors.write(tensors: [("big", big)], to: path)
                }
            }
            #expect(calls == 1)
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
            #expect(try leftovers(dir, except: ["model.safetensors"]).isEmpty)
            #expect(try SafeTensors.read(path: path).tensors.count == 2)
        }
    }

    @Test func unwritableDestinationsAreIOErrors() throws {
        try withTemporaryDirectory { dir in
            expectIO(path: dir + "/missing/model.safetensors", containing: "cannot create a temporary file in \(dir)/missing") {
                try AtomicFile.write([1], to: dir + "/missing/model.safetensors")
            }
            // A directory in the way: the rename fails, and nothing is left behind.
            try FileManager.default.createDirectory(atPath: dir + "/taken", withIntermediateDirectories: false)
            try writeFile(dir + "/taken", "keep", [9])
            expectIO(path: dir + "/taken", containing: "cannot replace the file") { try AtomicFile.write([1], to: dir + "/taken") }
            #expect(try leftovers(dir, except: ["taken"]).isEmpty)
        }
    }
}
