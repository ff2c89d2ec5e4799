// softmax_xent_body.h: fused softmax + cross-entropy rows on vectors (a body for
// simd_instantiate.h). Each returns the unscaled loss of rows [r0, r1) in double.
#include "softmax_row.h"

/// g = x * scale in place over n values.
static void BP_FN(scale_in_place)(float *g, long n, float scale) {
    long tail = n % VW, body = n - tail;
    V s = VSET1(scale);
    for (long c = 0; c < body; c += VW) VSTORE(g + c, VMUL(VLOAD(g + c), s));
    if (tail) VSTOREN(g + body, VMUL(VLOADN(g + body, tail, 0.0f), s), tail);
}

// logits, grad: (rows, cols), labels: (rows).
static double BP_FN(xent_labels_rows)(const float *logits, const int32_t *labels, long cols,
                                      float *grad, float scale, long r0, long r1) {
    double total = 0.0;
    for (long r = r0; r < r1; r++) {
        const float *z = logits + r * cols;
        float *g = grad + r * cols;
        float mx, sum;
        BP_FN(softmax_row)(z, g, cols, &mx, &sum);
        float lse = mx == -INFINITY ? -INFINITY : mx + logf(sum);
        int32_t label = labels[r];
        if (label < 0 || label >= cols) {
            total += NAN;  // out-of-range label: the loss says so instead of reading out of bounds
        } else {
            total += (double)(lse - z[label]);
            g[label] -= 1.0f;
        }
        BP_FN(scale_in_place)(g, cols, scale);
    }
    return total;
}

// logits, targets, grad: (rows, cols).
static double BP_FN(xent_probs_rows)(const float *logits, const float *targets, long cols,
                                     float *grad, float scale, long r0, long r1) {
    double total = 0.0;
    long tail = cols % VW, body = cols - tail;
    V zero = VSET1(0.0f), s = VSET1(scale);
    for (long r = r0; r < r1; r++) {
        const float *z = logits + r * cols;
        const float *t = targets + r * cols;
        float *g = grad + r * cols;
        float mx, sum;
        BP_FN(softmax_row)(z, g, cols, &mx, &sum);
        V lse = VSET1(mx == -INFINITY ? -INFINITY : mx + logf(sum));
        V loss = zero;
        for (long c = 0; c <= body; c += VW) {
            long width = c < body ? VW : tail;
            if (width == 0) break;
            V tv = width == VW ? VLOAD(t + c) : VLOADN(t + c, width, 0.0f);
            V zv = width == VW ? VLOAD(z + c) : VLOADN(z + c, width, 0.0f);
            V gv = width == VW ? VLOAD(g + c) : VLOADN(g + c, width, 0.0f);
            // -t log p = t (lse - z), counted only where t != 0 (a −inf logit with no mass is fine).
            V term = VMUL(tv, VSUB(lse, zv));
            loss = VADD(loss, VSELECT_LT(tv, zero, term, VSELECT_GT(tv, zero, term, zero)));
            V out = VMUL(VSUB(gv, tv), s);
            if (width == VW) {
                VSTORE(g + c, out);
            } else {
                VSTOREN(g + c, out, width);
            }
        }
        total += (double)VHSUM(loss);
    }
    return total;
}
