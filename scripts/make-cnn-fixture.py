#!/usr/bin/env python3
"""Writes the PyTorch interop fixtures of Tests/BackpropTests/Fixtures with real PyTorch, in
both directions, for `CNNInteropTests` (which needs no PyTorch to run):

    python3 -m venv /tmp/venv-torch
    /tmp/venv-torch/bin/pip install torch safetensors numpy      # the CPU wheel is enough
    /tmp/venv-torch/bin/python scripts/make-cnn-fixture.py

PyTorch -> Backprop. The script builds the `torch.nn.Sequential` that an architecture text
describes (`torch_model` below: conv2d -> nn.Conv2d, maxpool2d -> nn.MaxPool2d, batchnorm2d ->
nn.BatchNorm2d, dense -> nn.Linear, sequential:[...] -> a nested nn.Sequential, ...), held as
the `layers` attribute of a module, so its `state_dict()` keys are Backprop's names
(`layers.0.weight`, `layers.1.running_mean`, `layers.2.1.weight` for a nested Sequential).
It trains the model for a few steps in train mode, so that the batch-norm running statistics
are PyTorch's own, switches to eval mode and writes
  cnn-torch.safetensors        the state_dict (num_batches_tracked dropped) with Backprop's
                               metadata (format, architecture, loss, classes, input_shape),
                               written by safetensors.torch.save_file;
  cnn-torch-io.safetensors     `input` [N, 1, 8, 8] and PyTorch's eval-mode `logits` [N, 10];
and the same for a network with a nested Sequential (cnn-torch-nested*.safetensors).

Backprop -> PyTorch. The script trains the same architecture with the Backprop CLI
(`backprop train --arch ... --save`, 2 epochs of Adam on the 8×8 digits, so its batch-norm
running statistics and weights are Backprop's own), copies the checkpoint to
  cnn-backprop.safetensors
loads it into the PyTorch model with `load_state_dict` (only num_batches_tracked may be
missing, nothing unexpected) and writes PyTorch's eval-mode logits for a fixed input to
  cnn-backprop-io.safetensors.

The Swift test loads both checkpoints and checks that Backprop's logits agree with PyTorch's.
"""
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "Tests" / "BackpropTests" / "Fixtures"

# Every kind with a PyTorch counterpart: conv with stride and padding, overlapping max pool,
# average pool, both batch norms, dropout, flatten, dense. Input 1x8x8 (the digits):
# [1,8,8] conv s2 p2 -> [6,5,5] -> maxpool 2/1 -> [6,4,4] -> conv p1 -> [8,4,4] -> avgpool 2 -> [8,2,2] -> 32
ARCHITECTURE = ("conv2d:1:6:3:stride=2:pad=2,batchnorm2d:6,relu,maxpool2d:2:stride=1,"
                "conv2d:6:8:3:pad=1,relu,avgpool2d:2,flatten,dropout:0.25,dense:32:16,batchnorm1d:16,tanh,dense:16:10")
# A Sequential inside the Sequential (named layers.0.0.weight, ... as nn.Sequential nests) and a
# global average pool: [1,8,8] -> [4,8,8] -> [4,4,4] -> [8,4,4] -> [8] -> 10
NESTED_ARCHITECTURE = ("sequential:[conv2d:1:4:3:pad=1,batchnorm2d:4,relu],maxpool2d:2,"
                       "sequential:[conv2d:4:8:3:pad=1:bias=false,sigmoid],globalavgpool2d,dense:8:10")
METADATA = {"format": "backprop-1", "loss": "cross-entropy", "classes": "10", "input_shape": "1x8x8"}


class GlobalAvgPool2d(nn.Module):
    """Backprop's globalavgpool2d: [N, C, H, W] -> [N, C]."""

    def forward(self, x):
        return x.mean(dim=(2, 3))


class Net(nn.Module):
    """The Sequential as the `layers` attribute, so state_dict keys read `layers.i. ...`."""

    def __init__(self, layers):
        super().__init__()
        self.layers = layers

    def forward(self, x):
        return self.layers(x)


def split_top_level(text):
    """Splits architecture text at the commas outside brackets."""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(text):
        depth += {"[": 1, "]": -1}.get(c, 0)
        if c == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return parts + [text[start:]]


def torch_module(part):
    """One architecture entry as the PyTorch module with the same semantics."""
    name, _, configuration = part.partition(":")
    if name == "sequential":
        assert configuration.startswith("[") and configuration.endswith("]"), part
        return torch_sequential(configuration[1:-1])
    if name == "dropout":
        return nn.Dropout(float(configuration))
    fields = configuration.split(":") if configuration else []
    sizes = [int(f) for f in fields if "=" not in f]
    options = dict(f.split("=") for f in fields if "=" in f)
    if name == "conv2d":
        return nn.Conv2d(sizes[0], sizes[1], sizes[2], stride=int(options.get("stride", 1)),
                         padding=int(options.get("pad", 0)), bias=options.get("bias", "true") == "true")
    if name in ("maxpool2d", "avgpool2d"):
        pool = nn.MaxPool2d if name == "maxpool2d" else nn.AvgPool2d
        return pool(sizes[0], stride=int(options.get("stride", sizes[0])))
    simple = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "flatten": nn.Flatten,
              "globalavgpool2d": GlobalAvgPool2d}
    if name in simple:
        return simple[name]()
    if name == "softmax":
        return nn.Softmax(dim=1)
    if name == "batchnorm1d":
        return nn.BatchNorm1d(sizes[0])  # eps 1e-5, momentum 0.1, as Backprop's
    if name == "batchnorm2d":
        return nn.BatchNorm2d(sizes[0])
    if name == "dense":
        return nn.Linear(sizes[0], sizes[1])
    raise ValueError(f"no PyTorch module for '{part}'")


def torch_sequential(text):
    return nn.Sequential(*[torch_module(part) for part in split_top_level(text)])


def state_for_backprop(model):
    """The state_dict as Backprop stores it: num_batches_tracked dropped, contiguous float32."""
    return {k: v.detach().contiguous().float() for k, v in model.state_dict().items()
            if not k.endswith("num_batches_tracked")}


def write_torch_checkpoint(architecture, stem, seed):
    """PyTorch -> Backprop: a model trained a few steps in PyTorch, saved with Backprop's metadata."""
    torch.manual_seed(seed)
    model = Net(torch_sequential(architecture))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    model.train()
    for _ in range(5):  # moves the running statistics away from (0, 1) and the weights off their init
        x = torch.rand(16, 1, 8, 8) * 2
        labels = torch.randint(0, 10, (16,))
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), labels).backward()
        optimizer.step()
    model.eval()
    x = torch.rand(5, 1, 8, 8)
    with torch.no_grad():
        logits = model(x)
    path = FIXTURES / f"{stem}.safetensors"
    save_file(state_for_backprop(model), str(path), metadata={**METADATA, "architecture": architecture})
    save_file({"input": x.contiguous(), "logits": logits.contiguous()}, str(FIXTURES / f"{stem}-io.safetensors"))
    # The file reads back into PyTorch as it was written.
    reloaded = Net(torch_sequential(architecture))
    missing, unexpected = reloaded.load_state_dict(load_file(str(path)), strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing), (missing, unexpected)
    reloaded.eval()
    with torch.no_grad():
        assert torch.equal(reloaded(x), logits)
    print(f"wrote {stem}.safetensors and {stem}-io.safetensors; logits[0] = {logits[0].numpy()}")


def backprop_binary():
    """The Backprop CLI (a debug build is fast enough for this small CNN)."""
    subprocess.run(["swift", "build", "--product", "backprop"], cwd=ROOT, check=True)
    return ROOT / ".build" / "debug" / "backprop"


def write_backprop_checkpoint(architecture):
    """Backprop -> PyTorch: a checkpoint trained by the Backprop CLI, predicted by PyTorch."""
    with tempfile.TemporaryDirectory() as directory:
        trained = pathlib.Path(directory) / "cnn.safetensors"
        subprocess.run([str(backprop_binary()), "train", "--arch", architecture, "--epochs", "2", "--optimizer", "adam",
                        "--lr", "0.005", "--seed", "3", "--backend", "swift", "--save", str(trained), "--quiet"],
                       cwd=ROOT, check=True, env={k: v for k, v in os.environ.items() if not k.startswith("BACKPROP_")})
        path = FIXTURES / "cnn-backprop.safetensors"
        shutil.copyfile(trained, path)
    model = Net(torch_sequential(architecture))
    # A full checkpoint also holds the optimizer's state, named after the parameters
    # (optimizer.layers.0.weight.exp_avg); the model's state_dict is the rest.
    tensors = load_file(str(path))
    state = {k: v for k, v in tensors.items() if not k.startswith("optimizer.")}
    parameter_names = {name for name, _ in model.named_parameters()}
    assert {k[len("optimizer."):].rsplit(".", 1)[0] for k in tensors if k.startswith("optimizer.")} == parameter_names
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing), (missing, unexpected)
    running_var = model.layers[1].running_var
    assert not torch.allclose(running_var, torch.ones_like(running_var)), "Backprop's running statistics were not saved"
    model.eval()
    generator = torch.Generator().manual_seed(7)
    x = torch.rand(5, 1, 8, 8, generator=generator)
    with torch.no_grad():
        logits = model(x)
    save_file({"input": x.contiguous(), "logits": logits.contiguous()}, str(FIXTURES / "cnn-backprop-io.safetensors"))
    print(f"wrote cnn-backprop.safetensors and cnn-backprop-io.safetensors; logits[0] = {logits[0].numpy()}")


def main():
    torch.set_num_threads(1)
    print(f"PyTorch {torch.__version__}, numpy {np.__version__}, Python {sys.version.split()[0]}")
    write_torch_checkpoint(ARCHITECTURE, "cnn-torch", seed=20261201)
    write_torch_checkpoint(NESTED_ARCHITECTURE, "cnn-torch-nested", seed=20261202)
    write_backprop_checkpoint(ARCHITECTURE)


if __name__ == "__main__":
    main()
