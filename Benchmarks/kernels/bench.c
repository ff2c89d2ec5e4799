// bench.c: dev-only benchmark of the C kernels against OpenBLAS, side by side in one process.
// Not part of the library. Build and run with ./run.sh (compiles CKernels/*.c with the same
// -O2 SwiftPM uses for release builds).
//
// For every GEMM shape it reports the median GFLOP/s of bp_sgemm and cblas_sgemm, the fraction
// of FP32 peak (PEAK_GFLOPS per core, default 107 = 3.35 GHz x 2 FMA x 8 lanes x 2 on Zen 4),
// and the ratio. The two libraries are measured in the same process on the same buffers,
// alternating in blocks (see time_gemm). Medians are the headline; best-of is also shown
// because the machine is shared and medians move with other processes' load, and so is
// GFLOP per CPU-second (immune to being descheduled; 1 thread only, because Linux updates
// the CPU time of the other threads of a process lazily, which skews sub-millisecond calls).
// Usage: bench THREADS [gemm|softmax|all]; BENCH_ONLY=square runs only matching shapes.
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backprop_kernels.h"

typedef struct {
    const char *label;
    int ta, tb;
    long m, n, k;
} shape;

/// The kernels' settings for this run (SIMD level, threads), set once by main.
static bp_context kernels;

static const shape shapes[] = {
    {"mlp fwd 784->256", 0, 0, 128, 256, 784},
    {"mlp fwd 256->128", 0, 0, 128, 128, 256},
    {"mlp fwd 128->10", 0, 0, 128, 10, 128},
    {"mlp dX NT", 0, 1, 128, 784, 256},
    {"mlp dW TN 784x256", 1, 0, 784, 256, 128},
    {"mlp dW TN 256x128", 1, 0, 256, 128, 128},
    {"square 512", 0, 0, 512, 512, 512},
    {"square 1024", 0, 0, 1024, 1024, 1024},
    {"square 2048", 0, 0, 2048, 2048, 2048},
    {"square 4096", 0, 0, 4096, 4096, 4096},
};
enum { NSHAPES = sizeof shapes / sizeof shapes[0] };

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/// CPU seconds used by all threads of the process (time while descheduled does not count).
static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static float *random_matrix(long count, unsigned seed) {
    float *p = aligned_alloc(64, ((size_t)count * 4 + 63) & ~(size_t)63);
    srand(seed);
    for (long i = 0; i < count; i++) p[i] = (float)((double)rand() / RAND_MAX) * 2.0f - 1.0f;
    return p;
}

static void call_gemm(const shape *s, int which, const float *a, long lda, const float *b, long ldb, float *c) {
    if (which == 0) {
        bp_sgemm(&kernels, s->ta, s->tb, s->m, s->n, s->k, 1.0f, a, lda, b, ldb, 0.0f, c, s->n);
    } else {
        cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans, s->tb ? CblasTrans : CblasNoTrans,
                    s->m, s->n, s->k, 1.0f, a, lda, b, ldb, 0.0f, c, s->n);
    }
}

enum { ROUNDS = 6, MAX_REPS = 64 };

/// Median and best wall seconds, and median CPU seconds, per call of bp_sgemm (0) and
/// cblas_sgemm (1) on shape s. The two
/// alternate in blocks of calls (ROUNDS blocks each), with a pause between blocks so neither
/// library's idle-spinning workers steal cycles from the other, and so that load from other
/// processes on a shared machine hits both alike.
static void time_gemm(const shape *s, double median[2], double best[2], double cpu[2]) {
    long lda = s->ta ? s->m : s->k, ldb = s->tb ? s->k : s->n;
    float *a = random_matrix(s->m * s->k, 1), *b = random_matrix(s->k * s->n, 2);
    float *c = random_matrix(s->m * s->n, 3);
    double flops = 2.0 * s->m * s->n * s->k;
    int reps = flops > 1e10 ? 1 : flops > 1e9 ? 3 : flops > 1e8 ? 8 : MAX_REPS;
    static double times[2][ROUNDS * MAX_REPS], cpu_times[2][ROUNDS * MAX_REPS];
    for (int round = 0; round < ROUNDS; round++) {
        for (int which = 0; which < 2; which++) {
            usleep(250000);
            call_gemm(s, which, a, lda, b, ldb, c);  // warm-up: threads awake, buffers sized
            for (int r = 0; r < reps; r++) {
                double t0 = now(), c0 = cpu_now();
                call_gemm(s, which, a, lda, b, ldb, c);
                times[which][round * reps + r] = now() - t0;
                cpu_times[which][round * reps + r] = cpu_now() - c0;
            }
        }
    }
    for (int which = 0; which < 2; which++) {
        qsort(times[which], ROUNDS * reps, sizeof(double), cmp_double);
        qsort(cpu_times[which], ROUNDS * reps, sizeof(double), cmp_double);
        cpu[which] = cpu_times[which][ROUNDS * reps / 2];
        median[which] = times[which][ROUNDS * reps / 2];
        best[which] = times[which][0];
    }
    free(a), free(b), free(c);
}

static void bench_gemm(int threads, double peak_per_core) {
    double peak = peak_per_core * threads;
    printf("| shape | op | M,N,K | threads | c GFLOP/s | %% peak | OpenBLAS GFLOP/s | %% peak | c / OpenBLAS "
           "| best c / best OpenBLAS | per CPU-second: c / OpenBLAS |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
    const char *only = getenv("BENCH_ONLY");  // run only shapes whose label contains this
    for (int i = 0; i < NSHAPES; i++) {
        const shape *s = &shapes[i];
        if (only != NULL && strstr(s->label, only) == NULL) continue;
        double median[2], best[2], cpu[2];
        time_gemm(s, median, best, cpu);
        double flops = 2.0 * s->m * s->n * s->k;
        double g0 = flops / median[0] * 1e-9, g1 = flops / median[1] * 1e-9;
        char per_cpu[64] = "n/a";
        if (threads == 1) snprintf(per_cpu, sizeof per_cpu, "%.0f / %.0f", flops / cpu[0] * 1e-9, flops / cpu[1] * 1e-9);
        printf("| %s | %c%c | %ld,%ld,%ld | %d | %.1f | %.0f%% | %.1f | %.0f%% | %.2f | %.0f / %.0f | %s |\n",
               s->label, s->ta ? 'T' : 'N', s->tb ? 'T' : 'N', s->m, s->n, s->k, threads, g0,
               100 * g0 / peak, g1, 100 * g1 / peak, g0 / g1, flops / best[0] * 1e-9,
               flops / best[1] * 1e-9, per_cpu);
        fflush(stdout);
    }
}

/// DRAM bandwidth as memcpy sees it on buffers far larger than the L3 (bytes read + written).
static double dram_copy_gbs(void) {
    size_t bytes = (size_t)256 << 20;
    char *src = malloc(bytes), *dst = malloc(bytes);
    memset(src, 1, bytes);
    memset(dst, 2, bytes);
    // Called through a volatile pointer so the compiler cannot drop the copy of a dead buffer.
    void *(*volatile copy)(void *, const void *, size_t) = memcpy;
    double t[5];
    for (int r = 0; r < 5; r++) {
        double t0 = now();
        copy(dst, src, bytes);
        t[r] = now() - t0;
    }
    qsort(t, 5, sizeof(double), cmp_double);
    free(src), free(dst);
    return 2.0 * bytes / t[2] * 1e-9;
}

/// Softmax over 4096 x 1000 (16 MB in, 16 MB out) as effective bandwidth (bytes read +
/// written once) against the DRAM copy bandwidth.
static void bench_softmax(int threads) {
    long rows = 4096, cols = 1000, n = rows * cols;
    float *x = random_matrix(n, 4), *y = random_matrix(n, 5);
    double t_soft[21];
    for (int r = -2; r < 21; r++) {
        double t0 = now();
        bp_softmax_rows(&kernels, x, y, rows, cols);
        if (r >= 0) t_soft[r] = now() - t0;
    }
    qsort(t_soft, 21, sizeof(double), cmp_double);
    double bytes = 2.0 * n * 4, dram = dram_copy_gbs();
    printf("softmax 4096x1000, %d thread(s): median %.2f ms = %.1f GB/s; DRAM memcpy (1 thread, 256 MB) %.1f GB/s; "
           "softmax / DRAM = %.2f\n", threads, t_soft[10] * 1e3, bytes / t_soft[10] * 1e-9, dram,
           bytes / t_soft[10] * 1e-9 / dram);
    free(x), free(y);
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    const char *what = argc > 2 ? argv[2] : "all";
    const char *peak_env = getenv("PEAK_GFLOPS");
    double peak = peak_env ? atof(peak_env) : 107.0;
    kernels = (bp_context){.simd_level = bp_simd_level_supported(), .threads = threads};
    openblas_set_num_threads(threads);
    printf("# %s, %d thread(s), simd %s, OpenBLAS %s\n", "bench", threads,
           bp_simd_level_name(bp_context_simd_level(&kernels)), openblas_get_config());
    if (strcmp(what, "softmax") != 0) bench_gemm(threads, peak);
    if (strcmp(what, "gemm") != 0) bench_softmax(threads);
    return 0;
}
