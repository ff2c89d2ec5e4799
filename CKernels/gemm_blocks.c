// gemm_blocks.c: SGEMM block sizes derived from the cache sizes the CPU reports, so one build
// blocks right on a 512 KB-L2 Zen 3 and a 1 MB-L2 Zen 4 alike. Each microkernel states which
// share of L1 its micro-panels and which shares of L2 its packed blocks may take
// (bp_ukernel_info); the sizes follow from the caches. First the B-block order:
//   KC = a_panel_l1 * L1 / (4 MR)          rounded down to a multiple of 8, in [64, 1024]
//   NC = b_block_l2 * L2 / (4 KC)          rounded to the nearest multiple of NR, >= NR
//   MC = a_block_l2 * L2 / (4 KC)          rounded to the nearest multiple of MR, >= MR
// When that leaves NC below MIN_B_BLOCK_WIDTH, the A-block order instead:
//   KC = b_panel_l1 * L1 / (4 NR)          rounded down to a multiple of 8, in [64, 1024]
//   MC = a_block_l2 * L2 / (4 KC)          rounded to the nearest multiple of MR, >= MR
//   NC = min(L3 / 4, 4 L2) / (4 KC), at most 4096   rounded to the nearest multiple of NR, >= NR
// Why the switch: in the B-block order every block of A is packed again for each NC columns
// of C, and each A micro-panel meets only NC / NR micro-panels of B before it is replaced.
// Measured on AMD EPYC Zen 3 (512 KB L2, AVX2, 1 thread), where the B-block order gets
// NC = 256: the A-block order with KC 384, MC 126 ran n = 512..2048 at 84-93 GFLOP/s against
// 80-89 (4-10% faster), and the MLP's shapes (m = 128, one A block) within 2%. On Zen 4
// (1 MB L2) the B-block order's NC of 480-512 was measured best, so it is kept there.
// Why at most four L2s of B in the A-block order: an L3 is shared (by a Zen 3 CCX's eight cores,
// 4 MB each, and on a VM by other tenants), so a B block sized for a quarter of it (an 8 MB
// budget: NC 4096, 6 MB at KC 384) falls out of it between the MC blocks that stream it.
// Measured on Zen 3 (AVX2, 1 thread, 2048^3, 25 in-process rounds against NC 4096, median of
// per-round ratios): NC 1360 (2 MB) 1.03-1.05x, NC 768-1024 1.04-1.08x, NC 512 1.00x; the same
// build against itself 0.99-1.01x.
#include <pthread.h>

#include "backprop_cpu.h"
#include "gemm_internal.h"
#include "internal.h"

enum { DEFAULT_L1 = 32 * 1024, DEFAULT_L2 = 512 * 1024, DEFAULT_L3 = 32 * 1024 * 1024 };
// Narrower B blocks than this take the A-block order (see above): 256 measured worse, 480 best.
enum { MIN_B_BLOCK_WIDTH = 384, MAX_B_BLOCK_WIDTH = 4096 };

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

/// A depth of `share` of `cache` bytes for a panel `width` floats wide, in [64, 1024].
static long depth_for(double share, double cache, long width) {
    long kc = (long)(share * cache / (4.0 * (double)width)) / 8 * 8;
    return kc < 64 ? 64 : kc > 1024 ? 1024 : kc;
}

bp_gemm_blocks bp_gemm_blocks_for_caches(int level, bp_cache_sizes caches) {
    const bp_ukernel_info *info = ukernel_for(level);
    double l1 = caches.l1d > 0 ? (double)caches.l1d : DEFAULT_L1;
    double l2 = caches.l2 > 0 ? (double)caches.l2 : DEFAULT_L2;
    double l3 = caches.l3 > 0 ? (double)caches.l3 : DEFAULT_L3;
    bp_gemm_blocks blocks = {.mr = info->mr, .nr = info->nr};
    blocks.kc = depth_for(info->a_panel_l1, l1, info->mr);
    blocks.nc = round_to(info->b_block_l2 * l2 / (4.0 * (double)blocks.kc), info->nr);
    if (blocks.nc < MIN_B_BLOCK_WIDTH) {  // the A-block order
        blocks.b_panel_in_l1 = 1;
        blocks.kc = depth_for(info->b_panel_l1, l1, info->nr);
        double b_block = l3 / 4.0 < 4.0 * l2 ? l3 / 4.0 : 4.0 * l2;
        double nc = b_block / (4.0 * (double)blocks.kc);
        blocks.nc = round_to(nc < MAX_B_BLOCK_WIDTH ? nc : MAX_B_BLOCK_WIDTH, info->nr);
    }
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
            .b_panel_in_l1 = blocks.b_panel_in_l1,
            .kernel_a_in_place = ukernel_for(level)->kernel_a_in_place,
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
    return (bp_gemm_blocks){.mr = cfg->mr, .nr = cfg->nr, .mc = cfg->mc, .kc = cfg->kc, .nc = cfg->nc,
                            .b_panel_in_l1 = cfg->b_panel_in_l1};
}
