#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The OpenBLAS entry points Backprop uses, resolved at run time with `dlopen`/`dlsym`.
///
/// Loading at run time (instead of linking) keeps OpenBLAS optional: `swift build` works and
/// every other backend runs on a machine without it; only the `openblas` backend is unavailable.
struct OpenBLASLibrary: @unchecked Sendable {
    // cblas_sgemm(order, transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc).
    // The enums are C ints and blasint is a 32-bit int in the LP64 build Debian ships.
    typealias SgemmFunction = @convention(c) (
        Int32, Int32, Int32, Int32, Int32, Int32,
        Float, UnsafePointer<Float>?, Int32,
        UnsafePointer<Float>?, Int32,
        Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    typealias SetThreadsFunction = @convention(c) (Int32) -> Void
    typealias GetThreadsFunction = @convention(c) () -> Int32
    typealias GetConfigFunction = @convention(c) () -> UnsafePointer<CChar>?

    /// CBLAS_ORDER and CBLAS_TRANSPOSE values from cblas.h.
    static let rowMajor: Int32 = 101
    static let noTranspose: Int32 = 111
    static let transpose: Int32 = 112

    /// The file that was loaded, as passed to `dlopen`.
    let path: String
    let sgemm: SgemmFunction
    let setNumThreads: SetThreadsFunction
    let getNumThreads: GetThreadsFunction
    /// OpenBLAS's build description, e.g. `OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64`.
    let config: String
}

/// Finds and opens OpenBLAS.
enum OpenBLASLoader {
    /// The file names tried in order when `BACKPROP_OPENBLAS_LIBRARY` is not set: the runtime
    /// package's soname first (libopenblas0), then the development symlink (libopenblas-dev).
    static let defaultCandidates = ["libopenblas.so.0", "libopenblas.so"]

    /// Appended to every reason the library cannot be used.
    static let installHint =
        "install it with `apt-get install libopenblas0` (or `libopenblas-dev`), or choose another backend"

    /// Opens OpenBLAS and resolves its entry points, or returns why it cannot be used.
    ///
    /// `BACKPROP_OPENBLAS_DISABLE=1` skips loading (to test the absent case on a machine that
    /// has OpenBLAS); `BACKPROP_OPENBLAS_LIBRARY` replaces the candidate file names with one path.
    /// The handle is never closed: the function pointers live as long as the process.
    static func load(environment: [String: String]) -> Result<OpenBLASLibrary, LoadFailure> {
        let disable = environment[ProcessEnvironment.openBLASDisableVariable] ?? ""
        if !disable.isEmpty && disable != "0" {
            return .failure(LoadFailure(
                "skipped because \(ProcessEnvironment.openBLASDisableVariable)=\(disable) (unset it to load OpenBLAS); "
                    + "where OpenBLAS is missing, \(installHint)"))
        }
        let override = environment[ProcessEnvironment.openBLASLibraryVariable] ?? ""
        let candidates = override.isEmpty ? defaultCandidates : [override]

        var errors: [String] = []
        for candidate in candidates {
            guard let handle = dlopen(candidate, RTLD_NOW | RTLD_LOCAL) else {
                errors.append(lastDynamicLinkerError(or: "\(candidate): cannot open"))
                continue
            }
            return resolve(handle: handle, path: candidate)
        }
        return .failure(LoadFailure(
            "OpenBLAS not found (\(errors.joined(separator: "; "))); \(installHint)"))
    }

    private static func resolve(handle: UnsafeMutableRawPointer, path: String)
        -> Result<OpenBLASLibrary, LoadFailure>
    {
        func symbol<F>(_ name: String, as type: F.Type) -> F? {
            guard let address = dlsym(handle, name) else { return nil }
            return unsafeBitCast(address, to: type)
        }
        guard let sgemm = symbol("cblas_sgemm", as: OpenBLASLibrary.SgemmFunction.self),
              let setThreads = symbol("openblas_set_num_threads", as: OpenBLASLibrary.SetThreadsFunction.self),
              let getThreads = symbol("openblas_get_num_threads", as: OpenBLASLibrary.GetThreadsFunction.self),
              let getConfig = symbol("openblas_get_config", as: OpenBLASLibrary.GetConfigFunction.self)
        else {
            return .failure(LoadFailure(
                "\(path) is not OpenBLAS (cblas_sgemm or openblas_* entry points are missing); \(installHint)"))
        }
        let config = getConfig().map { String(cString: $0) } ?? "OpenBLAS (unknown version)"
        // A 64-bit-integer build (libopenblas64) takes 64-bit sizes: calling it with the
        // 32-bit signature above would pass garbage, so refuse it.
        if config.contains("USE64BITINT") {
            return .failure(LoadFailure(
                "\(path) is a 64-bit-integer build (\(config)), which Backprop does not call; \(installHint)"))
        }
        return .success(OpenBLASLibrary(
            path: path, sgemm: sgemm, setNumThreads: setThreads, getNumThreads: getThreads, config: config))
    }

    private static func lastDynamicLinkerError(or fallback: String) -> String {
        guard let message = dlerror() else { return fallback }
        return String(cString: message)
    }

    /// Why OpenBLAS cannot be used, as one line that ends with how to fix it.
    struct LoadFailure: Error, Equatable {
        let reason: String
        init(_ reason: String) { self.reason = reason }
    }
}
