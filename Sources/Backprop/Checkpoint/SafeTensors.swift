import Foundation

/// Reads and writes the safetensors format (https://github.com/huggingface/safetensors), so
/// checkpoints open in PyTorch, NumPy and JAX and vice versa.
///
/// Layout: an 8-byte little-endian length N, N bytes of JSON header (space-padded), then the
/// data buffer. The header maps each tensor name to
/// `{"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}` (offsets into the data
/// buffer) plus an optional `"__metadata__"` object of string values. Only F32 is supported.
public enum SafeTensors {
    /// The loaded tensors by name, each with its shape as stored in the file.
    public typealias Tensors = [String: (shape: [Int], tensor: Tensor)]

    /// Writes `tensors` in the given order, atomically (see ``AtomicFile``).
    /// - Parameters:
    ///   - tensors: the tensors to store, by name, in file order.
    ///   - shapes: per-name shape to record instead of `[rows, cols]`, e.g. `[n]` for a
    ///     (1, n) bias as PyTorch stores it; it must have the same number of elements.
    ///   - metadata: free-form string pairs stored under `__metadata__`.
    ///   - path: the file to write (replaced atomically).
    /// - Throws: ``BackpropError/invalidArgument(_:)`` for empty, duplicate or reserved names
    ///   and shape overrides that do not fit; ``BackpropError/io(path:message:)`` when the
    ///   file cannot be written (an existing file is then left untouched).
    public static func write(tensors: [(name: String, tensor: Tensor)], shapes: [String: [Int]] = [:],
                             metadata: [String: String] = [:], to path: String) throws {
        try AtomicFile.write(encode(tensors: tensors, shapes: shapes, metadata: metadata), to: path)
    }

    /// The bytes ``write(tensors:shapes:metadata:to:)`` puts in the file. The header lists
    /// `__metadata__` first (keys sorted), then the tensors in the given order, without spaces,
    /// padded with spaces so the data buffer starts at a multiple of 8.
    public static func encode(tensors: [(name: String, tensor: Tensor)], shapes: [String: [Int]] = [:],
                              metadata: [String: String] = [:]) throws -> [UInt8] {
        var seen = Set<String>()
        var entries = [String]()
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(JSONText.stringLiteral($0)):\(JSONText.stringLiteral(metadata[$0]!))" }
            entries.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
        }
        var offset = 0
        for (name, tensor) in tensors {
            guard !name.isEmpty, name != "__metadata__" else {
                throw BackpropError.invalidArgument("'\(name)' cannot be a tensor name in a safetensors file")
            }
            guard seen.insert(name).inserted else {
                throw BackpropError.invalidArgument("tensor name '\(name)' appears twice")
            }
            let shape = shapes[name] ?? tensor.shape
            // Multiply with overflow checks: the shape comes from the caller.
            guard CheckedSize.product(shape) == tensor.count else {
                throw BackpropError.invalidArgument(
                    "shape \(shape) for tensor '\(name)' does not hold its \(tensor.rows)×\(tensor.cols) values")
            }
            let end = offset + 4 * tensor.count
            entries.append(JSONText.stringLiteral(name) + ":{\"dtype\":\"F32\",\"shape\":["
                + shape.map(String.init).joined(separator: ",") + "],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }

        var bytes = [UInt8]()
        bytes.reserveCapacity(8 + header.count + offset)
        appendLittleEndian(UInt64(header.count), to: &bytes)
        bytes += header
        for (_, tensor) in tensors {
            #if _endian(little)
            bytes.append(contentsOf: UnsafeRawBufferPointer(start: tensor.data, count: 4 * tensor.count))
            #else
            for i in 0..<tensor.count { appendLittleEndian(tensor.data[i].bitPattern, to: &bytes) }
            #endif
        }
        return bytes
    }

    /// Reads a safetensors file. Each tensor loads with its stored shape (1 to 8 dimensions; a
    /// 1-D `[n]` is the (1, n) matrix in the 2-D view); the stored shape is returned alongside.
    /// - Throws: ``BackpropError/io(path:message:)`` when the file cannot be read and
    ///   ``BackpropError/malformedFile(path:location:message:)`` (with the byte offset where
    ///   there is one) for anything the file gets wrong.
    public static func read(path: String) throws -> (tensors: Tensors, metadata: [String: String]) {
        try decode(readFileBytes(path: path, expected: "a safetensors file"), path: path)
    }

    /// Parses safetensors bytes; `path` only labels errors.
    public static func decode(_ bytes: [UInt8], path: String) throws -> (tensors: Tensors, metadata: [String: String]) {
        func fail(_ location: String, _ message: String) -> BackpropError {
            .malformedFile(path: path, location: location, message: message)
        }
        guard bytes.count >= 8 else {
            throw fail("byte 0", "file is \(bytes.count) bytes, shorter than the 8-byte header length")
        }
        let declared = bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        // Compare as UInt64 before converting: a forged length like 2^63 must not trap or allocate.
        guard declared <= UInt64(bytes.count - 8) else {
            throw fail("byte 0", "header length \(declared) runs past the end of the file "
                + "(only \(bytes.count - 8) bytes follow the 8-byte length)")
        }
        let headerEnd = 8 + Int(declared)
        let headerLocation = "header (bytes 8..<\(headerEnd))"
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd]))
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
            throw fail(headerLocation, "header is not valid JSON" + (detail.map { ": " + $0 } ?? ""))
        }
        guard let object = root as? [String: Any] else {
            throw fail(headerLocation, "header is JSON but not an object of tensors (found \(jsonKind(root)))")
        }

        var metadata = [String: String]()
        if let raw = object["__metadata__"] {
            guard let pairs = raw as? [String: Any] else {
                throw fail(headerLocation, "__metadata__ is \(jsonKind(raw)), expected an object of strings")
            }
            for (key, value) in pairs {
                guard let text = value as? String else {
                    throw fail(headerLocation, "__metadata__ value for '\(key)' is \(jsonKind(value)), expected a string")
                }
                metadata[key] = text
            }
        }

        let dataStart = headerEnd
        let dataSize = bytes.count - dataStart
        var spans = [(name: String, begin: Int, end: Int, shape: [Int])]()
        for name in object.keys.sorted() where name != "__metadata__" {
            // ``encode`` refuses an empty name (no parameter is called ""), so decoding does too:
            // every file this reads, it can write back.
            guard !name.isEmpty else { throw fail(headerLocation, "a tensor has the empty name \"\"") }
            let entry = try TensorEntry(name: name, json: object[name]!, location: headerLocation, path: path)
            guard entry.end <= dataSize else {
                throw fail("byte \(dataStart + min(entry.begin, dataSize))",
                           "tensor '\(name)' data_offsets [\(entry.begin), \(entry.end)] run past the "
                           + "\(dataSize)-byte data buffer (which starts at byte \(dataStart))")
            }
            spans.append((name, entry.begin, entry.end, entry.shape))
        }
        // Like the reference implementation, require the tensors to tile the buffer exactly:
        // overlaps mean shared or corrupt data, gaps mean a truncated or misedited header.
        spans.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var covered = 0
        for (i, span) in spans.enumerated() {
            if span.begin < covered {
                throw fail("byte \(dataStart + span.begin)",
                           "tensor '\(span.name)' [\(span.begin), \(span.end)] overlaps tensor '\(spans[i - 1].name)' "
                           + "[\(spans[i - 1].begin), \(spans[i - 1].end)] in the data buffer")
            }
            if span.begin > covered {
                throw fail("byte \(dataStart + covered)",
                           "data bytes \(covered)..<\(span.begin) belong to no tensor (next is '\(span.name)')")
            }
            covered = span.end
        }
        if covered < dataSize {
            throw fail("byte \(dataStart + covered)",
                       "\(dataSize - covered) bytes after the last tensor's data belong to no tensor")
        }

        var tensors = Tensors()
        for span in spans {
            let tensor = Tensor(shape: span.shape)
            bytes.withUnsafeBytes { raw in
                let base = dataStart + span.begin
                #if _endian(little)
                UnsafeMutableRawPointer(tensor.data).copyMemory(from: raw.baseAddress! + base, byteCount: 4 * tensor.count)
                #else
                for i in 0..<tensor.count {
                    let bits = raw.loadUnaligned(fromByteOffset: base + 4 * i, as: UInt32.self)
                    tensor.data[i] = Float(bitPattern: UInt32(littleEndian: bits))
                }
                #endif
            }
            tensors[span.name] = (span.shape, tensor)
        }
        return (tensors, metadata)
    }
}

/// One tensor's header entry, validated: F32, 1-D or 2-D, offsets that match the shape.
private struct TensorEntry {
    let shape: [Int]
    let begin: Int
    let end: Int

    /// dtypes the format defines; anything else is a typo or a newer format version.
    static let knownDtypes: Set<String> = [
        "BOOL", "U8", "I8", "U16", "I16", "F16", "BF16", "U32", "I32", "F32", "U64", "I64", "F64",
        "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4", "C64",
    ]

    init(name: String, json: Any, location: String, path: String) throws {
        func fail(_ message: String) -> BackpropError {
            .malformedFile(path: path, location: location, message: "tensor '\(name)': " + message)
        }
        guard let fields = json as? [String: Any] else {
            throw fail("entry is \(jsonKind(json)), expected an object with dtype, shape and data_offsets")
        }
        guard let dtype = fields["dtype"] as? String else {
            throw fail("missing or non-string \"dtype\"")
        }
        guard dtype == "F32" else {
            throw fail(Self.knownDtypes.contains(dtype)
                ? "dtype \(dtype) is not supported; only F32 tensors can be loaded (convert with .float())"
                : "unknown dtype '\(dtype)'; only F32 is supported")
        }
        guard let shapeJSON = fields["shape"] as? [Any] else { throw fail("missing or non-array \"shape\"") }
        var shape = [Int]()
        var elements = 1
        for (i, value) in shapeJSON.enumerated() {
            guard let size = jsonInteger(value), size >= 0 else {
                throw fail("shape entry \(i) is \(jsonDescription(value)), expected a non-negative integer")
            }
            guard let product = CheckedSize.product([elements, size]) else {
                throw fail("shape \(shapeJSON.map(jsonDescription)) has more elements than an Int can count")
            }
            shape.append(size)
            elements = product
        }
        guard (1...8).contains(shape.count) else {
            throw fail("shape has \(shape.count) dimensions; tensors of 1 to 8 dimensions are supported")
        }
        guard let offsets = fields["data_offsets"] as? [Any], offsets.count == 2,
              let begin = jsonInteger(offsets[0]), let end = jsonInteger(offsets[1]), begin >= 0, begin <= end
        else {
            throw fail("\"data_offsets\" must be [begin, end] with 0 <= begin <= end, found "
                + jsonDescription(fields["data_offsets"] ?? NSNull()))
        }
        let bytes = CheckedSize.product([elements, 4])
        guard let bytes, end - begin == bytes else {
            throw fail("shape \(shape) needs \(bytes.map(String.init) ?? "more than Int.max") bytes of F32 "
                + "but data_offsets [\(begin), \(end)] span \(end - begin)")
        }
        self.shape = shape
        self.begin = begin
        self.end = end
    }
}

/// An `Int` from a JSON integer; nil for floats, booleans, and integers beyond `Int`.
private func jsonInteger(_ value: Any) -> Int? {
    guard let number = value as? NSNumber, !(value is String) else { return nil }
    // JSONSerialization boxes true/false as char ("c") and fractions as double ("d").
    let type = String(cString: number.objCType)
    guard type != "c", type != "d", type != "f" else { return nil }
    return value as? Int
}

/// "an array", "a string", ... for messages about the wrong kind of JSON value.
private func jsonKind(_ value: Any) -> String {
    switch value {
    case is [String: Any]: "an object"
    case is [Any]: "an array"
    case is String: "a string"
    case is NSNull: "null"
    case let n as NSNumber: String(cString: n.objCType) == "c" ? "a boolean" : "a number"
    default: "\(type(of: value))"
    }
}

/// A short rendering of a JSON value for messages.
private func jsonDescription(_ value: Any) -> String {
    switch value {
    case let s as String: "\"\(s)\""
    case let n as NSNumber: String(cString: n.objCType) == "c" ? (n.boolValue ? "true" : "false") : "\(n)"
    case is NSNull: "null"
    case let a as [Any]: "[" + a.map(jsonDescription).joined(separator: ", ") + "]"
    default: jsonKind(value)
    }
}

private func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
    var v = value.littleEndian
    withUnsafeBytes(of: &v) { bytes.append(contentsOf: $0) }
}
