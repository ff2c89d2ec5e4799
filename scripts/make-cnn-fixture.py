#!/usr/bin/env python3
"""Writes the CNN interop fixture of Tests/BackpropTests/Fixtures: a checkpoint of a small
CNN in PyTorch's nn.Sequential names and layouts, and the logits PyTorch's semantics give.

    python3 scripts/make-cnn-fixture.py

PyTorch is not installable quickly here (its PyPI wheel pulls in gigabytes of CUDA
libraries), so the forward pass is written out in numpy with PyTorch's definitions:
nn.Conv2d is a cross-correlation over NCHW with weight (out, in, kh, kw); nn.BatchNorm2d in
eval mode is (x - running_mean) / sqrt(running_var + eps) * weight + bias with eps 1e-5;
nn.MaxPool2d(2); nn.Flatten(); nn.Linear is x @ weight.T + bias with weight (out, in).
The same module in PyTorch would be

    nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(2),
                  nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(),
                  nn.Linear(16, 5))

and `model.load_state_dict(safetensors.torch.load_file("cnn-python.safetensors"))` loads it
(the file's names are that module's state_dict keys, num_batches_tracked aside).

Files: cnn-python.safetensors (the checkpoint, Backprop metadata included) and
cnn-python-io.safetensors (`input` [3, 1, 8, 8] and the expected `logits` [3, 5]).
"""
import json
import pathlib
import struct

import numpy as np

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "BackpropTests" / "Fixtures"
ARCHITECTURE = "conv2d:1:3:3:pad=1,batchnorm2d:3,relu,maxpool2d:2,conv2d:3:4:3:stride=2:pad=1,relu,flatten,dense:16:5"


def save_safetensors(path, tensors, metadata=None):
    """The safetensors format: 8-byte little-endian header length, JSON header, F32 data."""
    header, offset, blobs = {}, 0, []
    if metadata:
        header["__metadata__"] = metadata
    for name, array in tensors.items():
        data = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def conv2d(x, w, b, stride=1, pad=0):
    n, c, h, wd = x.shape
    out, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = (h + 2 * pad - kh) // stride + 1, (wd + 2 * pad - kw) // stride + 1
    y = np.zeros((n, out, oh, ow), dtype=np.float64)
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            y[:, :, i, j] = np.einsum("nckl,ockl->no", patch, w) + b
    return y


def maxpool2(x):
    n, c, h, w = x.shape
    return x[:, :, :h // 2 * 2, :w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def main():
    rng = np.random.default_rng(20261130)
    f32 = lambda *shape, scale=0.5: (rng.standard_normal(shape) * scale).astype(np.float32)
    state = {
        "layers.0.weight": f32(3, 1, 3, 3), "layers.0.bias": f32(3),
        "layers.1.weight": (1 + f32(3, scale=0.2)), "layers.1.bias": f32(3, scale=0.2),
        "layers.1.running_mean": f32(3, scale=0.3),
        "layers.1.running_var": (0.5 + rng.random(3)).astype(np.float32),
        "layers.4.weight": f32(4, 3, 3, 3), "layers.4.bias": f32(4),
        "layers.7.weight": f32(5, 16), "layers.7.bias": f32(5),
    }
    x = rng.random((3, 1, 8, 8)).astype(np.float32)
    s = {k: v.astype(np.float64) for k, v in state.items()}
    y = conv2d(x.astype(np.float64), s["layers.0.weight"], s["layers.0.bias"], pad=1)
    y = (y - s["layers.1.running_mean"][None, :, None, None]) / np.sqrt(s["layers.1.running_var"] + 1e-5)[None, :, None, None]
    y = y * s["layers.1.weight"][None, :, None, None] + s["layers.1.bias"][None, :, None, None]
    y = maxpool2(np.maximum(y, 0))
    y = np.maximum(conv2d(y, s["layers.4.weight"], s["layers.4.bias"], stride=2, pad=1), 0)
    logits = y.reshape(3, -1) @ s["layers.7.weight"].T + s["layers.7.bias"]
    metadata = {"format": "backprop-1", "architecture": ARCHITECTURE, "loss": "cross-entropy",
                "classes": "5", "input_shape": "1x8x8"}
    save_safetensors(FIXTURES / "cnn-python.safetensors", state, metadata)
    save_safetensors(FIXTURES / "cnn-python-io.safetensors", {"input": x, "logits": logits.astype(np.float32)})
    print("wrote cnn-python.safetensors and cnn-python-io.safetensors; logits[0] =", logits[0])


if __name__ == "__main__":
    main()
