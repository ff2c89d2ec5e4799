"""numpy peer: the MLP written from scratch the way backpropagation tutorials do it.

Threads: bench-peers sets OPENBLAS_NUM_THREADS/OMP_NUM_THREADS before Python starts,
and threadpoolctl limits the BLAS pool again here. numpy's element-wise work (ReLU,
exp, sums) is single-threaded whatever the setting; only the GEMMs use N threads.
"""

import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

import common


def forward(params, x):
    """x: (batch, 784) -> activations [x, a1, a2] and logits z3: (batch, 10)."""
    (w1, b1), (w2, b2), (w3, b3) = params
    a1 = np.maximum(x @ w1 + b1, 0.0)
    a2 = np.maximum(a1 @ w2 + b2, 0.0)
    return [x, a1, a2], a2 @ w3 + b3


def softmax(z):
    """Row-wise softmax, max subtracted for stability. z: (batch, classes)."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def train_step(params, x, y):
    """One SGD step on a batch. x: (batch, 784), y: one-hot (batch, 10). Updates in place."""
    acts, z = forward(params, x)
    dz = (softmax(z) - y) / x.shape[0]  # d loss / d z3 for mean cross-entropy
    for layer in range(len(params) - 1, -1, -1):
        w, b = params[layer]
        a = acts[layer]
        dw = a.T @ dz  # (in, batch) (batch, out) -> (in, out)
        db = dz.sum(axis=0)
        if layer > 0:
            dz = (dz @ w.T) * (a > 0)  # back through the ReLU that produced a
        w -= common.LEARNING_RATE * dw
        b -= common.LEARNING_RATE * db


def cross_entropy(params, x, labels):
    _, z = forward(params, x)
    p = softmax(z)
    return float(-np.log(p[np.arange(len(labels)), labels] + 1e-12).mean())


def bench_train(config, data):
    x, labels, onehot = data
    records = []
    for batch in config.train_batches:
        params = [(w.copy(), b.copy()) for w, b in common.initial_weights()]

        def run_steps(first, count):
            for i in range(first, first + count):
                s = slice(i * batch, (i + 1) * batch)
                train_step(params, x[s], onehot[s])

        times, chunk_samples = common.time_training(run_steps, batch, config)
        loss = cross_entropy(params, x[:1024], labels[:1024])
        records.append(common.samples_record("train", batch, chunk_samples, "numpy", config, times,
                                             loss_after=loss))
        common.progress(f"numpy train batch={batch}: {records[-1]['samples_per_second']:.0f} samples/s")
    return records


def bench_infer(config, data, batch):
    x = data[0][:batch]
    params = common.initial_weights()
    times = common.time_calls(lambda: softmax(forward(params, x)[1]), config)
    return [common.samples_record("infer", batch, batch, "numpy", config, times)]


def bench_gemm(config):
    records = []
    for m, n, k, variant in common.gemm_cases(config):
        a, b, c = common.gemm_operands(m, n, k, variant)
        op_a = a.T if variant[0] == "T" else a  # transposed views: BLAS gets the flag, no copy
        op_b = b.T if variant[1] == "T" else b
        times = common.time_calls(lambda: np.matmul(op_a, op_b, out=c), config)
        records.append(common.gemm_record(m, n, k, variant, "numpy", config, times))
    return records


def bench_softmax(config):
    records = []
    rng = np.random.default_rng(common.SEED + 3)
    for rows, cols in common.SOFTMAX_SHAPES:
        z = rng.standard_normal((rows, cols), dtype=np.float32)
        out = np.empty_like(z)

        def run():
            # Same maths as softmax() above, into a preallocated buffer.
            np.subtract(z, z.max(axis=1, keepdims=True), out=out)
            np.exp(out, out=out)
            np.divide(out, out.sum(axis=1, keepdims=True), out=out)
            return out

        records.append(common.softmax_record(rows, cols, "numpy", config, common.time_calls(run, config)))
    return records


def main():
    config, only = common.parse_args("numpy")
    with threadpool_limits(limits=config.threads):
        blas = [f"{p['internal_api']} {p['version']} {p.get('architecture', '?')}" for p in threadpool_info()]
        library = f"numpy {np.__version__} ({', '.join(blas) or 'no BLAS found'})"
        common.progress(f"numpy peer: {library}, threads={config.threads}")
        common.run_cases(config, only, library, bench_train, bench_infer, bench_gemm, bench_softmax)


if __name__ == "__main__":
    main()
