// backprop_peak.h: a short FP32 throughput probe for the benchmarks' "percent of peak".
#ifndef BACKPROP_PEAK_H
#define BACKPROP_PEAK_H

#ifdef __cplusplus
extern "C" {
#endif

/// Independent FMA chains per call of bp_peak_fma_loop (enough to hide FMA latency on two
/// FMA pipes: 4 cycles × 2 ports = 8 in flight, plus margin).
enum { BP_PEAK_CHAINS = 12 };

/// Runs `trips` rounds of BP_PEAK_CHAINS independent vector FMAs (acc = acc * m + a) at the
/// SIMD level `level` (clamped to what the CPU supports) on the calling thread, and returns a
/// value derived from the accumulators so the work cannot be optimized away.
/// Flops per call: trips × BP_PEAK_CHAINS × bp_peak_lanes(level) × 2.
float bp_peak_fma_loop(int level, long trips, float seed);

/// bp_peak_fma_loop on `threads` threads at once (the C kernels' OpenMP team, so the same
/// threads the `c` backend computes with; 1 without OpenMP), each running `trips` rounds.
/// Flops per call: threads × trips × BP_PEAK_CHAINS × bp_peak_lanes(level) × 2.
float bp_peak_fma_parallel(int level, long trips, int threads);

/// FP32 lanes per vector at `level` (after clamping): 16 (AVX-512), 8 (AVX2), 4 (portable).
int bp_peak_lanes(int level);

#ifdef __cplusplus
}
#endif

#endif  // BACKPROP_PEAK_H
