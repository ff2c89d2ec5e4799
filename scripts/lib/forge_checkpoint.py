"""Reads and rewrites backprop safetensors checkpoints, to forge hostile variants of a valid one.

    header, data = read(path); write(path, header, data)
    forge(path, out, "training_state", "epoch_seen", 2**63 - 1)   # one metadata JSON field
"""
import json
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def write(path, header, data):
    text = json.dumps(header, separators=(",", ":")).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


def forge(src, dst, key, field, value):
    """Sets `field` of the JSON string `__metadata__[key]` (or the string itself when field is None)."""
    header, data = read(src)
    meta = header["__metadata__"]
    if field is None:
        meta[key] = value
    else:
        obj = json.loads(meta[key])
        obj[field] = value
        meta[key] = json.dumps(obj, separators=(",", ":"))
    write(dst, header, data)


if __name__ == "__main__":
    # forge_checkpoint.py SRC DST KEY FIELD JSON-VALUE  (FIELD "-" sets the metadata string itself)
    src, dst, key, field, value = sys.argv[1:6]
    forge(src, dst, key, None if field == "-" else field, json.loads(value))
