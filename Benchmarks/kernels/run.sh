#!/bin/sh
# Builds the dev benchmark (the C kernels compiled as SwiftPM compiles them in release: -O2,
# no -march flags) against OpenBLAS and libomp, then runs it on 1 and 2 threads.
# Usage: [BENCH_THREADS="1 2"] [BENCH_ONLY=label-part] Benchmarks/kernels/run.sh [gemm|softmax|all]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${TMPDIR:-/tmp}/backprop-kernel-bench
clang -O2 -fPIC -fno-omit-frame-pointer -DBACKPROP_OPENMP \
    -I "$root/CKernels/include" -I /usr/include/x86_64-linux-gnu/openblas-pthread \
    "$root"/CKernels/*.c "$here/bench.c" \
    /usr/lib/x86_64-linux-gnu/libopenblas.so.0 /usr/lib/x86_64-linux-gnu/libomp5.so -lm -ldl \
    -o "$out"
for threads in ${BENCH_THREADS:-1 2}; do
    "$out" "$threads" "${1:-all}"
done
