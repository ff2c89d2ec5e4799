// optimizers_body.h: SGD and Adam/AdamW parameter updates on vectors over [i0, i1) (a body for
// simd_instantiate.h). Masked partial vectors keep every element on the same arithmetic.
// Hyperparameters arrive as a bp_update_params (defined in optimizers.c).


// param, grad, velocity: (n); velocity is NULL when momentum == 0.
static void BP_FN(sgd_range)(float *param, const float *grad, float *velocity,
                             const bp_update_params *h, long i0, long i1) {
    V lr = VSET1(h->lr), mu = VSET1(h->momentum), wd = VSET1(h->weight_decay);
    int use_momentum = h->momentum != 0.0f && velocity != NULL;
    for (long i = i0; i < i1; i += VW) {
        long width = i1 - i < VW ? i1 - i : VW;
        int full = width == VW;
        V p = full ? VLOAD(param + i) : VLOADN(param + i, width, 0.0f);
        V g = full ? VLOAD(grad + i) : VLOADN(grad + i, width, 0.0f);
        g = VADD(g, VMUL(wd, p));
        if (use_momentum) {
            V v = full ? VLOAD(velocity + i) : VLOADN(velocity + i, width, 0.0f);
            v = VADD(VMUL(mu, v), g);
            if (full) {
                VSTORE(velocity + i, v);
            } else {
                VSTOREN(velocity + i, v, width);
            }
            g = h->nesterov ? VADD(g, VMUL(mu, v)) : v;
        }
        p = VSUB(p, VMUL(lr, g));
        if (full) {
            VSTORE(param + i, p);
        } else {
            VSTOREN(param + i, p, width);
        }
    }
}

// param, grad, m, v: (n).
static void BP_FN(adam_range)(float *param, const float *grad, float *m, float *v,
                              const bp_update_params *h, long i0, long i1) {
    V lr = VSET1(h->lr), wd = VSET1(h->weight_decay), lr_wd = VSET1(h->lr * h->weight_decay);
    V b1 = VSET1(h->beta1), b2 = VSET1(h->beta2);
    V one_b1 = VSET1(1.0f - h->beta1), one_b2 = VSET1(1.0f - h->beta2);
    V c1 = VSET1(h->correction1), c2 = VSET1(h->correction2), eps = VSET1(h->eps);
    for (long i = i0; i < i1; i += VW) {
        long width = i1 - i < VW ? i1 - i : VW;
        int full = width == VW;
        V p = full ? VLOAD(param + i) : VLOADN(param + i, width, 0.0f);
        V g = full ? VLOAD(grad + i) : VLOADN(grad + i, width, 0.0f);
        V mv = full ? VLOAD(m + i) : VLOADN(m + i, width, 0.0f);
        V vv = full ? VLOAD(v + i) : VLOADN(v + i, width, 0.0f);
        if (h->decoupled) {
            p = VSUB(p, VMUL(lr_wd, p));  // AdamW: decay the weights, not the gradient
        } else {
            g = VADD(g, VMUL(wd, p));
        }
        mv = VADD(VMUL(b1, mv), VMUL(one_b1, g));
        vv = VADD(VMUL(b2, vv), VMUL(VMUL(one_b2, g), g));
        V m_hat = VDIV(mv, c1);
        V v_hat = VDIV(vv, c2);
        p = VSUB(p, VDIV(VMUL(lr, m_hat), VADD(VSQRT(v_hat), eps)));
        if (full) {
            VSTORE(param + i, p);
            VSTORE(m + i, mv);
            VSTORE(v + i, vv);
        } else {
            VSTOREN(param + i, p, width);
            VSTOREN(m + i, mv, width);
            VSTOREN(v + i, vv, width);
        }
    }
}
