// gemm_blocks.c: SGEMM block sizes derived from the cache sizes the CPU reports, so one build
// blocks right on a 512 KB-L2 Zen 3 and a 1 MB-L2 Zen 4 alike. Each microkernel states which
// share of L1 its A micro-panel and which shares of L2 its packed blocks may take
// (bp_ukernel_info); the sizes follow from the caches:
//   KC = a_panel_l1 * L1 / (4 MR)          rounded down to a multiple of 8, in [64, 1024]
//   NC = b_block_l2 * L2 / (4 KC)          rounded to the nearest multiple of NR, >= NR
//   MC = a_block_l2 * L2 / (4 KC)          rounded to the nearest multiple of MR, >= MR
#include <pthread.h>

#include "backprop_cpu.h"
#include "gemm_internal.h"
#include "internal.h"

enum { DEFAULT_L1 = 32 * 1024, DEFAULT_L2 = 512 * 1024 };

static const bp_ukernel_info *ukernel_for(int level) {
    switch (level) {
    case BP_SIMD_AVX512: return bp_ukernel_avx512();
    case BP_SIMD_AVX2: return bp_ukernel_avx2();
    default: return bp_ukernel_portable();
    }
}

static long round_to(double x, long step) {
    long n = (long)(x / (double)step + 0.5);
    return (n < 1 ? 1 : n) * step;
}

bp_gemm_blocks bp_gemm_blocks_for_caches(int level, bp_cache_sizes caches) {
    const bp_ukernel_info *info = ukernel_for(level);
    double l1 = caches.l1d > 0 ? (double)caches.l1d : DEFAULT_L1;
    double l2 = caches.l2 > 0 ? (double)caches.l2 : DEFAULT_L2;
    bp_gemm_blocks blocks = {.mr = info->mr, .nr = info->nr};
    long kc = (long)(info->a_panel_l1 * l1 / (4.0 * (double)info->mr)) / 8 * 8;
    blocks.kc = kc < 64 ? 64 : kc > 1024 ? 1024 : kc;
    blocks.nc = round_to(info->b_block_l2 * l2 / (4.0 * (double)blocks.kc), info->nr);
    blocks.mc = round_to(info->a_block_l2 * l2 / (4.0 * (double)blocks.kc), info->mr);
    return blocks;
}

static bp_gemm_config configs[3];
static pthread_once_t configs_once = PTHREAD_ONCE_INIT;

static void derive_configs(void) {
    bp_cpu_info cpu;
    bp_cpu_describe(&cpu);
    for (int level = BP_SIMD_PORTABLE; level <= BP_SIMD_AVX512; level++) {
        bp_gemm_blocks blocks = bp_gemm_blocks_for_caches(level, cpu.caches);
        configs[level] = (bp_gemm_config){
            .kernel = ukernel_for(level)->kernel,
            .mr = blocks.mr, .nr = blocks.nr, .mc = blocks.mc, .kc = blocks.kc, .nc = blocks.nc,
        };
    }
}

const bp_gemm_config *bp_gemm_config_for(int level) {
    pthread_once(&configs_once, derive_configs);
    if (level < BP_SIMD_PORTABLE) level = BP_SIMD_PORTABLE;
    if (level > BP_SIMD_AVX512) level = BP_SIMD_AVX512;
    return &configs[level];
}

bp_gemm_blocks bp_gemm_blocks_in_use(int level) {
    const bp_gemm_config *cfg = bp_gemm_config_for(level);
    return (bp_gemm_blocks){.mr = cfg->mr, .nr = cfg->nr, .mc = cfg->mc, .kc = cfg->kc, .nc = cfg->nc};
}
