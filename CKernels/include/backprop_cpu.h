// backprop_cpu.h: what CPU the kernels run on and the SGEMM block sizes derived from its caches,
// so benchmarks can name the machine and tests can check the derivation with any cache sizes.
#ifndef BACKPROP_CPU_H
#define BACKPROP_CPU_H

#include "backprop_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Cache sizes in bytes: L1 data and L2 per core, L3 as reported for cpu0. 0 = unknown.
typedef struct bp_cache_sizes {
    long l1d, l2, l3;
} bp_cache_sizes;

/// The CPU as cpuid and sysfs report it.
///   vendor: "AuthenticAMD", "GenuineIntel", ... ("" when unknown).
///   brand:  the model string (cpuid 0x80000002..4), e.g. "AMD EPYC 7B13" ("" when unknown).
///   family, model: the displayed family and model (extended fields folded in), -1 when unknown.
typedef struct bp_cpu_info {
    char vendor[16];
    char brand[64];
    int family, model;
    bp_cache_sizes caches;
} bp_cpu_info;

/// Fills *out for the CPU this process runs on (cpuid on x86; caches from
/// /sys/devices/system/cpu/cpu0/cache, else sysconf).
void bp_cpu_describe(bp_cpu_info *out);

/// The SGEMM blocking of one SIMD level: an MR x NR register tile, KC-deep packed blocks,
/// MC x KC blocks of A and KC x NC blocks of B (all in floats), and the loop order inside a
/// pair of packed blocks:
///   b_panel_in_l1 == 0 (the B-block order, for an L2 that holds a wide B block): each MR x KC
///     micro-panel of A stays in L1 while it meets every micro-panel of the B block in L2;
///   b_panel_in_l1 == 1 (the A-block order, for a smaller L2): each KC x NR micro-panel of B
///     stays in L1 while it meets every micro-panel of the A block in L2; the B block is in L3.
typedef struct bp_gemm_blocks {
    long mr, nr, mc, kc, nc;
    int b_panel_in_l1;
} bp_gemm_blocks;

/// The blocking the microkernel of `level` (not clamped to the CPU) gets with caches `caches`:
/// a pure function. Unknown (0) sizes count as 32 KB L1, 512 KB L2 and 32 MB L3.
bp_gemm_blocks bp_gemm_blocks_for_caches(int level, bp_cache_sizes caches);

/// The blocking SGEMM uses at `level` on this CPU (bp_gemm_blocks_for_caches with the caches
/// of bp_cpu_describe), the same for every call.
bp_gemm_blocks bp_gemm_blocks_in_use(int level);

/// bp_sgemm on the blocked path with `blocks` instead of this CPU's: the MC, KC, NC sizes and
/// the loop order (mr and nr are ignored; MC and NC are rounded up to whole tiles), so tests
/// can run both loop orders, and tuning can try sizes, on any machine. Each element of C sees
/// the same additions for either order and any thread count; KC sets how they are grouped.
void bp_sgemm_blocked_with(const bp_context *ctx, const bp_gemm_blocks *blocks, int trans_a,
                           int trans_b, long m, long n, long k, float alpha, const float *a,
                           long lda, const float *b, long ldb, float beta, float *c, long ldc);

#ifdef __cplusplus
}
#endif

#endif  // BACKPROP_CPU_H
