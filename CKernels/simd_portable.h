// simd_portable.h: the vector vocabulary (see simd_instantiate.h) as plain scalar C, for any
// CPU: a "vector" is one float.
#include <math.h>
#include <stdint.h>
#include <string.h>

#define BP_FN(name) name##_portable
#define V float
#define VW 1
#define VLOAD(p) (*(p))
#define VSTORE(p, v) (*(p) = (v))
#define VLOADN(p, n, fill) ((n) > 0 ? *(p) : (fill))
#define VSTOREN(p, v, n) ((void)((n) > 0 ? (*(p) = (v)) : 0))
#define VSET1(x) ((float)(x))
#define VADD(a, b) ((a) + (b))
#define VSUB(a, b) ((a) - (b))
#define VMUL(a, b) ((a) * (b))
#define VDIV(a, b) ((a) / (b))
#define VFMA(a, b, c) ((a) * (b) + (c))
// Same NaN rule as the x86 instructions: b is returned when either operand is NaN.
#define VMAX(a, b) ((a) > (b) ? (a) : (b))
#define VMIN(a, b) ((a) < (b) ? (a) : (b))
#define VSQRT(a) sqrtf(a)
#define VROUND(a) rintf(a)
#define VPOW2I(n) bp_pow2i_portable(n)
#define VSELECT_LT(a, b, x, y) ((a) < (b) ? (x) : (y))
#define VSELECT_GT(a, b, x, y) ((a) > (b) ? (x) : (y))
#define VHSUM(v) (v)
#define VHMAX(v) (v)

static inline float bp_pow2i_portable(float n) {
    if (n != n) return n;  // NaN stays NaN (converting it to an integer is undefined).
    uint32_t bits = (uint32_t)((int32_t)n + 127) << 23;
    float result;
    memcpy(&result, &bits, sizeof result);
    return result;
}
