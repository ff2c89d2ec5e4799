// simd_end.h: closes a level opened by simd_avx512.h, simd_avx2.h or simd_portable.h.
#ifndef BP_SIMD_LEVEL_PORTABLE
#pragma clang attribute pop
#endif
#undef BP_FN
#undef V
#undef VW
#undef VLOAD
#undef VSTORE
#undef VLOADN
#undef VSTOREN
#undef VSET1
#undef VADD
#undef VSUB
#undef VMUL
#undef VDIV
#undef VFMA
#undef VMAX
#undef VMIN
#undef VSQRT
#undef VROUND
#undef VPOW2I
#undef VSELECT_LT
#undef VSELECT_GT
#undef VHSUM
#undef VHMAX
