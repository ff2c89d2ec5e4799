#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Backprop

/// A file the command reads or writes, named by the option that gave it.
struct NamedPath {
    var option: String
    var path: String
}

/// Checks, before any work, that every output can be written where it is asked to go, so a
/// long run never ends in "cannot write" with its result lost, and that no output replaces an
/// input or another output.
///
/// Each output must be non-empty; name a regular file or nothing (not a directory, device,
/// pipe or symbolic link: the atomic rename would replace it); lie in an existing directory
/// where a file with the temporary name the save will use can be created (this catches
/// read-only places and names within NAME_MAX whose temporary name is not). Files are compared
/// by device and inode where they exist, else by directory and name.
/// - Parameters:
///   - outputs: the files to write.
///   - inputs: the files read.
///   - allowed: one output option that may replace one input option: `--save` over the
///     `--resume` checkpoint, which a resumed run saves in place.
/// - Throws: ``CLIError`` naming the option and the path.
func checkOutputs(_ outputs: [NamedPath], inputs: [NamedPath], allowed: (output: String, input: String)? = nil) throws {
    var seen = [(NamedPath, FileIdentity)]()
    for input in inputs {
        if let id = FileIdentity(input.path) { seen.append((input, id)) }
    }
    for output in outputs {
        guard !output.path.isEmpty else { throw CLIError("\(output.option): the path is empty") }
        do {
            try AtomicFile.checkReplaceable(output.path)
        } catch let error as BackpropError {
            throw CLIError("\(output.option) \(error.description)")
        }
        try probeDirectory(for: output)
        guard let id = FileIdentity(output.path) else { continue }
        for (other, otherID) in seen where otherID == id {
            if let allowed, allowed == (output.option, other.option) { continue }
            throw CLIError("\(output.option) \(printable(output.path, limit: 200)) is the same file as \(other.option) "
                + "\(printable(other.path, limit: 200)); give each output its own file, apart from the inputs")
        }
        seen.append((output, id))
    }
}

/// Creates and removes a file with the longest name ``AtomicFile`` will use for `output`'s
/// temporary file, so a read-only directory or a name too long for NAME_MAX fails now.
private func probeDirectory(for output: NamedPath) throws {
    let path = output.path
    let directory = parentDirectory(of: path)
    var info = stat()
    guard stat(directory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
        throw CLIError("cannot write \(printable(path, limit: 200)) (\(output.option)): the directory \(printable(directory, limit: 200)) does not exist")
    }
    let slash = path.lastIndex(of: "/")
    let prefix = slash.map { String(path[...$0]) } ?? ""
    let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
    let probe = prefix + ".\(name).tmp-\(getpid())-probe000"
    let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0o600)
    if fd >= 0 {
        close(fd)
        unlink(probe)
        return
    }
    let reason = errno
    if reason == EEXIST { return }
    if reason == ENAMETOOLONG {
        throw CLIError("\(output.option) \(printable(path, limit: 200)): the name is too long; saving writes a temporary file "
            + "named '.<name>.tmp-<pid>-<random>' (\(probe.utf8.count - prefix.utf8.count) bytes here) next to it, "
            + "and this file system allows \(pathconf(directory, Int32(_PC_NAME_MAX))); use a shorter name")
    }
    throw CLIError("cannot write \(printable(path, limit: 200)) (\(output.option)): cannot create files in \(printable(directory, limit: 200)) "
        + "(\(String(cString: strerror(reason))))")
}

/// A file's identity: device and inode if it exists, else its directory's and its name.
struct FileIdentity: Equatable {
    var device: UInt64
    var inode: UInt64
    var name: String?

    init?(_ path: String) {
        var info = stat()
        if stat(path, &info) == 0 {
            (device, inode, name) = (UInt64(info.st_dev), UInt64(info.st_ino), nil)
            return
        }
        guard stat(parentDirectory(of: path), &info) == 0 else { return nil }
        let name = path.split(separator: "/").last.map(String.init) ?? path
        (device, inode, self.name) = (UInt64(info.st_dev), UInt64(info.st_ino), name)
    }
}
