"""Shared pieces of the peer benchmarks: workloads, synthetic data, timing, records.

Each peer (numpy_peer.py, torch_peer.py, jax_peer.py) runs the same workloads and
prints one JSON array of records in the format of `backprop bench --json`, so that
compare.py can join them on (case, variant, shape, threads).
"""

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

# The network every peer trains: 784-256-128-10, ReLU between layers, softmax
# cross-entropy on top, plain SGD.
LAYERS = (784, 256, 128, 10)
NETWORK = "-".join(str(n) for n in LAYERS)
LEARNING_RATE = 0.1
SEED = 20261124

TRAIN_BATCHES = (32, 128, 512)
# LeNet-5 (Backprop's `--arch lenet`): conv 1->6 k5 pad 2, ReLU, maxpool 2, conv 6->16 k5, ReLU,
# maxpool 2, flatten, 400-120-84-10 with ReLU; trained on the same rows seen as 1x28x28 images.
LENET_BATCH = 64
INFER_BATCH = 1024
# Inference batches: throughput at 1024, latency at 1 (one sample per call).
INFER_BATCHES = (1024, 1)

# (M, N, K, variant): C (M x N) = op(A) op(B), contraction K.
# NN: A (M, K), B (K, N).  NT: B is stored (N, K).  TN: A is stored (K, M).
SQUARE_GEMM = (128, 256, 512, 1024, 2048)
MLP_GEMM = (
    (128, 256, 784, "NN"),  # forward layer 1 at batch 128: x W1
    (128, 128, 256, "NN"),  # forward layer 2
    (128, 10, 128, "NN"),  # forward layer 3
    (128, 784, 256, "NT"),  # dX of layer 1: dz W1^T
    (784, 256, 128, "TN"),  # dW1 = x^T dz
    (256, 128, 128, "TN"),  # dW2 = a1^T dz
)
SOFTMAX_SHAPES = ((4096, 1000), (128, 10))


class Config:
    """What one peer run measures; `quick` shrinks everything for smoke tests."""

    def __init__(self, threads, quick, repeats):
        self.threads = threads
        self.quick = quick
        # Timed samples per workload (median, min, max are taken over them).
        self.repeats = repeats if repeats else (3 if quick else 9)
        # Rows of synthetic training data. A timed training sample is a quarter epoch
        # over them: short samples give the median a chance against a noisy neighbour.
        self.rows = 6_000 if quick else 60_000
        self.chunks_per_epoch = 4
        # A timed GEMM/softmax sample repeats the call until it lasts this long.
        self.min_sample_seconds = 0.005 if quick else 0.05
        self.train_batches = (128,) if quick else TRAIN_BATCHES
        self.square_gemm = (128, 512) if quick else SQUARE_GEMM
        self.mlp_gemm = MLP_GEMM[:2] + MLP_GEMM[3:5] if quick else MLP_GEMM


def parse_args(peer):
    parser = argparse.ArgumentParser(description=f"{peer} peer benchmark; prints JSON records")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="fewer sizes and steps")
    parser.add_argument("--repeats", type=int, default=0, help="timed samples per workload")
    parser.add_argument(
        "--only",
        default="train,infer,gemm,softmax",
        help="comma-separated subset of train,infer,gemm,softmax,lenet (train includes lenet)",
    )
    args = parser.parse_args()
    config = Config(args.threads, args.quick, args.repeats)
    return config, set(args.only.split(","))


def synthetic_data(rows):
    """Gaussian features and labels from a random linear teacher, identical in every peer.

    Returns x: (rows, 784) float32, labels: (rows,) int64, onehot: (rows, 10) float32.
    """
    rng = np.random.default_rng(SEED)
    x = rng.standard_normal((rows, LAYERS[0]), dtype=np.float32)
    teacher = rng.standard_normal((LAYERS[0], LAYERS[-1]), dtype=np.float32)
    labels = np.argmax(x @ teacher, axis=1).astype(np.int64)
    onehot = np.zeros((rows, LAYERS[-1]), dtype=np.float32)
    onehot[np.arange(rows), labels] = 1.0
    return x, labels, onehot


def initial_weights():
    """He-normal weights and zero biases, the same start for every peer.

    Returns [(w, b), ...] with w: (in, out) float32 and b: (out,) float32.
    """
    rng = np.random.default_rng(SEED + 1)
    params = []
    for fan_in, fan_out in zip(LAYERS[:-1], LAYERS[1:]):
        w = rng.standard_normal((fan_in, fan_out), dtype=np.float32) * np.float32(np.sqrt(2.0 / fan_in))
        params.append((w, np.zeros(fan_out, dtype=np.float32)))
    return params


def gemm_cases(config):
    """(M, N, K, variant) for every GEMM this run measures."""
    return [(n, n, n, "NN") for n in config.square_gemm] + list(config.mlp_gemm)


def gemm_operands(m, n, k, variant):
    """Random operands stored the way `variant` reads them: a, b float32, c (M, N) output."""
    rng = np.random.default_rng(SEED + 2)
    a_shape = (k, m) if variant[0] == "T" else (m, k)
    b_shape = (n, k) if variant[1] == "T" else (k, n)
    a = rng.standard_normal(a_shape, dtype=np.float32)
    b = rng.standard_normal(b_shape, dtype=np.float32)
    return a, b, np.empty((m, n), dtype=np.float32)


def time_calls(fn, config, sync=lambda result: None):
    """Seconds per call of `fn`: (median, min, max) over `config.repeats` samples.

    One warm-up call, then the number of calls per sample is grown until a sample
    lasts `config.min_sample_seconds`, so short kernels are not timer noise.
    `sync` waits for the last result (JAX dispatches asynchronously).
    """
    sync(fn())
    calls = 1
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            result = fn()
        sync(result)
        elapsed = time.perf_counter() - start
        if elapsed >= config.min_sample_seconds or calls >= 1 << 20:
            break
        calls = max(calls * 2, int(calls * config.min_sample_seconds / max(elapsed, 1e-9)))
    samples = []
    for _ in range(config.repeats):
        start = time.perf_counter()
        for _ in range(calls):
            result = fn()
        sync(result)
        samples.append((time.perf_counter() - start) / calls)
    return summary(samples)


def time_training(run_steps, batch, config):
    """Time SGD steps in chunks of a quarter epoch, cycling through the data.

    `run_steps(first, count)` runs steps first..first+count-1 (batch i covers rows
    i*batch ..< (i+1)*batch) and waits for them. Returns ((median, min, max) seconds
    per chunk, samples per chunk). One untimed chunk first warms up (JIT, allocator,
    thread pools).
    """
    steps_per_epoch = config.rows // batch
    chunk = max(1, steps_per_epoch // config.chunks_per_epoch)
    first = 0

    def next_chunk():
        nonlocal first
        if first + chunk > steps_per_epoch:
            first = 0
        run_steps(first, chunk)
        first += chunk

    next_chunk()
    samples = []
    for _ in range(config.repeats):
        start = time.perf_counter()
        next_chunk()
        samples.append(time.perf_counter() - start)
    return summary(samples), chunk * batch


def summary(samples):
    return statistics.median(samples), min(samples), max(samples)


def peak_gflops(threads):
    """FP32 peak to report percent_of_peak against, from BENCH_PEAK_GFLOPS_PER_THREAD.

    There is no default: the boost clock of this shared VM is not visible (numpy's
    OpenBLAS reaches 97 GFLOP/s per thread, above 32 FLOP/cycle x the 2.6 GHz that
    /proc/cpuinfo reports), so a guessed peak would mislead.
    """
    override = os.environ.get("BENCH_PEAK_GFLOPS_PER_THREAD")
    return float(override) * threads if override else None


def record(case, variant, shape, backend, config, times, **metric):
    median, lo, hi = times
    rec = {
        "case": case,
        "variant": variant,
        "shape": shape,
        "backend": backend,
        "threads": config.threads,
        "median_seconds": median,
        "min_seconds": lo,
        "max_seconds": hi,
    }
    rec.update(metric)
    return rec


def gemm_record(m, n, k, variant, backend, config, times):
    gflops = 2.0 * m * n * k / times[0] / 1e9
    rec = record("gemm", variant, f"{m}x{n}x{k}", backend, config, times, gflops=gflops)
    peak = peak_gflops(config.threads)
    if peak:
        rec["percent_of_peak"] = 100.0 * gflops / peak
    return rec


def softmax_record(rows, cols, backend, config, times):
    moved = 2.0 * rows * cols * 4  # read the logits once, write the probabilities once
    return record("softmax", "rows", f"{rows}x{cols}", backend, config, times, gbps=moved / times[0] / 1e9)


def samples_record(case, batch, samples_per_timing, backend, config, times, variant=NETWORK, **extra):
    """Train/infer record; `times` are seconds for `samples_per_timing` samples."""
    # latency_us: microseconds per call of `batch` samples (the figure that matters at batch 1).
    rec = record(case, variant, f"batch={batch}", backend, config, times,
                 samples_per_second=samples_per_timing / times[0],
                 latency_us=1e6 * times[0] * batch / samples_per_timing, **extra)
    return rec


def emit(records, library):
    """Print the records as one JSON array; `library` describes the peer's versions."""
    for rec in records:
        rec["library"] = library
    json.dump(records, sys.stdout, indent=1)
    sys.stdout.write("\n")


def progress(message):
    print(message, file=sys.stderr, flush=True)


def run_cases(config, only, library, bench_train, bench_infer, bench_gemm, bench_softmax, bench_lenet=None):
    """Runs one peer's selected cases (train with LeNet-5 when the peer has it, infer, gemm,
    softmax) and prints its records."""
    records = []
    if "train" in only:
        records += bench_train(config, synthetic_data(config.rows))
    if ("train" in only or "lenet" in only) and bench_lenet is not None:
        records += bench_lenet(config, synthetic_data(config.rows))
    if "infer" in only:
        data = synthetic_data(INFER_BATCH)
        for batch in INFER_BATCHES:
            records += bench_infer(config, data, batch)
    if "gemm" in only:
        records += bench_gemm(config)
    if "softmax" in only:
        records += bench_softmax(config)
    emit(records, library)
