// conv_direct_body.h: the vector loops of the direct stride-1 convolution (a body for
// simd_instantiate.h). Vectors run along a row of the output (ox); masked loads and stores
// cover the last, partial vector, so every output element goes through the same arithmetic.

// Register tiles of the weight gradient: GRAD_KB channels × GRAD_TAPS kernel taps (20 of the 32
// zmm registers on AVX-512, 10 of the 16 ymm on AVX2).
#if VW == 16
#define GRAD_KB 4
#else
#define GRAD_KB 2
#endif
#define GRAD_TAPS 5

// One sample: in: (cin, hp, wp) zero-padded planes -> out: (kout, oh, ow), with oh = hp − kh + 1,
// ow = wp − kw + 1: out[o, oy, ox] = bias[o] + Σ_{c,i,j} W(o, c, i, j) · in[c, oy + i, ox + j],
// summed in (c, i, j) order, W(o, c, i, j) = wt->base[o·so + c·sc + i·si + j·sj].
// A register tile is KB output channels × R output rows of one vector each; channels past kout
// repeat the last channel and rows past oh the last row (computed, never stored), so the tile
// is fixed-size. CONV_TILE defines one such kernel.
#define CONV_TILE(NAME, KB, R)                                                                          \
static void BP_FN(NAME)(const float *in, long cin, long hp, long wp, const bp_conv_weights *wt,        \
                        long kh, long kw, const float *bias, long kout, float *out) {                  \
    long oh = hp - kh + 1, ow = wp - kw + 1, plane = oh * ow;                                           \
    for (long o0 = 0; o0 < kout; o0 += KB) {                                                            \
        long valid = kout - o0 < KB ? kout - o0 : KB;                                                   \
        const float *wq[KB];                                                                            \
        float b[KB];                                                                                    \
        for (int q = 0; q < KB; q++) {                                                                  \
            long o = o0 + (q < valid ? q : valid - 1);                                                  \
            wq[q] = wt->base + o * wt->so;                                                              \
            b[q] = bias ? bias[o] : 0.0f;                                                               \
        }                                                                                               \
        for (long oy0 = 0; oy0 < oh; oy0 += R) {                                                        \
            long rows = oh - oy0 < R ? oh - oy0 : R;                                                    \
            for (long ox = 0; ox < ow; ox += VW) {                                                      \
                long lanes = ow - ox < VW ? ow - ox : VW;                                               \
                V acc[KB][R];                                                                           \
                for (int q = 0; q < KB; q++)                                                            \
                    for (int r = 0; r < R; r++) acc[q][r] = VSET1(b[q]);                                \
                for (long c = 0; c < cin; c++) {                                                        \
                    for (long i = 0; i < kh; i++) {                                                     \
                        const float *row[R];                                                            \
                        for (int r = 0; r < R; r++)                                                     \
                            row[r] = in + (c * hp + oy0 + (r < rows ? r : rows - 1) + i) * wp + ox;     \
                        long offset = c * wt->sc + i * wt->si;                                          \
                        for (long j = 0; j < kw; j++) {                                                 \
                            V xv[R];                                                                    \
                            if (lanes == VW) {                                                          \
                                for (int r = 0; r < R; r++) xv[r] = VLOAD(row[r] + j);                  \
                            } else {                                                                    \
                                for (int r = 0; r < R; r++) xv[r] = VLOADN(row[r] + j, lanes, 0.0f);    \
                            }                                                                           \
                            long at = offset + j * wt->sj;                                              \
                            for (int q = 0; q < KB; q++) {                                              \
                                V wv = VSET1(wq[q][at]);                                                \
                                for (int r = 0; r < R; r++) acc[q][r] = VFMA(wv, xv[r], acc[q][r]);     \
                            }                                                                           \
                        }                                                                               \
                    }                                                                                   \
                }                                                                                       \
                for (int q = 0; q < KB && q < valid; q++) {                                             \
                    for (int r = 0; r < R && r < rows; r++) {                                           \
                        float *dst = out + (o0 + q) * plane + (oy0 + r) * ow + ox;                      \
                        if (lanes == VW) VSTORE(dst, acc[q][r]);                                        \
                        else VSTOREN(dst, acc[q][r], lanes);                                            \
                    }                                                                                   \
                }                                                                                       \
            }                                                                                           \
        }                                                                                               \
    }                                                                                                   \
}

// Rows per tile: with 32 zmm registers (AVX-512) two rows per channel block, so each broadcast
// weight feeds two FMAs (one load per FMA would bound the loop by loads, not FMAs); AVX2's 16
// ymm registers hold 8 accumulators plus operands.
#if VW == 16
CONV_TILE(conv_correlate_k8, 8, 2)
CONV_TILE(conv_correlate_k6, 6, 2)
CONV_TILE(conv_correlate_k4, 4, 4)
CONV_TILE(conv_correlate_k2, 2, 8)
CONV_TILE(conv_correlate_k1, 1, 8)
#else
CONV_TILE(conv_correlate_k8, 8, 1)
CONV_TILE(conv_correlate_k6, 6, 1)
CONV_TILE(conv_correlate_k4, 4, 2)
CONV_TILE(conv_correlate_k2, 2, 4)
CONV_TILE(conv_correlate_k1, 1, 8)
#endif
#undef CONV_TILE

// The tile that wastes the fewest channel slots for kout (the wider one on ties): 16 -> 8
// channels, 6 -> 6, 1 -> 1 (with more output rows at once instead of idle channels).
static void BP_FN(conv_correlate)(const float *in, long cin, long hp, long wp, const bp_conv_weights *wt,
                                  long kh, long kw, const float *bias, long kout, float *out) {
    static const long widths[] = {8, 6, 4, 2, 1};
    long best = 0, best_waste = -1;
    for (long t = 0; t < 5; t++) {
        long waste = (kout + widths[t] - 1) / widths[t] * widths[t] - kout;
        if (best_waste < 0 || waste < best_waste) { best = t; best_waste = waste; }
    }
    switch (widths[best]) {
    case 8: BP_FN(conv_correlate_k8)(in, cin, hp, wp, wt, kh, kw, bias, kout, out); break;
    case 6: BP_FN(conv_correlate_k6)(in, cin, hp, wp, wt, kh, kw, bias, kout, out); break;
    case 4: BP_FN(conv_correlate_k4)(in, cin, hp, wp, wt, kh, kw, bias, kout, out); break;
    case 2: BP_FN(conv_correlate_k2)(in, cin, hp, wp, wt, kh, kw, bias, kout, out); break;
    default: BP_FN(conv_correlate_k1)(in, cin, hp, wp, wt, kh, kw, bias, kout, out); break;
    }
}

// The loop over (n, oy, vector) of one tile, as a macro instantiated with and without the bias
// sums so that the common case keeps every accumulator in a register (the bias accumulators
// pushed AVX-512's tile past 32 zmm and made the compiler spill). On AVX-512 every load is
// masked (a full mask costs nothing), so one code path serves full and partial vectors.
#if VW == 16
#define GRAD_LOAD(p, lanes) VLOADN((p), (lanes), 0.0f)
#define GRAD_BODY(WITH_BIAS)                                                                  \
    for (long ox = 0; ox < ow; ox += VW) {                                                   \
        long lanes = ow - ox < VW ? ow - ox : VW;                                            \
        V g[GRAD_KB];                                                                        \
        for (int q = 0; q < GRAD_KB; q++) g[q] = GRAD_LOAD(dyq[q] + oy * ow + ox, lanes);    \
        if (WITH_BIAS)                                                                       \
            for (int q = 0; q < GRAD_KB; q++) bias_acc[q] = VADD(bias_acc[q], g[q]);         \
        for (int t = 0; t < GRAD_TAPS; t++) {                                                \
            V xv = GRAD_LOAD(row + ox + tap_offset[t], lanes);                               \
            for (int q = 0; q < GRAD_KB; q++) acc[q][t] = VFMA(g[q], xv, acc[q][t]);         \
        }                                                                                    \
    }
#else
#define GRAD_BODY(WITH_BIAS)                                                                  \
    for (long ox = 0; ox < ow; ox += VW) {                                                   \
        long lanes = ow - ox < VW ? ow - ox : VW;                                            \
        V g[GRAD_KB];                                                                        \
        if (lanes == VW) {                                                                   \
            for (int q = 0; q < GRAD_KB; q++) g[q] = VLOAD(dyq[q] + oy * ow + ox);           \
            if (WITH_BIAS)                                                                   \
                for (int q = 0; q < GRAD_KB; q++) bias_acc[q] = VADD(bias_acc[q], g[q]);     \
            for (int t = 0; t < GRAD_TAPS; t++) {                                            \
                V xv = VLOAD(row + ox + tap_offset[t]);                                      \
                for (int q = 0; q < GRAD_KB; q++) acc[q][t] = VFMA(g[q], xv, acc[q][t]);     \
            }                                                                                \
        } else {                                                                             \
            for (int q = 0; q < GRAD_KB; q++) g[q] = VLOADN(dyq[q] + oy * ow + ox, lanes, 0.0f); \
            if (WITH_BIAS)                                                                   \
                for (int q = 0; q < GRAD_KB; q++) bias_acc[q] = VADD(bias_acc[q], g[q]);     \
            for (int t = 0; t < GRAD_TAPS; t++) {                                            \
                V xv = VLOADN(row + ox + tap_offset[t], lanes, 0.0f);                        \
                for (int q = 0; q < GRAD_KB; q++) acc[q][t] = VFMA(g[q], xv, acc[q][t]);     \
            }                                                                                \
        }                                                                                    \
    }
#endif

// One tile: sums[q·GRAD_TAPS + t] and, when WITH_BIAS, bias_sums[q] (see conv_weight_tile).
#define GRAD_TILE(NAME, WITH_BIAS)                                                            \
static void BP_FN(NAME)(const bp_conv_grad_job *job, long o0, long c, const long *tap_offset, \
                        float *sums, float *bias_sums) {                                      \
    long kout = job->kout, oh = job->oh, ow = job->ow, plane = oh * ow;                       \
    long valid_o = kout - o0 < GRAD_KB ? kout - o0 : GRAD_KB;                                 \
    V acc[GRAD_KB][GRAD_TAPS], bias_acc[GRAD_KB];                                             \
    for (int q = 0; q < GRAD_KB; q++) {                                                       \
        bias_acc[q] = VSET1(0.0f);                                                            \
        for (int t = 0; t < GRAD_TAPS; t++) acc[q][t] = VSET1(0.0f);                          \
    }                                                                                         \
    for (long n = 0; n < job->batch; n++) {                                                   \
        const float *in = bp_conv_padded_plane(job, n, c);                                    \
        const float *dyq[GRAD_KB];                                                            \
        for (int q = 0; q < GRAD_KB; q++) {                                                   \
            long o = o0 + (q < valid_o ? q : valid_o - 1);                                    \
            dyq[q] = job->dy + (n * kout + o) * plane;                                        \
        }                                                                                     \
        for (long oy = 0; oy < oh; oy++) {                                                    \
            const float *row = in + oy * job->wp;                                             \
            GRAD_BODY(WITH_BIAS)                                                              \
        }                                                                                     \
    }                                                                                         \
    for (int q = 0; q < GRAD_KB; q++) {                                                       \
        for (int t = 0; t < GRAD_TAPS; t++) sums[q * GRAD_TAPS + t] = VHSUM(acc[q][t]);       \
        if (WITH_BIAS) bias_sums[q] = VHSUM(bias_acc[q]);                                     \
    }                                                                                         \
}

GRAD_TILE(conv_weight_tile_plain, 0)
GRAD_TILE(conv_weight_tile_bias, 1)
#undef GRAD_TILE
#undef GRAD_BODY
#undef GRAD_LOAD

// The weight gradient of output channels o0 ..< o0 + GRAD_KB (clamped to kout) and taps
// t0 ..< t0 + GRAD_TAPS (clamped to kh·kw) of input channel c, over every sample:
// sums[q·GRAD_TAPS + t] = Σ_{n, oy, ox} dy[n, o0 + q, oy, ox] · in_n[c, oy + i_t, ox + j_t],
// where in_n is sample n's padded input (bp_conv_padded_plane); with `bias_sums`,
// also bias_sums[q] = Σ_{n, oy, ox} dy[n, o0 + q, oy, ox].
static void BP_FN(conv_weight_tile)(const bp_conv_grad_job *job, long o0, long c, long t0, float *sums,
                                    float *bias_sums) {
    long taps = job->kh * job->kw;
    long valid_t = taps - t0 < GRAD_TAPS ? taps - t0 : GRAD_TAPS;
    long tap_offset[GRAD_TAPS];
    for (int t = 0; t < GRAD_TAPS; t++) {
        long tap = t0 + (t < valid_t ? t : valid_t - 1);
        tap_offset[t] = (tap / job->kw) * job->wp + tap % job->kw;
    }
    if (bias_sums) BP_FN(conv_weight_tile_bias)(job, o0, c, tap_offset, sums, bias_sums);
    else BP_FN(conv_weight_tile_plain)(job, o0, c, tap_offset, sums, NULL);
}

// The tile sizes of this level, so the dispatching file can cut tasks.
static void BP_FN(conv_weight_tile_size)(long *kb, long *taps) {
    *kb = GRAD_KB;
    *taps = GRAD_TAPS;
}

#undef GRAD_KB
#undef GRAD_TAPS
