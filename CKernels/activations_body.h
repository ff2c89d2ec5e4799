// activations_body.h: ReLU / sigmoid / tanh forward and backward on vectors over [i0, i1)
// (a body for simd_instantiate.h). Partial vectors at the end use masked loads and stores, so
// every element goes through the same arithmetic wherever the range is cut.

// x, y: (n); y may equal x.
static void BP_FN(activation_forward_range)(int kind, const float *x, float *y, long i0, long i1) {
    V zero = VSET1(0.0f);
    for (long i = i0; i < i1; i += VW) {
        long width = i1 - i < VW ? i1 - i : VW;
        V v = width == VW ? VLOAD(x + i) : VLOADN(x + i, width, 0.0f);
        V out;
        if (kind == BP_RELU) {
            // VMAX(zero, v) returns v when either is NaN (the x86 rule, kept by the portable
            // macro), so relu(NaN) = NaN as in torch.relu; relu(−0) may be −0 (equal to 0).
            out = VMAX(zero, v);
        } else if (kind == BP_SIGMOID) {
            out = BP_FN(bp_vsigmoid)(v);
        } else {
            out = BP_FN(bp_vtanh)(v);
        }
        if (width == VW) {
            VSTORE(y + i, out);
        } else {
            VSTOREN(y + i, out, width);
        }
    }
}

// y, dy, dx: (n); dx may equal dy.
static void BP_FN(activation_backward_range)(int kind, const float *y, const float *dy, float *dx,
                                             long i0, long i1) {
    V zero = VSET1(0.0f), one = VSET1(1.0f);
    for (long i = i0; i < i1; i += VW) {
        long width = i1 - i < VW ? i1 - i : VW;
        V yv = width == VW ? VLOAD(y + i) : VLOADN(y + i, width, 0.0f);
        V g = width == VW ? VLOAD(dy + i) : VLOADN(dy + i, width, 0.0f);
        V out;
        if (kind == BP_RELU) {
            out = VSELECT_GT(yv, zero, g, zero);
        } else if (kind == BP_SIGMOID) {
            out = VMUL(VMUL(g, yv), VSUB(one, yv));
        } else {
            out = VMUL(g, VSUB(one, VMUL(yv, yv)));
        }
        if (width == VW) {
            VSTORE(dx + i, out);
        } else {
            VSTOREN(dx + i, out, width);
        }
    }
}
