// plugin_threads.c: do two instances of a plugin keep their own thread counts when used
// alternately in one process? Loads the plugin at argv[1], creates instance A with 1 thread and
// instance B with argv[2] threads, then runs GEMMs on A, B, A, B. For each round it prints how
// many threads of the process did a real share of the work, from the CPU time of every thread
// in /proc/self/task (so it sees the library's own worker threads, whatever made them):
//     round A 1
//     round B 2
// Used by PluginTests (PluginThreadTests.swift) on the blis plugin. Linux only.
// Build: cc -O1 -I CKernels/include plugin_threads.c -ldl
#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "backprop_plugin.h"

enum { MAX_THREADS = 512 };

typedef struct {
    long tid[MAX_THREADS];
    long ticks[MAX_THREADS];  // user + system CPU time, in clock ticks
    int count;
} cpu_snapshot;

// The CPU time of every thread of this process now.
static void snapshot(cpu_snapshot *s) {
    s->count = 0;
    DIR *tasks = opendir("/proc/self/task");
    if (tasks == NULL) return;
    struct dirent *entry;
    while ((entry = readdir(tasks)) != NULL && s->count < MAX_THREADS) {
        if (entry->d_name[0] == '.') continue;
        char path[300], line[1024];
        snprintf(path, sizeof path, "/proc/self/task/%s/stat", entry->d_name);
        FILE *file = fopen(path, "r");
        if (file == NULL) continue;
        size_t length = fread(line, 1, sizeof line - 1, file);
        fclose(file);
        line[length] = 0;
        // Fields after the command name "(...)": state is field 3, utime 14, stime 15.
        char *rest = NULL;
        for (char *p = line; *p; p++) if (*p == ')') rest = p + 1;
        unsigned long utime = 0, stime = 0;
        if (rest == NULL || sscanf(rest, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
            continue;
        s->tid[s->count] = atol(entry->d_name);
        s->ticks[s->count] = (long)(utime + stime);
        s->count++;
    }
    closedir(tasks);
}

// How many threads gained at least a quarter of the CPU time the busiest one gained.
static int busy_threads(const cpu_snapshot *before, const cpu_snapshot *after) {
    long delta[MAX_THREADS], most = 0;
    for (int i = 0; i < after->count; i++) {
        delta[i] = after->ticks[i];
        for (int j = 0; j < before->count; j++)
            if (before->tid[j] == after->tid[i]) delta[i] -= before->ticks[j];
        if (delta[i] > most) most = delta[i];
    }
    int busy = 0;
    for (int i = 0; i < after->count; i++) busy += most > 0 && 4 * delta[i] >= most;
    return busy;
}

// Runs n x n x n GEMMs on `instance` until the process has used `seconds` of CPU time.
static int round_threads(const bp_plugin *t, bp_plugin_instance *instance, const float *a, float *c, long n,
                         double seconds) {
    cpu_snapshot before, after;
    snapshot(&before);
    clock_t start = clock();
    while ((double)(clock() - start) / CLOCKS_PER_SEC < seconds)
        t->sgemm(instance, 0, 0, n, n, n, 1.0f, a, n, a, n, 0.0f, c, n);
    snapshot(&after);
    return busy_threads(&before, &after);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: plugin_threads PLUGIN.so THREADS\n");
        return 2;
    }
    void *library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    bp_plugin_entry_fn entry = library ? (bp_plugin_entry_fn)dlsym(library, BP_PLUGIN_ENTRY) : NULL;
    const bp_plugin *t = entry ? entry() : NULL;
    if (t == NULL || t->sgemm == NULL) {
        fprintf(stderr, "plugin_threads: %s is not a plugin with sgemm\n", argv[1]);
        return 1;
    }
    char why[256] = "";
    bp_plugin_instance *a_instance = t->create(1, why, sizeof why);
    bp_plugin_instance *b_instance = t->create(atoi(argv[2]), why, sizeof why);
    if (a_instance == NULL || b_instance == NULL) {
        fprintf(stderr, "plugin_threads: create failed: %s\n", why);
        return 1;
    }
    long n = 384;
    float *a = malloc((size_t)(n * n) * sizeof *a), *c = malloc((size_t)(n * n) * sizeof *c);
    for (long i = 0; i < n * n; i++) a[i] = (float)(i % 7) / 7.0f;
    for (int round = 0; round < 4; round++) {
        bp_plugin_instance *instance = round % 2 == 0 ? a_instance : b_instance;
        printf("round %c %d\n", round % 2 == 0 ? 'A' : 'B', round_threads(t, instance, a, c, n, 0.6));
        fflush(stdout);
    }
    t->destroy(a_instance);
    t->destroy(b_instance);
    free(a);
    free(c);
    return 0;
}
