// config.c: what the CPU supports (SIMD level detection) and how a bp_context is read.
// No setting lives here: each backend instance passes its own bp_context to every kernel, and
// the environment variables are resolved on the Swift side.
#include <stdatomic.h>

#include "internal.h"

// The CPU's best level never changes while the process runs, so it is detected once.
// -1 means "not detected yet".
static _Atomic int supported_level = -1;

static int detect_simd_level(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("fma")) {
        return BP_SIMD_AVX512;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return BP_SIMD_AVX2;
#endif
    return BP_SIMD_PORTABLE;
}

int bp_simd_level_supported(void) {
    int level = atomic_load_explicit(&supported_level, memory_order_relaxed);
    if (level < 0) {
        level = detect_simd_level();
        atomic_store_explicit(&supported_level, level, memory_order_relaxed);
    }
    return level;
}

const char *bp_simd_level_name(int level) {
    switch (level) {
    case BP_SIMD_AVX512: return "avx512";
    case BP_SIMD_AVX2: return "avx2";
    default: return "portable";
    }
}

int bp_context_simd_level(const bp_context *ctx) {
    int best = bp_simd_level_supported();
    if (ctx == NULL) return best;
    int level = ctx->simd_level < BP_SIMD_PORTABLE ? BP_SIMD_PORTABLE : ctx->simd_level;
    return level > best ? best : level;
}

int bp_context_threads(const bp_context *ctx) {
#ifdef BACKPROP_OPENMP
    if (ctx == NULL || ctx->threads < 1) return 1;
    return ctx->threads;
#else
    (void)ctx;
    return 1;  // Built without the OpenMP trait: everything runs on the calling thread.
#endif
}

int bp_has_openmp(void) {
#ifdef BACKPROP_OPENMP
    return 1;
#else
    return 0;
#endif
}
