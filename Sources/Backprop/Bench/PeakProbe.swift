import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The machine's FP32 peak, measured with a short multiply-add throughput loop, and the
/// nominal peak computed from the clock for comparison.
public struct PeakEstimate: Sendable, Equatable {
    /// Measured GFLOP/s on one thread.
    public let singleThread: Double
    /// Measured GFLOP/s with `threads` threads running the loop at once.
    public let multiThread: Double
    public let threads: Int
    /// How the numbers were obtained, one line.
    public let method: String
    /// cores × MHz × 2 FMA ports × 16 lanes × 2 flops, when the clock is known.
    public let nominal: Double?
    /// The line explaining ``nominal``.
    public let nominalFormula: String

    /// The measured peak for `threads` threads (the single-thread figure scaled when no
    /// multithreaded figure was measured for that count).
    public func gflops(threads count: Int) -> Double {
        if count <= 1 { return singleThread }
        if count == threads { return multiThread }
        return singleThread * Double(min(count, ThreadSettings.activeCores))
    }
}

/// Measures the FP32 multiply-add throughput of this machine.
///
/// The loop keeps `chains` independent accumulators of `SIMD16<Float>` and updates each with
/// acc = acc · m + a, so no update waits on another and the FP units stay busy. The library is
/// compiled for the baseline target (no `-march` flag is allowed in the package), so Swift
/// lowers this to SSE multiplies and adds, not AVX-512 FMAs: the figure is the peak that
/// baseline-compiled Swift code can reach, well below the AVX-512 FMA peak that the nominal
/// figure describes. Both are printed.
public enum PeakProbe {
    /// Independent accumulators per thread: enough to cover the add latency on both ports.
    static let chains = 8
    /// Loop trips per timed call; 2 flops × 16 lanes × `chains` each.
    static let trips = 200_000

    /// One timed call's flops.
    static var flopsPerCall: Double { Double(2 * 16 * chains * trips) }

    /// Measures one thread and `threads` threads at once, each for about `seconds`.
    public static func estimate(threads: Int, seconds: Double = 0.2) -> PeakEstimate {
        let settings = BenchSettings(warmupCalls: 2, minTime: seconds, minRepeats: 3)
        let runner = BenchRunner(settings: settings)
        let single = runner.measure { sink(multiplyAddLoop(seed: 1)) }
        let singleGflops = flopsPerCall / single.min / 1e9
        var multiGflops = singleGflops
        let count = max(threads, 1)
        if count > 1 {
            let multi = runner.measure {
                DispatchQueue.concurrentPerform(iterations: count) { index in
                    sink(multiplyAddLoop(seed: Float(index + 1)))
                }
            }
            multiGflops = Double(count) * flopsPerCall / multi.min / 1e9
        }
        let cores = ThreadSettings.activeCores
        let mhz = cpuMegahertz()
        let nominal = mhz.map { Double(cores) * $0 * 1e6 * 2 * 16 * 2 / 1e9 }
        let formula = mhz.map {
            "nominal FP32 peak \(cores) cores × \(formatFixed($0 / 1000, decimals: 2)) GHz "
                + "× 2 FMA ports × 16 lanes × 2 flops = \(formatFixed(nominal ?? 0, decimals: 1)) GFLOP/s"
        } ?? "nominal FP32 peak unknown (no 'cpu MHz' in /proc/cpuinfo)"
        let method = "measured with Swift SIMD16<Float> multiply-add chains (\(chains) independent "
            + "accumulators per thread, best of the timed runs; baseline x86-64 codegen, i.e. SSE "
            + "mul+add, not AVX-512 FMA): 1 thread \(formatFixed(singleGflops, decimals: 1)) GFLOP/s, "
            + "\(count) thread\(count == 1 ? "" : "s") \(formatFixed(multiGflops, decimals: 1)) GFLOP/s"
        return PeakEstimate(singleThread: singleGflops, multiThread: multiGflops, threads: count,
                            method: method, nominal: nominal, nominalFormula: formula)
    }

    /// acc = acc · m + a on `chains` independent SIMD16 accumulators, `trips` times.
    @inline(never)
    static func multiplyAddLoop(seed: Float) -> Float {
        // m < 1 keeps every accumulator bounded (it tends to a / (1 − m)), so no inf or denormal.
        // Both operands pass through `opaque` so the compiler cannot fold the loop away.
        let m = SIMD16<Float>(repeating: opaque(0.999_999))
        let a = SIMD16<Float>(repeating: opaque(1e-3 * seed))
        var c0 = a, c1 = a + 1, c2 = a + 2, c3 = a + 3
        var c4 = a + 4, c5 = a + 5, c6 = a + 6, c7 = a + 7
        for _ in 0..<opaque(trips) {
            c0 = c0 * m + a; c1 = c1 * m + a; c2 = c2 * m + a; c3 = c3 * m + a
            c4 = c4 * m + a; c5 = c5 * m + a; c6 = c6 * m + a; c7 = c7 * m + a
        }
        let total = (c0 + c1) + (c2 + c3) + (c4 + c5) + (c6 + c7)
        return total.sum()
    }

    /// Returns `value` unchanged, hidden from the optimizer.
    @_optimize(none)
    static func opaque<T>(_ value: T) -> T { value }

    /// Keeps a result alive so the optimizer cannot drop the loop that made it.
    @inline(never)
    static func sink(_ value: Float) {
        if value.isNaN { print("", terminator: "") }
    }

    /// The first `cpu MHz` value of /proc/cpuinfo, or nil when there is none.
    public static func cpuMegahertz(path: String = "/proc/cpuinfo") -> Double? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0 {
            guard let line else { continue }
            let text = String(cString: line)
            guard text.hasPrefix("cpu MHz"), let colon = text.firstIndex(of: ":") else { continue }
            let value = text[text.index(after: colon)...].trimmingSpaces()
            return Double(value.filter { $0 != "\n" })
        }
        return nil
    }
}
