#!/usr/bin/env python3
"""Writes and checks the safetensors interop fixtures of Tests/BackpropTests/Fixtures.

    python3 -m venv .build-py && .build-py/bin/pip install safetensors numpy
    .build-py/bin/python scripts/make-fixtures.py          # (re)write python-written.safetensors
    .build-py/bin/python scripts/make-fixtures.py --check  # load swift-written.safetensors

python-written.safetensors holds one dense layer as PyTorch-style code saves it: a (3, 2)
weight, a 1-D bias of shape [2], and string metadata. SafeTensorsTests loads it and checks
every value. swift-written.safetensors is produced by Backprop's writer (SafeTensorsTests
asserts our encoder reproduces it byte for byte); --check loads it here with the reference
implementation, so both directions are covered.
"""
import pathlib
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "BackpropTests" / "Fixtures"

# 0.1 is not exact in binary: it checks the bits survive, not just "nice" values.
WEIGHT = np.array([[1.5, -2.0], [0.25, 3.0], [-0.125, 0.1]], dtype=np.float32)
BIAS = np.array([0.5, -0.75], dtype=np.float32)


def write_python_fixture():
    path = FIXTURES / "python-written.safetensors"
    save_file({"layers.0.weight": WEIGHT, "layers.0.bias": BIAS}, str(path),
              metadata={"writer": "python safetensors", "purpose": "interop fixture"})
    print(f"wrote {path} ({path.stat().st_size} bytes)")


def check_swift_fixture():
    path = FIXTURES / "swift-written.safetensors"
    tensors = load_file(str(path))
    assert sorted(tensors) == ["layers.0.bias", "layers.0.weight"], sorted(tensors)
    assert tensors["layers.0.weight"].dtype == np.float32
    assert tensors["layers.0.weight"].shape == (3, 2), tensors["layers.0.weight"].shape
    assert tensors["layers.0.bias"].shape == (2,), tensors["layers.0.bias"].shape
    assert np.array_equal(tensors["layers.0.weight"], WEIGHT), tensors["layers.0.weight"]
    assert np.array_equal(tensors["layers.0.bias"], BIAS), tensors["layers.0.bias"]
    with safe_open(str(path), framework="numpy") as f:
        metadata = f.metadata()
    assert metadata == {"writer": "backprop", "purpose": "interop fixture"}, metadata
    print(f"{path}: loads in safetensors with the expected names, shapes, values and metadata")


if __name__ == "__main__":
    if "--check" in sys.argv[1:]:
        check_swift_fixture()
    else:
        write_python_fixture()
