// internal.h: private declarations shared by the kernel files (not part of the public API).
#ifndef BP_INTERNAL_H
#define BP_INTERNAL_H

#include <stddef.h>
#include "backprop_kernels.h"


/// One unit of parallel work: `fn(ctx, task)` for task in 0..<n_tasks.
typedef void (*bp_task_fn)(void *ctx, long task);

/// Runs fn(ctx, 0..<n_tasks) on up to `threads` threads (1 runs inline, no runtime call).
/// Tasks must write disjoint memory; which thread runs which task never affects results.
void bp_parallel_for(long n_tasks, int threads, bp_task_fn fn, void *ctx);

/// Threads worth using for `work` units of cheap elementwise work: at most ctx's thread count,
/// and 1 below a threshold, so tiny calls never pay for a fork/join.
int bp_threads_for(const bp_context *ctx, double work);

/// A 64-byte aligned scratch buffer owned by the calling thread, grown on demand and reused,
/// so hot paths never allocate in steady state. `slot` picks one of a few independent buffers.
/// Returns NULL only if the allocation fails.
float *bp_thread_scratch(int slot, size_t floats);

/// bp_sum_columns for columns [c0, c1) only, on the calling thread, with the vector code of
/// `level`: out[c] (+)= x[0, c] + x[1, c] + ... in row order. x: (rows, cols).
void bp_sum_columns_range(int level, const float *x, long rows, long cols, float *out, int accumulate,
                          long c0, long c1);

/// Splits `n` items into at most `parts` chunks whose boundaries are multiples of `align`;
/// writes chunk `index`'s [begin, end).
void bp_chunk_range(long n, long parts, long align, long index, long *begin, long *end);

/// The level-suffixed variant of a kernel compiled by simd_instantiate.h.
#define BP_DISPATCH(level, name) \
    ((level) == BP_SIMD_AVX512 ? name##_avx512 : (level) == BP_SIMD_AVX2 ? name##_avx2 : name##_portable)

/// Reductions (losses, sums of squares) are cut into this many fixed chunks (fewer for short
/// inputs) whose partial sums are added in chunk order: the result depends on the input size
/// only, never on the thread count.
enum { BP_REDUCE_CHUNKS = 64 };

/// Elementwise work is split at multiples of this many floats (a multiple of every vector width).
enum { BP_ELEMENT_ALIGN = 64 };

#endif  // BP_INTERNAL_H
