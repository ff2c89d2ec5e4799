// simd_math.h: exp, sigmoid and tanh on vectors, written once against the vector vocabulary
// (included by simd_instantiate.h once per level).

/// The shared core of both exps: xc = n ln2 + r with n = round(xc / ln2), |r| <= ln2/2;
/// returns e^r from a degree-6 polynomial and n in *n_out.
static inline V BP_FN(bp_vexp_reduced)(V xc, V *n_out) {
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
    *n_out = n;
    return VFMA(p, VMUL(r, r), VADD(r, VSET1(1.0f)));
}

/// e^x, within ~2 ulp wherever the result is a normal float: x = n ln2 + r with |r| <= ln2/2,
/// a degree-6 polynomial for e^r, then 2^n applied as two exact powers 2^n1 2^n2 (each with a
/// normal exponent, so n may reach 128 at the top and the result may be subnormal at the
/// bottom). Below -104 (including -inf) gives 0, above 88.72 gives +inf, NaN stays NaN.
static inline V BP_FN(bp_vexp)(V x) {
    const V lo = VSET1(-104.0f), hi = VSET1(88.7228394f);
    V xc = VMIN(hi, VMAX(lo, x));
    V n;
    V p = BP_FN(bp_vexp_reduced)(xc, &n);
    // n in [-150, 128] -> n1 = round(n / 2), n2 = n - n1, both in [-75, 64].
    V n1 = VROUND(VMUL(n, VSET1(0.5f)));
    V y = VMUL(VMUL(p, VPOW2I(n1)), VPOW2I(VSUB(n, n1)));
    y = VSELECT_LT(x, lo, VSET1(0.0f), y);
    return VSELECT_GT(x, hi, VSET1(INFINITY), y);
}

/// e^x for x <= 0 (softmax's logits minus their max): the same polynomial with a single
/// 2^n, results below 2^-126 (x < -87.33, weight < 1e-38 next to the max's 1) flush to 0.
/// A few instructions cheaper than bp_vexp, which matters in softmax's hot loop.
static inline V BP_FN(bp_vexp_nonpositive)(V x) {
    const V lo = VSET1(-87.3365447504f);
    V xc = VMAX(lo, x);
    V n;
    V p = BP_FN(bp_vexp_reduced)(xc, &n);
    return VSELECT_LT(x, lo, VSET1(0.0f), VMUL(p, VPOW2I(n)));
}

/// σ(x) = 1 / (1 + e^−x); e^−x overflowing to +inf gives exactly 0.
static inline V BP_FN(bp_vsigmoid)(V x) {
    V one = VSET1(1.0f);
    return VDIV(one, VADD(one, BP_FN(bp_vexp)(VSUB(VSET1(0.0f), x))));
}

/// tanh x = sign(x) (1 − 2 / (e^{2|x|} + 1)); for |x| < 1/2 the odd Taylor polynomial to x¹⁵
/// instead, which avoids the cancellation of 1 − (≈1) (both sides within ~3 ulp).
static inline V BP_FN(bp_vtanh)(V x) {
    V zero = VSET1(0.0f), one = VSET1(1.0f);
    V ax = VMAX(VSUB(zero, x), x);
    V e = BP_FN(bp_vexp)(VADD(ax, ax));
    V t = VSUB(one, VDIV(VSET1(2.0f), VADD(e, one)));
    V x2 = VMUL(x, x);
    V q = VFMA(x2, VSET1(-929569.0f / 638512875.0f), VSET1(21844.0f / 6081075.0f));
    q = VFMA(q, x2, VSET1(-1382.0f / 155925.0f));
    q = VFMA(q, x2, VSET1(62.0f / 2835.0f));
    q = VFMA(q, x2, VSET1(-17.0f / 315.0f));
    q = VFMA(q, x2, VSET1(2.0f / 15.0f));
    q = VFMA(q, x2, VSET1(-1.0f / 3.0f));
    V small = VFMA(VMUL(q, x2), x, x);
    t = VSELECT_LT(x, zero, VSUB(zero, t), t);
    return VSELECT_LT(ax, VSET1(0.5f), small, t);
}
