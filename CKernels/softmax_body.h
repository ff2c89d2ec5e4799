// softmax_body.h: softmax over a block of rows (a body for simd_instantiate.h).
#include "softmax_row.h"

/// x, y: (rows, cols) for rows [r0, r1).
static void BP_FN(softmax_rows)(const float *x, float *y, long cols, long r0, long r1) {
    float mx, sum;
    for (long r = r0; r < r1; r++) BP_FN(softmax_row)(x + r * cols, y + r * cols, cols, &mx, &sum);
}
