import Foundation

/// Where tests put their files: one directory per test process,
/// `<temporary directory>/backprop-tests-<pid>-<random>`, removed when the process exits.
///
/// Tests must not leave files behind (the suite used to leave a few hundred directories and
/// files in /tmp per run). Swift Testing has no global teardown, so the removal is an
/// `atexit` handler, registered when the root is first used. A run that crashes or is killed
/// still leaves its one root directory behind; the next run leaves it alone (another run may
/// still be using it).
///
/// Tests/LayerAPITests/TestScratch.swift is a link to this file (a test target cannot see
/// another's files).
enum TestScratch {
    /// Created on first use: a `static let` is initialized once, thread-safely, though tests
    /// run in parallel. Creation errors surface in ``directory(_:)`` or at the first write.
    static let root: String = {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("backprop-tests-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        atexit { TestScratch.remove(TestScratch.root) }
        return url.path
    }()

    /// A fresh empty directory `<root>/<prefix>-<UUID>`.
    static func directory(_ prefix: String) throws -> String {
        let path = root + "/\(prefix)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A path no other caller gets, `<root>/<UUID>-<name>`, for a file the caller creates.
    static func file(_ name: String) -> String {
        root + "/\(UUID().uuidString)-\(name)"
    }

    /// Removes `path` and all below it, best effort: when that fails (a directory a test made
    /// read-only stops it, unless the tests run as root) every directory is made writable
    /// first and the removal tried once more.
    static func remove(_ path: String) {
        if (try? FileManager.default.removeItem(atPath: path)) != nil { return }
        makeWritable(path)
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Gives the owner full access to the directory `path` and every directory below it
    /// (symbolic links are not followed).
    private static func makeWritable(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else { return }
        chmod(path, 0o700)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
            makeWritable(path + "/" + name)
        }
    }
}
