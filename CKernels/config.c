// config.c: run-time configuration: the SIMD level (CPU detection, BACKPROP_SIMD, forcing
// hook) and the thread count (BACKPROP_NUM_THREADS, OMP_NUM_THREADS, online cores).
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

// -1 means "not decided yet"; both are read on every kernel call, so they are atomics.
static _Atomic int simd_level = -1;
static _Atomic int num_threads = -1;

int bp_simd_level_supported(void) {
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

static int clamp_level(int level) {
    int best = bp_simd_level_supported();
    if (level < BP_SIMD_PORTABLE) level = BP_SIMD_PORTABLE;
    return level > best ? best : level;
}

/// The level named by BACKPROP_SIMD, or the best supported one.
static int initial_level(void) {
    const char *env = getenv("BACKPROP_SIMD");
    if (env != NULL) {
        if (strcmp(env, "portable") == 0) return clamp_level(BP_SIMD_PORTABLE);
        if (strcmp(env, "avx2") == 0) return clamp_level(BP_SIMD_AVX2);
        if (strcmp(env, "avx512") == 0) return clamp_level(BP_SIMD_AVX512);
    }
    return bp_simd_level_supported();
}

int bp_active_simd_level(void) {
    int level = atomic_load_explicit(&simd_level, memory_order_relaxed);
    if (level < 0) {
        int expected = -1;
        level = initial_level();
        if (!atomic_compare_exchange_strong(&simd_level, &expected, level)) level = expected;
    }
    return level;
}

int bp_simd_level(void) { return bp_active_simd_level(); }

int bp_set_simd_level(int level) {
    int clamped = clamp_level(level);
    atomic_store(&simd_level, clamped);
    return clamped;
}

const char *bp_simd_level_name(int level) {
    switch (level) {
    case BP_SIMD_AVX512: return "avx512";
    case BP_SIMD_AVX2: return "avx2";
    default: return "portable";
    }
}

#ifdef BACKPROP_OPENMP
/// A positive integer from an environment variable, or 0 when unset or malformed.
static int env_count(const char *name) {
    const char *env = getenv(name);
    if (env == NULL || *env == '\0') return 0;
    char *end = NULL;
    long value = strtol(env, &end, 10);
    if (*end != '\0' && *end != ',') return 0;  // OMP_NUM_THREADS may be a list "4,2"
    return value > 0 && value < 4096 ? (int)value : 0;
}

static int initial_threads(void) {
    int n = env_count("BACKPROP_NUM_THREADS");
    if (n == 0) n = env_count("OMP_NUM_THREADS");
    if (n == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        n = cores > 0 ? (int)cores : 1;
    }
    return n;
}
#endif

int bp_num_threads(void) {
#ifdef BACKPROP_OPENMP
    int n = atomic_load_explicit(&num_threads, memory_order_relaxed);
    if (n < 1) {
        int expected = -1;
        n = initial_threads();
        if (!atomic_compare_exchange_strong(&num_threads, &expected, n)) n = expected;
    }
    return n;
#else
    return 1;  // Built without the OpenMP trait: everything runs on the calling thread.
#endif
}

void bp_set_num_threads(int n) { atomic_store(&num_threads, n < 1 ? 1 : n); }

int bp_has_openmp(void) {
#ifdef BACKPROP_OPENMP
    return 1;
#else
    return 0;
#endif
}
