// softmax_row.h: one softmax row on vectors (a body for simd_instantiate.h).

/// x, y: (cols): y = softmax(x) with the max subtracted; y may equal x. Writes the row max and
/// the sum of e^(x - max) (for logsumexp = max + log sum). A row of all −inf is uniform; a row
/// with a NaN is NaN (max and sum too).
static void BP_FN(softmax_row)(const float *x, float *y, long cols, float *max_out, float *sum_out) {
    long tail = cols % VW, body = cols - tail;
    V vmax = VSET1(-INFINITY);
    for (long c = 0; c < body; c += VW) vmax = VMAX(VLOAD(x + c), vmax);
    if (tail) vmax = VMAX(VLOADN(x + body, tail, -INFINITY), vmax);
    float mx = VHMAX(vmax);
    *max_out = mx;
    if (mx == -INFINITY) {
        // Every logit is −inf (uniform), or the max skipped NaNs: then the row is NaN, as for
        // any row with a NaN (scanned before writing, since y may equal x).
        float fill = 1.0f / (float)cols;
        for (long c = 0; c < cols; c++) {
            if (isnan(x[c])) { fill = NAN; break; }
        }
        for (long c = 0; c < cols; c++) y[c] = fill;
        *max_out = isnan(fill) ? NAN : mx;
        *sum_out = isnan(fill) ? NAN : 0.0f;
        return;
    }
    V vm = VSET1(mx), vsum = VSET1(0.0f);
    for (long c = 0; c < body; c += VW) {
        V e = BP_FN(bp_vexp_nonpositive)(VSUB(VLOAD(x + c), vm));
        VSTORE(y + c, e);
        vsum = VADD(vsum, e);
    }
    if (tail) {
        // Lanes past the row read −inf, so they add e^−inf = 0.
        V e = BP_FN(bp_vexp_nonpositive)(VSUB(VLOADN(x + body, tail, -INFINITY), vm));
        VSTOREN(y + body, e, tail);
        vsum = VADD(vsum, e);
    }
    float sum = VHSUM(vsum);
    *sum_out = sum;
    V inv = VSET1(1.0f / sum);
    for (long c = 0; c < body; c += VW) VSTORE(y + c, VMUL(VLOAD(y + c), inv));
    if (tail) VSTOREN(y + body, VMUL(VLOADN(y + body, tail, 0.0f), inv), tail);
}
