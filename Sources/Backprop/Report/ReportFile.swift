#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Atomic file writes for reports: write a temporary file in the same directory, flush it to
/// disk, then rename it over the target, so a reader never sees a half-written report.
/// (Kept private to the report until the package has one shared helper for this.)
enum ReportFile {
    /// - Throws: ``BackpropError/io(path:message:)`` naming the failing call and the system's reason.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        // Same directory as the target, so rename(2) stays on one file system and is atomic.
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw failure(path, "cannot create \(temporary)") }
        var written = 0
        let ok = bytes.withUnsafeBytes { buffer -> Bool in
            while written < buffer.count {
                let n = write(fd, buffer.baseAddress! + written, buffer.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                written += n
            }
            return true
        }
        guard ok, fsync(fd) == 0 else {
            let error = failure(path, "cannot write \(temporary)")
            close(fd)
            unlink(temporary)
            throw error
        }
        guard close(fd) == 0 else {
            let error = failure(path, "cannot close \(temporary)")
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let error = failure(path, "cannot rename \(temporary) to it")
            unlink(temporary)
            throw error
        }
    }

    private static func failure(_ path: String, _ what: String) -> BackpropError {
        .io(path: path, message: "\(what): \(String(cString: strerror(errno)))")
    }
}
