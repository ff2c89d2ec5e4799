#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Backprop

/// Checks the environment variables that tune the engine, by the same rules as the flags:
/// `BACKPROP_SIMD` must name a SIMD level (the C kernels would silently ignore a typo, and a
/// benchmark would then measure something other than what was asked for), and a thread count
/// from `BACKPROP_NUM_THREADS` or `OMP_NUM_THREADS` must not pass ``maxThreads``.
/// A malformed thread count is reported by ``ThreadSettings/resolve(_:environment:)``.
/// - Throws: ``CLIError`` naming the variable and its value.
func checkEngineEnvironment(_ environment: [String: String] = engineEnvironment()) throws {
    let levels = ["portable", "avx2", "avx512"]
    if let simd = environment["BACKPROP_SIMD"], !simd.isEmpty, !levels.contains(simd) {
        throw CLIError("BACKPROP_SIMD='\(printable(simd, limit: 40))' is not a SIMD level; "
            + "set it to \(levels.joined(separator: ", ")) or unset it")
    }
    // libomp reads OMP_NUM_THREADS itself, even when --threads is given, and aborts ("Out of
    // heap memory") on a value such as "x": refuse it first (found by scripts/fuzz-cli).
    if let omp = environment[ProcessEnvironment.ompThreadsVariable], !omp.isEmpty,
       !omp.split(separator: ",", omittingEmptySubsequences: false).allSatisfy({ Int($0.trimmingCharacters(in: " ")).map { $0 >= 1 } ?? false }) {
        throw CLIError("OMP_NUM_THREADS='\(printable(omp, limit: 40))' is not a thread count (the OpenMP runtime "
            + "aborts on it); set it to a number such as 2, or unset it")
    }
    for variable in [ProcessEnvironment.threadsVariable, ProcessEnvironment.ompThreadsVariable] {
        guard let raw = environment[variable] else { continue }
        let first = raw.split(separator: ",").first.map { $0.trimmingCharacters(in: " ") } ?? ""
        if let value = Int(first), value > maxThreads {
            throw CLIError("\(variable)='\(printable(raw, limit: 40))' asks for more than \(maxThreads) threads; "
                + "set it to a thread count such as 2, or unset it")
        }
    }
}

/// ``ProcessEnvironment/current`` plus `BACKPROP_SIMD`, which the C kernels read themselves.
func engineEnvironment() -> [String: String] {
    var values = ProcessEnvironment.current
    if let simd = getenv("BACKPROP_SIMD") { values["BACKPROP_SIMD"] = String(cString: simd) }
    return values
}
