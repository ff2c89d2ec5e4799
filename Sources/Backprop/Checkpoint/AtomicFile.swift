#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files so that readers see either the old file or the complete new one, never a
/// half-written mix, even if the process dies or the disk fills up mid-write.
///
/// The bytes go to a uniquely named temporary file in the same directory (a rename is only
/// atomic within one file system), which is flushed with `fsync` and then renamed over the
/// destination; the directory is synced too, so the rename survives a crash.
public enum AtomicFile {
    /// Called after each chunk with the number of bytes written so far; throwing aborts the
    /// write. Tests set it with `$afterWrite.withValue` to simulate a failing disk; task-local,
    /// so concurrent tests do not see each other's hooks.
    @TaskLocal static var afterWrite: (@Sendable (Int) throws -> Void)?

    /// Bytes per write(2) call; small enough that the fault hook can stop a write midway.
    static let chunkSize = 1 << 16

    /// Atomically replaces (or creates) the file at `path` with `bytes`.
    /// - Throws: ``BackpropError/io(path:message:)`` on any failure; the temporary file is then
    ///   removed and an existing file at `path` is left untouched.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try checkReplaceable(path)
        let directory = parentDirectory(of: path)
        let (fd, temporary) = try createTemporary(near: path)
        var isOpen = true
        do {
            try writeAll(bytes, to: fd, path: temporary)
            guard fsync(fd) == 0 else {
                throw BackpropError.io(path: temporary, message: "fsync failed (\(errnoText()))")
            }
            isOpen = false
            guard close(fd) == 0 else {
                throw BackpropError.io(path: temporary, message: "close failed (\(errnoText()))")
            }
            try checkReplaceable(path)
            guard rename(temporary, path) == 0 else {
                throw BackpropError.io(path: path, message: "cannot replace the file (\(errnoText()))")
            }
        } catch {
            // Close only once: another thread may already own a reused descriptor number.
            if isOpen { close(fd) }
            unlink(temporary)
            throw error
        }
        // Persist the rename itself; failure here does not undo the (already visible) write.
        let dirFD = open(directory, O_RDONLY)
        if dirFD >= 0 { fsync(dirFD); close(dirFD) }
    }

    /// The rename replaces whatever `path` names, so only a regular file (or nothing) may be
    /// there: never a directory, a device such as `/dev/null`, a pipe or socket, or a symbolic
    /// link (the rename would replace the link itself, not write through it).
    /// - Throws: ``BackpropError/io(path:message:)`` naming what is there.
    public static func checkReplaceable(_ path: String) throws {
        guard !path.isEmpty else { throw BackpropError.io(path: path, message: "the output path is empty") }
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        let kind: String
        switch info.st_mode & S_IFMT {
        case S_IFREG: return
        case S_IFDIR: kind = "a directory"
        case S_IFLNK: kind = "a symbolic link (give the file it points to)"
        case S_IFCHR, S_IFBLK: kind = "a device"
        default: kind = "not a regular file"
        }
        throw BackpropError.io(path: path, message: "cannot replace the file: it is \(kind); only a regular file is replaced by a save")
    }

    private static func writeAll(_ bytes: [UInt8], to fd: Int32, path: String) throws {
        try bytes.withUnsafeBytes { buffer in
            var written = 0
            while written < buffer.count {
                let n = posixWrite(fd, buffer.baseAddress! + written, min(chunkSize, buffer.count - written))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw BackpropError.io(path: path, message: "write failed after \(written) bytes (\(errnoText()))")
                }
                written += n
                try afterWrite?(written)
            }
        }
    }

    /// Opens a new file named `.<name>.tmp-<pid>-<random>` next to `path`.
    private static func createTemporary(near path: String) throws -> (Int32, String) {
        let directory = parentDirectory(of: path)
        let slash = path.lastIndex(of: "/")
        let prefix = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        var random = SystemRandomNumberGenerator()
        for _ in 0..<8 {
            let candidate = prefix + ".\(name).tmp-\(getpid())-\(String(random.next() & 0xFFFF_FFFF, radix: 16))"
            let fd = open(candidate, O_WRONLY | O_CREAT | O_EXCL, 0o644)
            if fd >= 0 { return (fd, candidate) }
            if errno != EEXIST {
                throw BackpropError.io(
                    path: path, message: "cannot create a temporary file in \(directory) (\(errnoText()))")
            }
        }
        throw BackpropError.io(path: path, message: "cannot find an unused temporary file name in \(directory)")
    }

    /// The directory part of `path` ("." when there is none).
    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

/// write(2), reachable under another name inside `AtomicFile`, whose `write` shadows it.
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
