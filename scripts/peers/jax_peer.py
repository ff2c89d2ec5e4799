"""JAX peer: the whole SGD step (forward, grad, update) under one jax.jit.

Threads: XLA's CPU client sizes its pool from the cores it can see and has no
thread setting, so bench-peers pins the process with `taskset -c 0..N-1`.
"""

import time
from functools import partial

import jax
import jaxlib
import jax.numpy as jnp
from jax import lax

import common


def forward(params, x):
    """x: (batch, 784) -> logits (batch, 10)."""
    for w, b in params[:-1]:
        x = jax.nn.relu(x @ w + b)
    w, b = params[-1]
    return x @ w + b


def loss_fn(params, x, labels):
    """Mean softmax cross-entropy; labels: (batch,) int."""
    logp = jax.nn.log_softmax(forward(params, x))
    return -jnp.take_along_axis(logp, labels[:, None], axis=1).mean()


def make_step(batch):
    """Jitted step that slices batch i out of the device-resident data itself."""

    @partial(jax.jit, donate_argnums=0)
    def step(params, x, labels, i):
        xb = lax.dynamic_slice_in_dim(x, i * batch, batch)
        yb = lax.dynamic_slice_in_dim(labels, i * batch, batch)
        grads = jax.grad(loss_fn)(params, xb, yb)
        return jax.tree_util.tree_map(lambda p, g: p - common.LEARNING_RATE * g, params, grads)

    return step


def initial_params():
    return [(jnp.asarray(w), jnp.asarray(b)) for w, b in common.initial_weights()]


def bench_train(config, data):
    x = jnp.asarray(data[0])
    labels = jnp.asarray(data[1].astype("int32"))
    records = []
    for batch in config.train_batches:
        step = make_step(batch)
        params = initial_params()

        def run_steps(first, count):
            nonlocal params
            for i in range(first, first + count):
                params = step(params, x, labels, i)
            jax.block_until_ready(params)

        times, chunk_samples = common.time_training(run_steps, batch, config)
        loss = float(loss_fn(params, x[:1024], labels[:1024]))
        records.append(common.samples_record("train", batch, chunk_samples, "jax", config, times,
                                             loss_after=loss))
        common.progress(f"jax train batch={batch}: {records[-1]['samples_per_second']:.0f} samples/s")
    return records


def lenet_forward(params, x):
    """x: (batch, 1, 28, 28) NCHW -> logits (batch, 10); LeNet-5 as Backprop's `--arch lenet`."""
    (w1, b1), (w2, b2), (w3, b3), (w4, b4), (w5, b5) = params

    def conv_relu_pool(x, w, b, pad):
        z = lax.conv_general_dilated(x, w, (1, 1), [(pad, pad), (pad, pad)],
                                     dimension_numbers=("NCHW", "OIHW", "NCHW"))
        a = jax.nn.relu(z + b[None, :, None, None])
        return lax.reduce_window(a, -jnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")

    x = conv_relu_pool(x, w1, b1, 2)
    x = conv_relu_pool(x, w2, b2, 0).reshape(x.shape[0], -1)
    x = jax.nn.relu(x @ w3 + b3)
    x = jax.nn.relu(x @ w4 + b4)
    return x @ w5 + b5


def lenet_params():
    """Uniform ±1/sqrt(fan_in) weights (PyTorch's default range), fixed seed."""
    key = jax.random.PRNGKey(common.SEED)
    shapes = [((6, 1, 5, 5), 25), ((16, 6, 5, 5), 150), ((400, 120), 400), ((120, 84), 120), ((84, 10), 84)]
    params = []
    for shape, fan_in in shapes:
        key, wk = jax.random.split(key)
        bound = 1.0 / fan_in ** 0.5
        params.append((jax.random.uniform(wk, shape, jnp.float32, -bound, bound),
                       jnp.zeros(shape[0] if len(shape) == 4 else shape[1], jnp.float32)))
    return params


def bench_lenet(config, data):
    """The whole LeNet-5 SGD step under one jax.jit, batch 64, rows seen as (1, 28, 28)."""
    x = jnp.asarray(data[0].reshape(-1, 1, 28, 28))
    labels = jnp.asarray(data[1].astype("int32"))
    batch = common.LENET_BATCH

    def loss(params, xb, yb):
        logp = jax.nn.log_softmax(lenet_forward(params, xb))
        return -jnp.take_along_axis(logp, yb[:, None], axis=1).mean()

    @partial(jax.jit, donate_argnums=0)
    def step(params, i):
        xb = lax.dynamic_slice_in_dim(x, i * batch, batch)
        yb = lax.dynamic_slice_in_dim(labels, i * batch, batch)
        grads = jax.grad(loss)(params, xb, yb)
        return jax.tree_util.tree_map(lambda p, g: p - common.LEARNING_RATE * g, params, grads)

    params = lenet_params()

    def run_steps(first, count):
        nonlocal params
        for i in range(first, first + count):
            params = step(params, i)
        jax.block_until_ready(params)

    times, chunk_samples = common.time_training(run_steps, batch, config)
    record = common.samples_record("train", batch, chunk_samples, "jax", config, times, variant="lenet")
    common.progress(f"jax train lenet batch={batch}: {record['samples_per_second']:.0f} samples/s")
    return [record]


def bench_infer(config, data, batch):
    x = jnp.asarray(data[0][:batch])
    params = initial_params()
    infer = jax.jit(lambda p, x: jax.nn.softmax(forward(p, x), axis=1))
    times = common.time_calls(lambda: infer(params, x), config, sync=jax.block_until_ready)
    return [common.samples_record("infer", batch, batch, "jax", config, times)]


def bench_gemm(config):
    records = []
    for m, n, k, variant in common.gemm_cases(config):
        a, b, _ = (jnp.asarray(t) for t in common.gemm_operands(m, n, k, variant))
        ta, tb = variant[0] == "T", variant[1] == "T"
        mm = jax.jit(lambda a, b: (a.T if ta else a) @ (b.T if tb else b))  # allocates C
        times = common.time_calls(lambda: mm(a, b), config, sync=jax.block_until_ready)
        records.append(common.gemm_record(m, n, k, variant, "jax", config, times))
    return records


def bench_softmax(config):
    records = []
    key = jax.random.PRNGKey(common.SEED + 3)
    softmax = jax.jit(lambda z: jax.nn.softmax(z, axis=1))
    for rows, cols in common.SOFTMAX_SHAPES:
        z = jax.random.normal(key, (rows, cols), dtype=jnp.float32)
        times = common.time_calls(lambda: softmax(z), config, sync=jax.block_until_ready)
        records.append(common.softmax_record(rows, cols, "jax", config, times))
    return records


def main():
    config, only = common.parse_args("jax")
    library = f"jax {jax.__version__} (jaxlib {jaxlib.__version__}, {jax.devices()[0].platform})"
    common.progress(f"jax peer: {library}, threads={config.threads} (by taskset)")
    common.run_cases(config, only, library, bench_train, bench_infer, bench_gemm, bench_softmax, bench_lenet)


if __name__ == "__main__":
    main()
