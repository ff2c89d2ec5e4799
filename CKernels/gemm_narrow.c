// gemm_narrow.c: dispatch of the narrow-C SGEMM path (see gemm_narrow_body.h). A transposed B
// is packed once by the caller's thread (an untransposed one is read in place); threads then
// own disjoint blocks of rows of C.
#define BP_SIMD_BODY "gemm_narrow_body.h"
#include "simd_instantiate.h"

#include "gemm_internal.h"

/// Floats per vector at `level` (0: no vector kernel).
static long vector_width(int level) {
    return level == BP_SIMD_AVX512 ? 16 : level == BP_SIMD_AVX2 ? 8 : 0;
}

// AVX-512: one vector per row of C. AVX2: up to two (gemm_narrow2_rows), so the 10-class output
// layer (n = 10) does not go through packing and a 16-wide tile (measured: 128x10x128 took
// 10.0 us blocked, half of it waste, against OpenBLAS's 5.4 us).
long bp_gemm_narrow_width(int level) {
    return level == BP_SIMD_AVX512 ? 16 : level == BP_SIMD_AVX2 ? 16 : 0;
}

typedef struct {
    void (*rows)(long, long, const float *, long, long, const float *, long, int, float *, long, float, float, long, long);
    long m, n, k, rsa, csa, ldb, ldc, parts, row_block;
    int packed;
    const float *a, *bp;
    float *c;
    float alpha, beta;
    int level;
    const bp_gemm_epilogue *epi;
} narrow_job;

static void narrow_task(void *ctx, long task) {
    const narrow_job *job = ctx;
    long r0, r1;
    bp_chunk_range(job->m, job->parts, job->row_block, task, &r0, &r1);
    if (r0 < r1) {
        job->rows(job->k, job->n, job->a, job->rsa, job->csa, job->bp, job->ldb, job->packed, job->c, job->ldc,
                  job->alpha, job->beta, r0, r1);
        bp_gemm_epilogue_apply(job->level, job->epi, job->c, job->ldc, r0, r1, 0, job->n);
    }
}

// B stored (n, k) -> scratch (k, padded) holding op(B) = Bᵀ, zero in columns n..<padded, so
// every row of op(B) is whole vectors. Returns NULL when the scratch cannot be allocated.
static const float *transpose_b_padded(const float *b, long ldb, long n, long k, long padded) {
    float *bp = bp_thread_scratch(2, (size_t)(k * padded));
    if (bp == NULL) return NULL;
    for (long p = 0; p < k; p++) {
        for (long j = 0; j < n; j++) bp[p * padded + j] = b[j * ldb + p];
        for (long j = n; j < padded; j++) bp[p * padded + j] = 0.0f;
    }
    return bp;
}

int bp_sgemm_narrow(int level, int threads, int trans_a, int trans_b, long m, long n, long k,
                    float alpha, const float *a, long lda, const float *b, long ldb,
                    float beta, float *c, long ldc, const bp_gemm_epilogue *epi) {
    long width = bp_gemm_narrow_width(level);
    if (width == 0 || n > width) return 0;
    const float *rows_of_b = b;
    if (trans_b) {
        rows_of_b = transpose_b_padded(b, ldb, n, k, width);  // each row of op(B) is one load
        if (rows_of_b == NULL) return 0;
        ldb = width;
    }
    narrow_job job = {
        .rows = n > vector_width(level) ? BP_DISPATCH(level, gemm_narrow2_rows) : BP_DISPATCH(level, gemm_narrow_rows),
        .m = m, .n = n, .k = k, .rsa = trans_a ? 1 : lda, .csa = trans_a ? lda : 1, .ldc = ldc,
        .ldb = ldb, .packed = trans_b != 0, .a = a, .bp = rows_of_b, .c = c, .alpha = alpha, .beta = beta,
        .level = level, .epi = epi,
    };
    long row_block = n > vector_width(level) ? BP_NARROW2_MR : BP_NARROW_MR;
    job.row_block = row_block;
    long blocks = (m + row_block - 1) / row_block;
    job.parts = blocks < threads ? blocks : threads;
    bp_parallel_for(job.parts, (int)job.parts, narrow_task, &job);
    return 1;
}

// op(A): (m, k), op(B): (k, n) -> C: (m, n), any n: C is cut into column blocks of one vector
// and each block is a narrow problem. No threads: below BP_GEMM_SMALL_MNK a fork/join costs more
// than the arithmetic.
int bp_sgemm_small_simd(int level, int trans_a, int trans_b, long m, long n, long k,
                        float alpha, const float *a, long lda, const float *b, long ldb,
                        float beta, float *c, long ldc) {
    long width = vector_width(level);
    if (width == 0) return 0;
    long padded = (n + width - 1) / width * width;
    const float *rows_of_b = b;
    if (trans_b) {
        rows_of_b = transpose_b_padded(b, ldb, n, k, padded);
        if (rows_of_b == NULL) return 0;
        ldb = padded;
    }
    void (*rows)(long, long, const float *, long, long, const float *, long, int, float *, long, float, float, long, long) =
        BP_DISPATCH(level, gemm_narrow_rows);
    long rsa = trans_a ? 1 : lda, csa = trans_a ? lda : 1;
    for (long j = 0; j < n; j += width) {
        long nb = n - j < width ? n - j : width;
        rows(k, nb, a, rsa, csa, rows_of_b + j, ldb, trans_b != 0, c + j, ldc, alpha, beta, 0, m);
    }
    return 1;
}
