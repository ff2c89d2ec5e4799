#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Backprop

/// The backend for `--backend` / `--threads`: the flag, else `BACKPROP_BACKEND` /
/// `BACKPROP_NUM_THREADS`, else the default. The one place the CLI chooses a backend.
func resolveBackend(name: String?, threads: Int?) throws -> any Backend {
    let environment = processEnvironment()
    let chosen = name ?? environment["BACKPROP_BACKEND"].flatMap { $0.isEmpty ? nil : $0 } ?? "swift"
    if let threads, threads < 1 {
        throw BackpropError.invalidArgument("threads must be at least 1, got \(threads)")
    }
    if threads == nil, let raw = environment["BACKPROP_NUM_THREADS"], !raw.isEmpty, (Int(raw) ?? 0) < 1 {
        throw BackpropError.invalidArgument(
            "BACKPROP_NUM_THREADS='\(raw)' is not a positive integer; set it to a thread count such as 2, or unset it")
    }
    guard chosen == "swift" else {
        throw BackpropError.unknownBackend(name: chosen, known: ["swift"])
    }
    return SwiftBackend()
}

/// The threads a backend runs on, for reports: read from its detail line ("..., 4 threads"),
/// 1 when it does not say.
func threadCount(of backend: any Backend) -> Int {
    let words = backend.detail.split(whereSeparator: { $0 == " " || $0 == "," })
    for (i, word) in words.enumerated() where word.hasPrefix("thread") && i > 0 {
        if let n = Int(words[i - 1]) { return n }
    }
    return 1
}

/// The process environment as a dictionary.
func processEnvironment() -> [String: String] {
    var result = [String: String]()
    var entry = environ
    while let pointer = entry.pointee {
        let text = String(cString: pointer)
        if let eq = text.firstIndex(of: "=") {
            result[String(text[..<eq])] = String(text[text.index(after: eq)...])
        }
        entry += 1
    }
    return result
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
