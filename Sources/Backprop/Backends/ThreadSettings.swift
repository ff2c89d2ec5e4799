#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How many threads the multithreaded backends use.
///
/// The `c` backend (OpenMP) and the `openblas` backend (OpenBLAS's own threads) read the same
/// setting, so that together they never run more threads than asked for.
public enum ThreadSettings {
    /// The thread count, from the first of: `explicit` (the `threads:` argument or `--threads`),
    /// `BACKPROP_NUM_THREADS`, `OMP_NUM_THREADS`, the number of online cores.
    ///
    /// An empty variable counts as unset. `OMP_NUM_THREADS` may be a list such as `4,2`
    /// (one count per nesting level); its first entry is used.
    /// - Throws: ``BackpropError/invalidArgument(_:)`` when `explicit` is below 1 or the
    ///   variable in use is not a positive integer; the message names the variable.
    public static func resolve(
        _ explicit: Int?, environment: [String: String] = ProcessEnvironment.current
    ) throws -> Int {
        if let explicit {
            guard explicit >= 1 else {
                throw BackpropError.invalidArgument(
                    "threads must be at least 1, got \(explicit); omit it to use every core")
            }
            return explicit
        }
        for variable in [ProcessEnvironment.threadsVariable, ProcessEnvironment.ompThreadsVariable] {
            guard let raw = environment[variable], !raw.isEmpty else { continue }
            let first = raw.split(separator: ",", omittingEmptySubsequences: false).first ?? ""
            let trimmed = first.trimmingSpaces()
            guard let value = Int(trimmed), value >= 1 else {
                throw BackpropError.invalidArgument(
                    "\(variable)='\(raw)' is not a positive integer; set it to a thread count such as 2, or unset it")
            }
            return value
        }
        return activeCores
    }

    /// The number of online cores, at least 1 (the default of both multithreaded backends).
    public static var activeCores: Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }
}

extension StringProtocol {
    /// The string without leading and trailing spaces and tabs (Foundation-free).
    func trimmingSpaces() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        let text = Substring(self)
        guard let start = text.firstIndex(where: { !isSpace($0) }),
              let end = text.lastIndex(where: { !isSpace($0) }) else { return "" }
        return text[start...end]
    }
}
