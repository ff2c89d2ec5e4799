// simd_instantiate.h: compiles one kernel body three times, once per SIMD level.
//
// A kernel file defines BP_SIMD_BODY as the name of a header written against the small vector
// vocabulary (V, VW, VLOAD, VFMA, VEXP, ... and BP_FN(name) for level-suffixed names), then
// includes this file. The result is name_avx512, name_avx2 and name_portable, each compiled
// for its target with function attributes only (no global -mavx flags), chosen at run time.
#include <math.h>

#include "internal.h"

#include "simd_avx512.h"
#include "simd_math.h"
#include BP_SIMD_BODY
#include "simd_end.h"

#include "simd_avx2.h"
#include "simd_math.h"
#include BP_SIMD_BODY
#include "simd_end.h"

#define BP_SIMD_LEVEL_PORTABLE
#include "simd_portable.h"
#include "simd_math.h"
#include BP_SIMD_BODY
#include "simd_end.h"
#undef BP_SIMD_LEVEL_PORTABLE
