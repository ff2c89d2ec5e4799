import CZlib

/// Reads a file and, when it starts with the gzip magic bytes `1f 8b`, inflates it with zlib.
///
/// A file whose name ends in `.gz` must be gzip data; anything else is returned as it is, so
/// callers accept `train-images-idx3-ubyte` and `train-images-idx3-ubyte.gz` alike.
/// Concatenated gzip members (as `cat a.gz b.gz` makes) are inflated one after another.
/// - Throws: ``BackpropError/io(path:message:)`` for a missing, unreadable or empty file and
///   ``BackpropError/malformedFile(path:location:message:)`` for corrupt or truncated gzip data,
///   with the byte offset in the compressed file.
public func readFileMaybeGzip(path: String, expected: String = "a data file") throws -> [UInt8] {
    let raw = try readFileBytes(path: path, expected: expected)
    if isGzip(raw) { return try gunzip(raw, path: path) }
    if path.hasSuffix(".gz") {
        let found = raw.prefix(2).map { hexByte($0) }.joined(separator: " ")
        throw BackpropError.malformedFile(
            path: path, location: "byte 0",
            message: "not gzip data although the name ends in .gz (expected the magic bytes 1f 8b, found \(found))")
    }
    return raw
}

/// Whether `bytes` starts with the gzip magic number.
func isGzip(_ bytes: [UInt8]) -> Bool {
    bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
}

/// Inflates gzip data. `path` only labels errors. The output is capped twice, and inflation
/// stops with an error as soon as either cap is passed (never an out-of-memory abort):
/// - at `limit` bytes (by default ``MemoryLimits/fileBytes``, what a plain file may hold): a
///   gzip bomb;
/// - at the size the gzip trailers declare (`GzipDeclaredSizes`): a member whose data runs
///   past its ISIZE field is corrupt or forged, and is refused then, not after inflating it all.
func gunzip(_ input: [UInt8], path: String, limit: Int = MemoryLimits.fileBytes) throws -> [UInt8] {
    // zlib counts input in 32-bit units; datasets this large are out of scope.
    guard input.count <= Int(UInt32.max) else {
        throw BackpropError.io(path: path, message: "gzip file larger than 4 GiB; decompress it first")
    }
    var output = [UInt8]()
    // The gzip trailer's last four bytes hold the uncompressed size mod 2^32: a good first
    // guess for one member, capped so a forged trailer cannot force a huge reservation.
    if input.count >= 4 {
        let n = input.suffix(4).reversed().reduce(0) { $0 << 8 | Int($1) }
        output.reserveCapacity(min(n, input.count * 16 + 1024, limit))
    }
    var stream = z_stream()
    // windowBits 15 + 16: the full 32 KiB window, gzip header and trailer expected.
    guard inflateInit2_(&stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
        throw BackpropError.io(path: path, message: "zlib could not start inflating (out of memory?)")
    }
    defer { inflateEnd(&stream) }
    let declared = GzipDeclaredSizes(input, limit: limit)

    let chunk = 1 << 16
    var out = [UInt8](repeating: 0, count: chunk)
    try input.withUnsafeBufferPointer { inBuffer in
        stream.next_in = UnsafeMutablePointer(mutating: inBuffer.baseAddress)
        stream.avail_in = UInt32(clamping: inBuffer.count)
        while true {
            let status = out.withUnsafeMutableBufferPointer { outBuffer -> Int32 in
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = UInt32(chunk)
                return inflate(&stream, Z_NO_FLUSH)
            }
            let produced = chunk - Int(stream.avail_out)
            let consumed = inBuffer.count - Int(stream.avail_in)
            // stream.total_out: this member's bytes so far (inflateReset zeroes it).
            let declaredCap = declared.cap(forMemberReadUpTo: consumed)
            guard Int(clamping: stream.total_out) <= declaredCap else {
                throw BackpropError.malformedFile(
                    path: path, location: "byte \(consumed)",
                    message: "gzip data inflates past the \(declaredCap) bytes its trailer declares "
                        + "(ISIZE, the size mod 2^32), so the file is corrupt or forged; download it again")
            }
            guard output.count <= limit - produced else {
                throw BackpropError.malformedFile(
                    path: path, location: "byte \(inBuffer.count - Int(stream.avail_in))",
                    message: "gzip data inflates to more than \(limit) bytes (\(MemoryLimits.fileBytesReason)) "
                        + "from \(inBuffer.count) compressed bytes; refused as a possible gzip bomb")
            }
            output.append(contentsOf: out[0..<produced])
            switch status {
            case Z_OK:
                continue
            case Z_STREAM_END:
                let rest = Int(stream.avail_in)
                if rest == 0 { return }
                let next = inBuffer.count - rest
                guard rest >= 2, inBuffer[next] == 0x1f, inBuffer[next + 1] == 0x8b else {
                    throw BackpropError.malformedFile(
                        path: path, location: "byte \(next)",
                        message: "\(rest) bytes of trailing data after the end of the gzip stream")
                }
                inflateReset(&stream)
            case Z_BUF_ERROR where stream.avail_in == 0:
                throw BackpropError.malformedFile(
                    path: path, location: "byte \(inBuffer.count)",
                    message: "truncated gzip data: the stream ends before its end marker "
                        + "(\(output.count) bytes inflated so far); download the file again")
            default:
                let reason = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                let at = inBuffer.count - Int(stream.avail_in)
                throw BackpropError.malformedFile(
                    path: path, location: "byte \(at)", message: "corrupt gzip data (detected here): \(reason)")
            }
        }
    }
    return output
}

/// The sizes a gzip file's trailers declare, as a cap on each member's inflated size.
///
/// Every member ends with ISIZE, its inflated size mod 2^32 (little-endian, the last four
/// bytes), and a next member starts right after with `1f 8b 08`. Where a member ends is known
/// only once it is inflated, so the cap of the member being read is the largest ISIZE among the
/// places it could end: the end of the file and every `1f 8b 08` still ahead (each read from
/// the four bytes before it). Its real end is one of them, so a valid file is never refused;
/// a one-member file (what `gzip` writes) is held to exactly its ISIZE. A declared size d
/// stands for d + k·2^32 for any k, so the cap is the largest such value within `limit`.
struct GzipDeclaredSizes {
    /// Offsets of the possible member starts after the first (`1f 8b 08`), ascending.
    private let starts: [Int]
    /// `capFrom[i]`: the largest declared size among starts[i...] and the end of the file.
    private let capFrom: [Int]
    private let limit: Int

    init(_ input: [UInt8], limit: Int) {
        self.limit = limit
        var starts = [Int]()
        if input.count >= 7 {
            for i in 4..<(input.count - 2) where input[i] == 0x1f && input[i + 1] == 0x8b && input[i + 2] == 8 {
                starts.append(i)
            }
        }
        func isize(endingAt end: Int) -> Int {
            (1...4).reduce(0) { $0 << 8 | Int(input[end - $1]) }
        }
        var capFrom = [Int](repeating: 0, count: starts.count + 1)
        capFrom[starts.count] = input.count >= 4 ? isize(endingAt: input.count) : 0
        for i in stride(from: starts.count - 1, through: 0, by: -1) {
            capFrom[i] = max(capFrom[i + 1], isize(endingAt: starts[i]))
        }
        self.starts = starts
        self.capFrom = capFrom.map { GzipDeclaredSizes.widened($0, limit: limit) }
    }

    /// The most bytes the member being inflated may produce, once `consumed` compressed bytes
    /// are read: its end is at or after `consumed`.
    func cap(forMemberReadUpTo consumed: Int) -> Int {
        var low = 0, high = starts.count  // the first start at or after `consumed`
        while low < high {
            let mid = (low + high) / 2
            if starts[mid] < consumed { low = mid + 1 } else { high = mid }
        }
        return capFrom[low]
    }

    /// The largest d + k·2^32 (k ≥ 0) within `limit`, or d when even that passes it.
    private static func widened(_ declared: Int, limit: Int) -> Int {
        let wrap = 1 << 32
        guard declared < limit, limit - declared >= wrap else { return declared }
        return declared + (limit - declared) / wrap * wrap
    }
}

private func hexByte(_ b: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
}
