// rowcol_body.h: bias add over rows and column sums over columns, on vectors (a body for
// simd_instantiate.h).

// x: (rows, cols), bias: (cols), rows [r0, r1).
static void BP_FN(add_bias_rows)(float *x, const float *bias, long cols, long r0, long r1) {
    long tail = cols % VW, body = cols - tail;
    for (long r = r0; r < r1; r++) {
        float *row = x + r * cols;
        for (long c = 0; c < body; c += VW) VSTORE(row + c, VADD(VLOAD(row + c), VLOAD(bias + c)));
        if (tail) {
            VSTOREN(row + body, VADD(VLOADN(row + body, tail, 0.0f), VLOADN(bias + body, tail, 0.0f)), tail);
        }
    }
}

// x: (rows, cols) -> out: (cols), columns [c0, c1): rows are added in order 0, 1, 2, ...
// for every column, whoever owns it.
static void BP_FN(sum_columns_range)(const float *x, long rows, long cols, float *out,
                                     int accumulate, long c0, long c1) {
    if (!accumulate) {
        for (long c = c0; c < c1; c++) out[c] = 0.0f;
    }
    // Column blocks of 256 keep the running sums in L1 while the rows stream past.
    for (long b0 = c0; b0 < c1; b0 += 256) {
        long b1 = b0 + 256 < c1 ? b0 + 256 : c1;
        for (long r = 0; r < rows; r++) {
            const float *row = x + r * cols;
            for (long c = b0; c < b1; c += VW) {
                long width = b1 - c < VW ? b1 - c : VW;
                if (width == VW) {
                    VSTORE(out + c, VADD(VLOAD(out + c), VLOAD(row + c)));
                } else {
                    VSTOREN(out + c, VADD(VLOADN(out + c, width, 0.0f), VLOADN(row + c, width, 0.0f)), width);
                }
            }
        }
    }
}
