"""PyTorch CPU peer: nn.Sequential, F.cross_entropy, torch.optim.SGD, eager mode.

Threads: torch.set_num_threads(N) (intra-op pool, OpenMP + MKL in the CPU wheel) and
one inter-op thread; bench-peers also pins the process to N cores with taskset.
"""

import time

import torch
import torch.nn.functional as F
from torch import nn

import common


def build_model():
    """784-256-128-10 with the same He-normal start as the other peers."""
    layers = []
    params = common.initial_weights()
    for i, (w, b) in enumerate(params):
        linear = nn.Linear(w.shape[0], w.shape[1])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w.T.copy()))  # nn.Linear keeps (out, in)
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        if i < len(params) - 1:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def bench_train(config, data):
    x = torch.from_numpy(data[0])
    labels = torch.from_numpy(data[1])
    records = []
    for batch in config.train_batches:
        model = build_model()
        optimizer = torch.optim.SGD(model.parameters(), lr=common.LEARNING_RATE)

        def run_steps(first, count):
            for i in range(first, first + count):
                xb = x[i * batch:(i + 1) * batch]  # views, no copy
                yb = labels[i * batch:(i + 1) * batch]
                optimizer.zero_grad(set_to_none=True)
                F.cross_entropy(model(xb), yb).backward()
                optimizer.step()

        times, chunk_samples = common.time_training(run_steps, batch, config)
        with torch.no_grad():
            loss = float(F.cross_entropy(model(x[:1024]), labels[:1024]))
        records.append(common.samples_record("train", batch, chunk_samples, "torch", config, times,
                                             loss_after=loss))
        common.progress(f"torch train batch={batch}: {records[-1]['samples_per_second']:.0f} samples/s")
    return records


def build_lenet():
    """LeNet-5 as Backprop's `--arch lenet`, PyTorch's default initialization."""
    torch.manual_seed(common.SEED)
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def bench_lenet(config, data):
    """SGD steps of LeNet-5 at batch 64 on the rows seen as (1, 28, 28) images."""
    x = torch.from_numpy(data[0]).reshape(-1, 1, 28, 28)
    labels = torch.from_numpy(data[1])
    batch = common.LENET_BATCH
    model = build_lenet()
    optimizer = torch.optim.SGD(model.parameters(), lr=common.LEARNING_RATE)

    def run_steps(first, count):
        for i in range(first, first + count):
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(model(x[i * batch:(i + 1) * batch]), labels[i * batch:(i + 1) * batch]).backward()
            optimizer.step()

    times, chunk_samples = common.time_training(run_steps, batch, config)
    record = common.samples_record("train", batch, chunk_samples, "torch", config, times, variant="lenet")
    common.progress(f"torch train lenet batch={batch}: {record['samples_per_second']:.0f} samples/s")
    return [record]


def bench_infer(config, data, batch):
    x = torch.from_numpy(data[0][:batch])
    model = build_model()

    def run():
        with torch.inference_mode():
            return torch.softmax(model(x), dim=1)

    times = common.time_calls(run, config)
    return [common.samples_record("infer", batch, batch, "torch", config, times)]


def bench_gemm(config):
    records = []
    for m, n, k, variant in common.gemm_cases(config):
        a, b, c = (torch.from_numpy(t) for t in common.gemm_operands(m, n, k, variant))
        op_a = a.t() if variant[0] == "T" else a  # strided views; torch passes the flag to BLAS
        op_b = b.t() if variant[1] == "T" else b
        times = common.time_calls(lambda: torch.mm(op_a, op_b, out=c), config)
        records.append(common.gemm_record(m, n, k, variant, "torch", config, times))
    return records


def bench_softmax(config):
    records = []
    gen = torch.Generator().manual_seed(common.SEED + 3)
    for rows, cols in common.SOFTMAX_SHAPES:
        z = torch.randn(rows, cols, generator=gen)
        times = common.time_calls(lambda: torch.softmax(z, dim=1), config)  # allocates its output
        records.append(common.softmax_record(rows, cols, "torch", config, times))
    return records


def main():
    config, only = common.parse_args("torch")
    torch.set_num_threads(config.threads)
    torch.set_num_interop_threads(1)
    library = (f"torch {torch.__version__} (MKL {torch.backends.mkl.is_available()}, "
               f"oneDNN {torch.backends.mkldnn.is_available()}, {torch.backends.cpu.get_cpu_capability()})")
    common.progress(f"torch peer: {library}, threads={torch.get_num_threads()}")
    common.run_cases(config, only, library, bench_train, bench_infer, bench_gemm, bench_softmax, bench_lenet)


if __name__ == "__main__":
    main()
