// parallel.c: the one parallel-for helper every kernel uses, plus per-thread scratch buffers.
//
// Threads come from libomp through its GCC-compatible runtime entry points, so the package
// needs no -fopenmp flag: GOMP_parallel(fn, data, threads, flags) runs fn(data) on a team.
// Without BACKPROP_OPENMP (the package's OpenMP trait off) everything runs on the caller.
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#ifdef BACKPROP_OPENMP
void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
int omp_get_thread_num(void);

struct team_job {
    long n_tasks;
    bp_task_fn fn;
    void *ctx;
    long next;  // the next unclaimed task (atomic)
};

/// Team members claim tasks from a shared counter: on a busy machine a descheduled thread
/// does not hold up the others. Tasks write disjoint memory, so who runs what never matters.
static void team_body(void *data) {
    struct team_job *job = data;
    for (;;) {
        long task = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED);
        if (task >= job->n_tasks) break;
        job->fn(job->ctx, task);
    }
}
#endif

void bp_parallel_for(long n_tasks, int threads, bp_task_fn fn, void *ctx) {
    if (n_tasks <= 0) return;
#ifdef BACKPROP_OPENMP
    if (threads > n_tasks) threads = (int)n_tasks;
    if (threads > 1) {
        struct team_job job = {n_tasks, fn, ctx, 0};
        GOMP_parallel(team_body, &job, (unsigned)threads, 0);
        return;
    }
#else
    (void)threads;
#endif
    for (long task = 0; task < n_tasks; task++) fn(ctx, task);
}

#ifdef BACKPROP_OPENMP
/// Run by every member of a team: raises *members to (its team index + 1).
static void count_member(void *data) {
    int *members = data;
    int self = omp_get_thread_num() + 1;
    int seen = __atomic_load_n(members, __ATOMIC_RELAXED);
    while (self > seen &&
           !__atomic_compare_exchange_n(members, &seen, self, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
}
#endif

int bp_context_team_size(const bp_context *ctx) {
    int threads = bp_context_threads(ctx);
    int members = 1;
#ifdef BACKPROP_OPENMP
    // The team bp_parallel_for would start for `threads` tasks; every member reports itself.
    if (threads > 1) GOMP_parallel(count_member, &members, (unsigned)threads, 0);
#else
    (void)threads;
#endif
    return members;
}

// Below this many elements a fork/join (a few microseconds) costs more than it saves.
#define BP_PARALLEL_MIN_WORK 65536.0

int bp_threads_for(const bp_context *ctx, double work) {
    int threads = bp_context_threads(ctx);
    if (work < BP_PARALLEL_MIN_WORK) return 1;
    long useful = (long)(work / BP_PARALLEL_MIN_WORK);
    return useful < threads ? (int)(useful < 1 ? 1 : useful) : threads;
}

void bp_chunk_range(long n, long parts, long align, long index, long *begin, long *end) {
    long units = (n + align - 1) / align;
    long per = units / parts, extra = units % parts;
    long start = index * per + (index < extra ? index : extra);
    long count = per + (index < extra ? 1 : 0);
    *begin = start * align < n ? start * align : n;
    *end = (start + count) * align < n ? (start + count) * align : n;
}

enum { BP_SCRATCH_SLOTS = 4 };
static _Thread_local float *scratch[BP_SCRATCH_SLOTS];
static _Thread_local size_t scratch_capacity[BP_SCRATCH_SLOTS];

// A thread's scratch is freed when the thread exits: a pthread key whose destructor runs at exit
// (thread-local storage is still valid then). Without it every thread that ever ran a GEMM,
// such as a dispatch worker that later retires, would leak its packing buffers.
static pthread_key_t scratch_key;
static pthread_once_t scratch_key_once = PTHREAD_ONCE_INIT;

static void free_thread_scratch(void *unused) {
    (void)unused;
    for (int i = 0; i < BP_SCRATCH_SLOTS; i++) {
        free(scratch[i]);
        scratch[i] = NULL;
        scratch_capacity[i] = 0;
    }
}

static void create_scratch_key(void) { pthread_key_create(&scratch_key, free_thread_scratch); }

float *bp_thread_scratch(int slot, size_t floats) {
    if (floats <= scratch_capacity[slot]) return scratch[slot];
    // First allocation on this thread: a non-NULL key value makes the destructor run at exit.
    pthread_once(&scratch_key_once, create_scratch_key);
    pthread_setspecific(scratch_key, scratch);
    // Grow geometrically so a sequence of slightly larger problems reallocates rarely.
    size_t capacity = floats + floats / 2 + 1024;
    size_t bytes = (capacity * sizeof(float) + 63) & ~(size_t)63;
    float *buffer = aligned_alloc(64, bytes);
    if (buffer == NULL) return NULL;
    free(scratch[slot]);
    scratch[slot] = buffer;
    scratch_capacity[slot] = capacity;
    return buffer;
}
