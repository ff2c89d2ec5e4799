#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a whole regular file into memory.
///
/// `expected` says what the caller wanted ("an MNIST image file", "a safetensors checkpoint")
/// and goes into the error, so a user who passed the wrong path sees what to pass instead.
/// A file larger than `limit` (by default ``MemoryLimits/fileBytes``) is refused before it is
/// read when its size is known, and as soon as `limit` bytes have been read otherwise (a pipe);
/// devices (`/dev/zero`, `/dev/urandom`) are refused outright, since they never end.
/// - Throws: ``BackpropError/io(path:message:)`` when the file is missing, a directory, a
///   device, larger than `limit`, unreadable or empty.
func readFileBytes(path: String, expected: String, limit: Int = MemoryLimits.fileBytes) throws -> [UInt8] {
    var info = stat()
    guard stat(path, &info) == 0 else {
        throw BackpropError.io(path: path, message: "cannot open (\(errnoText())); expected \(expected)")
    }
    if (info.st_mode & S_IFMT) == S_IFDIR {
        throw BackpropError.io(path: path, message: "is a directory; expected \(expected)")
    }
    let kind = info.st_mode & S_IFMT
    if kind == S_IFCHR || kind == S_IFBLK {
        throw BackpropError.io(path: path, message: "is a device, not a regular file; expected \(expected)")
    }
    if kind == S_IFREG, Int(info.st_size) > limit {
        throw BackpropError.io(path: path, message: "file is \(info.st_size) bytes, more than the \(limit) "
            + "bytes (\(MemoryLimits.fileBytesReason)) a file may hold; expected \(expected)")
    }
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else {
        throw BackpropError.io(path: path, message: "cannot open (\(errnoText())); expected \(expected)")
    }
    defer { close(fd) }
    // st_size is a hint only: a file can change size while we read it, so read until EOF.
    var bytes = [UInt8]()
    bytes.reserveCapacity(min(max(Int(info.st_size), 0), limit))
    let chunk = 1 << 20
    var buffer = [UInt8](repeating: 0, count: chunk)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, chunk) }
        if n < 0 {
            if errno == EINTR { continue }
            throw BackpropError.io(path: path, message: "read failed after \(bytes.count) bytes (\(errnoText()))")
        }
        if n == 0 { break }
        guard bytes.count <= limit - n else {
            throw BackpropError.io(path: path, message: "more than \(limit) bytes (\(MemoryLimits.fileBytesReason))"
                + " and still going; expected \(expected)")
        }
        bytes.append(contentsOf: buffer[0..<n])
    }
    guard !bytes.isEmpty else {
        throw BackpropError.io(path: path, message: "file is empty; expected \(expected)")
    }
    return bytes
}

/// The current `errno` as text, e.g. "No such file or directory".
func errnoText() -> String {
    String(cString: strerror(errno))
}

/// Whether `path` names an existing file or directory.
func fileExists(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0
}
