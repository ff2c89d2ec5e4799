// peak_probe.c: FP32 peak probe. Twelve independent FMA chains per SIMD level, so the FMA
// pipes never wait on a result; the benchmarks time it to report GEMM as percent of peak.
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "backprop_peak.h"
#include "internal.h"

// acc = acc * m + a with m < 1: every accumulator stays bounded (tends to a / (1 - m)),
// so no overflow or denormals slow the loop down.
#define PEAK_BODY(VEC, SET1, FMA, ADD, STORE, LANES)                                     \
    VEC m = SET1(0.999999f), a = SET1(1e-3f * seed);                                      \
    VEC acc[BP_PEAK_CHAINS];                                                              \
    for (int i = 0; i < BP_PEAK_CHAINS; i++) acc[i] = SET1((float)i);                     \
    for (long t = 0; t < trips; t++) {                                                    \
        _Pragma("clang loop unroll(full)")                                                \
        for (int i = 0; i < BP_PEAK_CHAINS; i++) acc[i] = FMA(acc[i], m, a);              \
    }                                                                                     \
    VEC total = acc[0];                                                                   \
    for (int i = 1; i < BP_PEAK_CHAINS; i++) total = ADD(total, acc[i]);                  \
    float lanes[LANES];                                                                   \
    STORE(lanes, total);                                                                  \
    float sum = 0;                                                                        \
    for (int i = 0; i < LANES; i++) sum += lanes[i];                                      \
    return sum;

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx512f,fma")))
static float peak_avx512(long trips, float seed) {
    PEAK_BODY(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, _mm512_storeu_ps, 16)
}

__attribute__((target("avx2,fma")))
static float peak_avx2(long trips, float seed) {
    PEAK_BODY(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, _mm256_storeu_ps, 8)
}
#endif

// Portable: four-float vectors from the compiler's vector extension (SSE on x86-64), with a
// separate multiply and add, which the baseline target cannot fuse.
typedef float bp_v4 __attribute__((vector_size(16)));
static inline bp_v4 v4_set1(float x) { return (bp_v4){x, x, x, x}; }
static inline bp_v4 v4_fma(bp_v4 x, bp_v4 y, bp_v4 z) { return x * y + z; }
static inline bp_v4 v4_add(bp_v4 x, bp_v4 y) { return x + y; }
static inline void v4_store(float *out, bp_v4 x) { for (int i = 0; i < 4; i++) out[i] = x[i]; }

static float peak_portable(long trips, float seed) {
    PEAK_BODY(bp_v4, v4_set1, v4_fma, v4_add, v4_store, 4)
}

static int clamp_level(int level) {
    int best = bp_simd_level_supported();
    if (level < BP_SIMD_PORTABLE) return BP_SIMD_PORTABLE;
    return level > best ? best : level;
}

int bp_peak_lanes(int level) {
    switch (clamp_level(level)) {
    case BP_SIMD_AVX512: return 16;
    case BP_SIMD_AVX2: return 8;
    default: return 4;
    }
}

float bp_peak_fma_loop(int level, long trips, float seed) {
    switch (clamp_level(level)) {
#if defined(__x86_64__) || defined(__i386__)
    case BP_SIMD_AVX512: return peak_avx512(trips, seed);
    case BP_SIMD_AVX2: return peak_avx2(trips, seed);
#endif
    default: return peak_portable(trips, seed);
    }
}

struct peak_job {
    int level;
    long trips;
    float results[64];
};

static void peak_task(void *ctx, long task) {
    struct peak_job *job = ctx;
    job->results[task] = bp_peak_fma_loop(job->level, job->trips, (float)(task + 1));
}

float bp_peak_fma_parallel(int level, long trips, int threads) {
    if (threads < 1) threads = 1;
    if (threads > 64) threads = 64;
    struct peak_job job = {.level = level, .trips = trips};
    // One task per thread: the static schedule gives each team member exactly one.
    bp_parallel_for(threads, threads, peak_task, &job);
    float sum = 0;
    for (int i = 0; i < threads; i++) sum += job.results[i];
    return sum;
}
