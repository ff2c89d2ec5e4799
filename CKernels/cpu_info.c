// cpu_info.c: bp_cpu_describe: the CPU's vendor, model string, family/model and cache sizes.
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backprop_cpu.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static void describe_x86(bp_cpu_info *out) {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx)) return;
    memcpy(out->vendor + 0, &ebx, 4);
    memcpy(out->vendor + 4, &edx, 4);
    memcpy(out->vendor + 8, &ecx, 4);
    out->vendor[12] = '\0';
    if (__get_cpuid(1, &eax, &ebx, &ecx, &edx)) {
        // Displayed family = base + extended when base is 15; model gains the extended bits
        // for families 6 and 15 and above (the Intel and AMD rules agree on these).
        int base_family = (eax >> 8) & 0xF, ext_family = (eax >> 20) & 0xFF;
        int base_model = (eax >> 4) & 0xF, ext_model = (eax >> 16) & 0xF;
        out->family = base_family == 15 ? base_family + ext_family : base_family;
        out->model = base_family >= 6 ? (ext_model << 4) | base_model : base_model;
    }
    unsigned words[12];
    if (__get_cpuid(0x80000000, &eax, &ebx, &ecx, &edx) && eax >= 0x80000004) {
        for (unsigned leaf = 0; leaf < 3; leaf++) {
            __get_cpuid(0x80000002 + leaf, &words[leaf * 4], &words[leaf * 4 + 1],
                        &words[leaf * 4 + 2], &words[leaf * 4 + 3]);
        }
        char brand[49];
        memcpy(brand, words, 48);
        brand[48] = '\0';
        // The string is padded with spaces on some CPUs: trim both ends.
        char *start = brand;
        while (*start == ' ') start++;
        size_t length = strlen(start);
        while (length > 0 && start[length - 1] == ' ') start[--length] = '\0';
        snprintf(out->brand, sizeof out->brand, "%s", start);
    }
}
#endif

/// Parses a sysfs cache size such as "32K", "1024K" or "32M" into bytes (0 when unreadable).
static long read_sysfs_size(const char *path) {
    FILE *file = fopen(path, "r");
    if (file == NULL) return 0;
    long value = 0;
    char unit = '\0';
    int fields = fscanf(file, "%ld%c", &value, &unit);
    fclose(file);
    if (fields < 1 || value <= 0) return 0;
    if (unit == 'K') return value * 1024;
    if (unit == 'M') return value * 1024 * 1024;
    return value;
}

/// Reads cpu0's caches from sysfs: each indexN directory names its level and type.
static void read_sysfs_caches(bp_cache_sizes *caches) {
    for (int index = 0; index < 8; index++) {
        char path[128], type[32] = "";
        int level = 0;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", index);
        FILE *file = fopen(path, "r");
        if (file == NULL) break;
        int fields = fscanf(file, "%d", &level);
        fclose(file);
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/type", index);
        file = fopen(path, "r");
        if (file != NULL) {
            if (fscanf(file, "%31s", type) != 1) type[0] = '\0';
            fclose(file);
        }
        if (fields != 1 || strcmp(type, "Instruction") == 0) continue;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", index);
        long size = read_sysfs_size(path);
        if (level == 1) caches->l1d = size;
        if (level == 2) caches->l2 = size;
        if (level == 3) caches->l3 = size;
    }
}

void bp_cpu_describe(bp_cpu_info *out) {
    memset(out, 0, sizeof *out);
    out->family = out->model = -1;
#if defined(__x86_64__) || defined(__i386__)
    describe_x86(out);
#endif
    read_sysfs_caches(&out->caches);
#if defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE)
    if (out->caches.l1d <= 0) out->caches.l1d = sysconf(_SC_LEVEL1_DCACHE_SIZE) > 0 ? sysconf(_SC_LEVEL1_DCACHE_SIZE) : 0;
    if (out->caches.l2 <= 0) out->caches.l2 = sysconf(_SC_LEVEL2_CACHE_SIZE) > 0 ? sysconf(_SC_LEVEL2_CACHE_SIZE) : 0;
#endif
}
