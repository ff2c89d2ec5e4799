// simd_avx512.h: the vector vocabulary (see simd_instantiate.h) for AVX-512: 16 floats.
// Functions defined while this is active are compiled for avx512f/avx512vl/fma.
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,fma"))), apply_to = function)

#define BP_FN(name) name##_avx512
#define V __m512
#define VW 16
#define VLOAD(p) _mm512_loadu_ps(p)
#define VSTORE(p, v) _mm512_storeu_ps((p), (v))
// Partial vectors (n < VW): lanes past n read as `fill` and are not written.
#define VLOADN(p, n, fill) \
    _mm512_mask_loadu_ps(_mm512_set1_ps(fill), (__mmask16)((1u << (n)) - 1u), (p))
#define VSTOREN(p, v, n) _mm512_mask_storeu_ps((p), (__mmask16)((1u << (n)) - 1u), (v))
#define VSET1(x) _mm512_set1_ps(x)
#define VADD(a, b) _mm512_add_ps((a), (b))
#define VSUB(a, b) _mm512_sub_ps((a), (b))
#define VMUL(a, b) _mm512_mul_ps((a), (b))
#define VDIV(a, b) _mm512_div_ps((a), (b))
#define VFMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
// VMAX(a, b) / VMIN(a, b) return b when either is NaN (the x86 rule), so NaN in b propagates.
#define VMAX(a, b) _mm512_max_ps((a), (b))
#define VMIN(a, b) _mm512_min_ps((a), (b))
#define VSQRT(a) _mm512_sqrt_ps(a)
#define VROUND(a) _mm512_roundscale_ps((a), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
// 2^n for integral n in [-126, 127].
#define VPOW2I(n) \
    _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23))
// a < b ? x : y, a > b ? x : y (false when either is NaN).
#define VSELECT_LT(a, b, x, y) _mm512_mask_blend_ps(_mm512_cmp_ps_mask((a), (b), _CMP_LT_OQ), (y), (x))
#define VSELECT_GT(a, b, x, y) _mm512_mask_blend_ps(_mm512_cmp_ps_mask((a), (b), _CMP_GT_OQ), (y), (x))
#define VHSUM(v) _mm512_reduce_add_ps(v)
#define VHMAX(v) _mm512_reduce_max_ps(v)
