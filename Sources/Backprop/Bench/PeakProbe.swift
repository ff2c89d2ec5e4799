import CKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The machine's FP32 peak, measured with a short FMA throughput loop, and the nominal peak
/// computed from the clock for comparison.
public struct PeakEstimate: Sendable, Equatable {
    /// Measured GFLOP/s on one thread.
    public let singleThread: Double
    /// Measured GFLOP/s with `threads` threads running the loop at once (the C kernels'
    /// OpenMP team; without the OpenMP trait they run one after the other).
    public let multiThread: Double
    /// The thread count of ``multiThread``.
    public let threads: Int
    /// How the numbers were obtained, one line.
    public let method: String
    /// cores × GHz × 2 FMA ports × 16 lanes × 2 flops, when the clock is known.
    public let nominal: Double?
    /// The line explaining ``nominal``.
    public let nominalFormula: String

    /// The peak for `count` threads: the larger of the multithreaded measurement (when it
    /// was taken at that count) and the single-thread figure times the cores those threads
    /// can use. On a busy machine the threads of the multithreaded probe often do not run at
    /// once, and the per-core figure scaled is the fairer yardstick.
    public func gflops(threads count: Int) -> Double {
        if count <= 1 { return singleThread }
        let scaled = singleThread * Double(min(count, ThreadSettings.activeCores))
        return count == threads ? max(multiThread, scaled) : scaled
    }
}

/// Measures the FP32 FMA throughput of this machine.
///
/// The loop lives in the C kernels (`bp_peak_fma_loop`, `CKernels/peak_probe.c`): twelve
/// independent vector FMA chains at the SIMD level the C kernels use (AVX-512, AVX2, or plain
/// multiply + add), so no FMA waits on another. Swift code cannot do this here: the package
/// may not pass `-march` flags, so Swift's `SIMD16<Float>.addingProduct` compiles to one
/// `fmaf` call per lane on baseline x86-64.
public enum PeakProbe {
    /// Loop trips per timed call.
    static let trips = 100_000

    /// Measures one thread and `threads` threads at once, for about `seconds` each, at SIMD
    /// level `simd` (the level the measured backends run at), and reads the clock from
    /// /proc/cpuinfo for the nominal figure.
    public static func estimate(threads: Int, simd: SIMDLevel = .supported, seconds: Double = 0.2) -> PeakEstimate {
        let level = min(simd, SIMDLevel.supported).rawValue
        let flopsPerCall = Double(trips) * Double(BP_PEAK_CHAINS) * Double(bp_peak_lanes(level)) * 2
        let runner = BenchRunner(settings: BenchSettings(warmupCalls: 2, minTime: seconds, minRepeats: 3))
        let single = runner.measure { sink(bp_peak_fma_loop(level, trips, 1)) }
        let singleGflops = flopsPerCall / single.min / 1e9
        var multiGflops = singleGflops
        let count = max(threads, 1)
        if count > 1 {
            let multi = runner.measure { sink(bp_peak_fma_parallel(level, trips, Int32(clamping: count))) }
            multiGflops = Double(count) * flopsPerCall / multi.min / 1e9
        }
        let cores = ThreadSettings.activeCores
        let mhz = cpuMegahertz()
        let nominal = mhz.map { Double(cores) * $0 / 1000 * 2 * 16 * 2 }
        let formula = mhz.map {
            "nominal FP32 peak: \(cores) cores × \(formatFixed($0 / 1000, decimals: 2)) GHz (cpu MHz in /proc/cpuinfo) "
                + "× 2 FMA ports × 16 lanes × 2 flops = \(formatFixed(nominal ?? 0, decimals: 1)) GFLOP/s"
        } ?? "nominal FP32 peak unknown (no 'cpu MHz' line in /proc/cpuinfo)"
        let levelName = String(cString: bp_simd_level_name(level))
        let method = "measured peak (bp_peak_fma_loop: \(BP_PEAK_CHAINS) independent \(levelName) FMA chains, "
            + "\(bp_peak_lanes(level)) lanes, best run): 1 thread \(formatFixed(singleGflops, decimals: 1)) GFLOP/s"
            + (count > 1 ? ", \(count) threads \(formatFixed(multiGflops, decimals: 1)) GFLOP/s; percent of peak uses "
                + "max(that, 1-thread × cores used)" : "")
        return PeakEstimate(singleThread: singleGflops, multiThread: multiGflops, threads: count,
                            method: method, nominal: nominal, nominalFormula: formula)
    }

    /// Keeps a result alive so the optimizer cannot drop the call that made it.
    @inline(never)
    static func sink(_ value: Float) {
        if value.isNaN { print("", terminator: "") }
    }

    /// The first `cpu MHz` value of /proc/cpuinfo (or `path`), or nil when there is none.
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
            return Double(text[text.index(after: colon)...].filter { $0 != " " && $0 != "\t" && $0 != "\n" })
        }
        return nil
    }
}
