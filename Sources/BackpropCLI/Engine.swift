#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Backprop

/// The backend for `--backend` / `--threads`: the flag, else `BACKPROP_BACKEND` /
/// `BACKPROP_NUM_THREADS`, else the fastest available. The one place the CLI chooses a backend.
func resolveBackend(name: String?, threads: Int?) throws -> any Backend {
    try checkEngineEnvironment()
    if let name { return try BackendRegistry.make(name: name, threads: threads) }
    return try BackendRegistry.default(threads: threads)
}

/// Whether `path` names a directory.
func isDirectory(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
}

/// `path` made absolute against the current directory, so a checkpoint's settings still find
/// the data when a run is resumed from elsewhere.
func absolutePath(_ path: String) -> String {
    guard !path.hasPrefix("/") else { return path }
    guard let cwd = getcwd(nil, 0) else { return path }
    defer { free(cwd) }
    return String(cString: cwd) + "/" + path
}

/// The directory part of `path` ("." when there is none).
func parentDirectory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
}
