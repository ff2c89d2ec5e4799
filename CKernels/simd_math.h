// simd_math.h: exp, sigmoid and tanh on vectors, written once against the vector vocabulary
// (included by simd_instantiate.h once per level).

/// e^x, within ~2 ulp for x in [-87.3, 88.3]: x = n ln2 + r with |r| <= ln2 / 2, a degree-6
/// polynomial for e^r, then the exponent bits for 2^n. Below -87.3 (including -inf) gives 0,
/// above 88.72 gives +inf, NaN stays NaN.
static inline V BP_FN(bp_vexp)(V x) {
    const V lo = VSET1(-87.3365447504f), hi = VSET1(88.3762626647949f);
    V xc = VMIN(hi, VMAX(lo, x));
    V n = VROUND(VMUL(xc, VSET1(1.44269504088896341f)));
    // r = x - n ln2, with ln2 split in two so n * ln2_hi is exact.
    V r = VFMA(n, VSET1(-0.693359375f), xc);
    r = VFMA(n, VSET1(2.12194440e-4f), r);
    V p = VSET1(1.9875691500e-4f);
    p = VFMA(p, r, VSET1(1.3981999507e-3f));
    p = VFMA(p, r, VSET1(8.3334519073e-3f));
    p = VFMA(p, r, VSET1(4.1665795894e-2f));
    p = VFMA(p, r, VSET1(1.6666665459e-1f));
    p = VFMA(p, r, VSET1(5.0000001201e-1f));
    p = VFMA(p, VMUL(r, r), VADD(r, VSET1(1.0f)));
    V y = VMUL(p, VPOW2I(n));
    y = VSELECT_LT(x, lo, VSET1(0.0f), y);
    return VSELECT_GT(x, VSET1(88.7228391f), VSET1(INFINITY), y);
}

/// σ(x) = 1 / (1 + e^−x); e^−x overflowing to +inf gives exactly 0.
static inline V BP_FN(bp_vsigmoid)(V x) {
    V one = VSET1(1.0f);
    return VDIV(one, VADD(one, BP_FN(bp_vexp)(VSUB(VSET1(0.0f), x))));
}

/// tanh x = sign(x) (1 − 2 / (e^{2|x|} + 1)); for |x| < 1/16 the odd Taylor polynomial
/// x − x³/3 + 2x⁵/15 − 17x⁷/315 avoids the cancellation of 1 − (≈1).
static inline V BP_FN(bp_vtanh)(V x) {
    V zero = VSET1(0.0f), one = VSET1(1.0f);
    V ax = VMAX(VSUB(zero, x), x);
    V e = BP_FN(bp_vexp)(VADD(ax, ax));
    V t = VSUB(one, VDIV(VSET1(2.0f), VADD(e, one)));
    V x2 = VMUL(x, x);
    V q = VFMA(x2, VSET1(-17.0f / 315.0f), VSET1(2.0f / 15.0f));
    q = VFMA(q, x2, VSET1(-1.0f / 3.0f));
    V small = VFMA(VMUL(q, x2), x, x);
    t = VSELECT_LT(x, zero, VSUB(zero, t), t);
    return VSELECT_LT(ax, VSET1(0.0625f), small, t);
}
