#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The environment variables that choose and configure backends.
///
/// Every function that reads the environment takes it as a dictionary, so tests pass their own
/// instead of mutating the process environment; ``current`` is the default argument.
public enum ProcessEnvironment {
    /// Backend name for ``defaultBackend(threads:environment:)``: `swift`, `c` or `openblas`.
    public static let backendVariable = "BACKPROP_BACKEND"
    /// Thread count for the `c` and `openblas` backends; wins over `OMP_NUM_THREADS`.
    public static let threadsVariable = "BACKPROP_NUM_THREADS"
    /// OpenMP's thread count, honoured when `BACKPROP_NUM_THREADS` is not set.
    public static let ompThreadsVariable = "OMP_NUM_THREADS"
    /// `portable`, `avx2` or `avx512`: the highest SIMD level the C kernels may use.
    public static let simdVariable = "BACKPROP_SIMD"
    /// Backend plugins to load: colon-separated files, or directories scanned for
    /// `libbackprop-*.so` (see ``BackendPlugins``).
    public static let pluginPathVariable = "BACKPROP_PLUGIN_PATH"
    /// `1` makes the OpenBLAS loader skip the library, as on a machine without it.
    public static let openBLASDisableVariable = "BACKPROP_OPENBLAS_DISABLE"
    /// A path or file name that replaces the default `libopenblas.so.0`, `libopenblas.so`.
    public static let openBLASLibraryVariable = "BACKPROP_OPENBLAS_LIBRARY"

    /// Every variable Backprop reads.
    public static let variables = [
        backendVariable, threadsVariable, ompThreadsVariable, simdVariable, pluginPathVariable,
        openBLASDisableVariable, openBLASLibraryVariable,
    ]

    /// The values of ``variables`` that are set in this process (read with `getenv`, so the
    /// library does not need Foundation).
    public static var current: [String: String] {
        var values: [String: String] = [:]
        for name in variables {
            if let value = getenv(name) { values[name] = String(cString: value) }
        }
        return values
    }
}
