#!/usr/bin/env python3
"""Fuzzes the `backprop` command line: random argument lists, environment variables and small
files (including checkpoints forged from a valid one) against a built binary.

Each case runs in a fresh copy of a directory of small files and must
  - exit with 0, 1, 2, 130 or 143 (never a signal or a Swift trap), within a time limit
    (after which it gets SIGTERM, which a training run answers with 143; no answer is a hang);
  - print at most three lines on stderr when it fails;
  - change no file other than the outputs it names (--save, --report; a resumed checkpoint),
    and leave no temporary file behind.

    scripts/fuzz_cli.py --binary .build/release/backprop --cases 10000 [--seed N] [--jobs 2]

Failures are written to fuzz-artifacts/cli/ (the command, environment and output) and make
the exit status 1. See scripts/fuzz-cli, which builds the release binary first.
"""
import argparse
import atexit
import concurrent.futures
import gzip
import hashlib
import json
import os
import random
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import forge_checkpoint  # noqa: E402

ALLOWED = {0, 1, 2, 130, 143}

INTS = ["0", "1", "2", "3", "-1", "-0", "7", "100", "1000000", "9223372036854775807", "9223372036854775808",
        "-9223372036854775808", "1e30", "nan", "inf", "", "abc", "0x10", "3037000500", "2147483647", " 5"]
FLOATS = ["0", "0.1", "1", "-1", "2", "1e30", "3e38", "1e-45", "nan", "inf", "-inf", "", "x", "0.5", "0.999", "1.0"]
STRINGS = ["", "x", "a\nb", "é", "-", "--", "a" * 300, "../", "/", "\x1b[31m"]


def make_files(root, binary):
    """The small files every case starts from, and a valid checkpoint trained once."""
    def put(name, data):
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
    rng = random.Random(7)
    rows = ["a,b,label"] + [f"{rng.random():.3f},{rng.random():.3f},{i % 3}" for i in range(30)]
    put("d.csv", "\n".join(rows) + "\n")
    put("mid.csv", "a,label,b\n" + "\n".join(f"{i % 2 + 0.1},{i % 2},{i % 3}" for i in range(20)) + "\n")
    put("d.csv.gz", gzip.compress(("\n".join(rows) + "\n").encode()))
    put("fake.csv.gz", "1,2,3\n")
    put("ragged.csv", "a,b,label\n1,2,0\n3\n")
    put("nan.csv", "a,b,label\n1,nan,0\n2,3,1\n")
    put("biglabel.csv", "a,b,label\n1,2,0\n3,4,1000000\n")
    put("huge.csv", "a,b,label\n1,2,2147483648\n")
    put("floatlabel.csv", "1,2,1e30\n3,4,0.5\n")
    put("one.csv", "a,b,label\n1,2,1\n")
    put("single.csv", "a,b,label\n1,2,0\n3,4,0\n")
    put("header.csv", "a,b,label\n")
    put("empty.csv", b"")
    put("garbage.bin", bytes(rng.randrange(256) for _ in range(300)))
    put("sub/keep.txt", "keep")
    idx = lambda magic, dims, body: struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + body
    put("mnist/train-images-idx3-ubyte", idx(0x803, [4, 2, 2], bytes(range(16))))
    put("mnist/train-labels-idx1-ubyte", idx(0x801, [4], bytes([0, 1, 2, 1])))
    put("mnist/t10k-images-idx3-ubyte", idx(0x803, [2, 2, 2], bytes(range(8))))
    put("mnist/t10k-labels-idx1-ubyte", idx(0x801, [2], bytes([0, 1])))
    os.symlink("d.csv", os.path.join(root, "link.csv"))
    os.symlink("nowhere.st", os.path.join(root, "dangling.st"))
    for optimizer, name in [("adam", "m.st"), ("sgd", "s.st")]:
        subprocess.run([binary, "train", "--dataset", "csv", "--data", "d.csv", "--epochs", "2", "--quiet",
                        "--optimizer", optimizer, "--save", name, "--backend", "swift"]
                       + (["--momentum", "0.9"] if optimizer == "sgd" else []),
                       cwd=root, check=True, capture_output=True)
    forge_all(root, rng)


FORGED_FIELDS = [
    ("settings", "batch_size", [0, -1, 2**63 - 1, "x", None]),
    ("settings", "epochs", [0, 2**63 - 1, -5]),
    ("settings", "learning_rate", [-1, 0, 1e30, "nan"]),
    ("settings", "momentum", [2, -1, 1]),
    ("settings", "clip_grad_norm", [-1, 0]),
    ("settings", "layers", [[], [2], [2, 0, 3], [2, 4000000000, 3], [2, 32, 3]]),
    ("settings", "data", ["/dev/zero", "/nonexistent", "", "mid.csv"]),
    ("settings", "dataset", ["mnist", "cifar", "xor", "digits"]),
    ("settings", "test_split", [1, -0.5, 0.999]),
    ("settings", "label_column", ["label", "zzz", "-1", "99"]),
    ("training_state", "epoch_seen", [2**63 - 1, -1]),
    ("training_state", "epoch_correct", [2**63 - 1, 5]),
    ("training_state", "epochs_completed", [2**63 - 1, 1000, -1]),
    ("training_state", "batches_completed", [2**63 - 1, 1, 99]),
    ("training_state", "epoch_start_rng", [["0" * 16] * 4, ["1"] * 4, [], ["f" * 16] * 4]),
    ("training_state", "epoch_loss_sum", [1e308, -1]),
    ("training_state", "history", [[], [{}], "x"]),
    ("optimizer", "step", [2**63 - 1, -1, 0]),
    ("optimizer", "kind", ["sgd", "adam", "adamw", "rmsprop"]),
    ("optimizer", "beta1", [1, 2, -1]),
    ("optimizer", "learning_rate", [-1, 1e38]),
]


def forge_all(root, rng):
    """f0.st ... : the valid checkpoints with one field (or a few bytes) changed."""
    n = 0
    for source in ["m.st", "s.st"]:
        src = os.path.join(root, source)
        for key, field, values in FORGED_FIELDS:
            value = rng.choice(values)
            try:
                forge_checkpoint.forge(src, os.path.join(root, f"f{n}.st"), key, field, value)
                n += 1
            except (KeyError, ValueError, TypeError):
                pass
        header, data = forge_checkpoint.read(src)
        meta = header["__metadata__"]
        for key, value in [("architecture", "dense:2:" + "9" * 100000), ("architecture", "dense:2:32,relu,dense:32:3\n"),
                           ("classes", "0"), ("loss", "hinge"), ("format", "backprop-2"), ("normalization", "{}"),
                           ("image_shape", "0x0")]:
            h = json.loads(json.dumps(header))
            h["__metadata__"][key] = value
            forge_checkpoint.write(os.path.join(root, f"f{n}.st"), h, data)
            n += 1
        raw = open(src, "rb").read()
        for _ in range(6):
            b = bytearray(raw)
            for _ in range(rng.randint(1, 4)):
                b[rng.randrange(len(b))] = rng.randrange(256)
            open(os.path.join(root, f"f{n}.st"), "wb").write(bytes(b))
            n += 1
        open(os.path.join(root, f"f{n}.st"), "wb").write(raw[: rng.randrange(len(raw))])
        n += 1
    return n


def forged_names(root):
    return sorted(f for f in os.listdir(root) if f.startswith("f") and f.endswith(".st"))


class Case:
    def __init__(self, rng, root):
        self.rng = rng
        self.forged = forged_names(root)
        self.inputs = ["d.csv", "mid.csv", "d.csv.gz", "fake.csv.gz", "ragged.csv", "nan.csv", "biglabel.csv",
                       "huge.csv", "floatlabel.csv", "one.csv", "single.csv", "header.csv", "empty.csv", "garbage.bin",
                       "link.csv", "sub", "mnist", "nope.csv", "/dev/zero", "null", "/proc/self/mem", "a\nb.csv", ""]
        self.models = ["m.st", "s.st", "nope.st", "d.csv", "sub", "/dev/zero", "dangling.st"] + self.forged
        # Never the real /dev/null: a regression would replace the machine's (it happened once,
        # with the binary from before the output checks). "fifo" and "null" are made per case.
        self.outputs = ["o.st", "r.html", "m.st", "d.csv", "sub", "", "fifo", "null", "link.csv", "dangling.st",
                        "nodir/o.st", "/proc/o.st", "a" * 243, "a" * 300, "sub/../o.st", "x\ny.st"]

    def pick(self, pool):
        return self.rng.choice(pool)

    # Mostly plausible values, so cases get past option parsing into loading and training.
    VALID = {"int": ["1", "2", "3", "4", "16", "32"], "float": ["0.1", "0.5", "0.01", "0.2", "0.9"]}

    def value(self, kind):
        r = self.rng
        if r.random() < 0.08:
            return self.pick(STRINGS)
        if kind in self.VALID and r.random() < 0.6:
            return self.pick(self.VALID[kind])
        return {"int": lambda: self.pick(INTS), "float": lambda: self.pick(FLOATS), "in": lambda: self.pick(self.inputs),
                "model": lambda: self.pick(self.models), "out": lambda: self.pick(self.outputs),
                "widths": lambda: self.pick(["8", "2,3", "0", "5000000", "4,4,4", "64,10", "-1", "", "a,b", "1,,2",
                                             "100000000000", "2,32,3", "9223372036854775807"]),
                "dataset": lambda: self.pick(["digits", "edges", "xor", "mnist", "csv", "cifar"]),
                "act": lambda: self.pick(["relu", "sigmoid", "tanh", "gelu"]),
                "loss": lambda: self.pick(["cross-entropy", "mse", "bce"]),
                "opt": lambda: self.pick(["sgd", "adam", "adamw", "lion"]),
                "norm": lambda: self.pick(["none", "scale", "standardize", "z"]),
                "backend": lambda: self.pick(["swift", "c", "openblas", "swift,c", "gpu", ""]),
                "label": lambda: self.pick(["label", "0", "1", "-1", "99", "b", "zzz"]),
                "split": lambda: self.pick(["test", "train", "all", "none"]),
                "example": lambda: self.pick(["worked", "xor", "edges", "nope"]),
                # Valid values stay small (a run has a time limit); the rest probe the bounds.
                "rounds": lambda: self.pick(["1", "2", "3", "0", "1001", "-1", "2.5", "1e3", "9223372036854775808"]),
                "settle": lambda: self.pick(["0", "0.001", "0.01", "nan", "inf", "-1", "60.5", "1e400", "-0"])}[kind]()

    TRAIN = [("--dataset", "dataset"), ("--data", "in"), ("--label-column", "label"), ("--test-split", "float"),
             ("--layers", "widths"), ("--hidden", "widths"), ("--activation", "act"), ("--loss", "loss"),
             ("--normalize", "norm"), ("--optimizer", "opt"), ("--lr", "float"), ("--momentum", "float"),
             ("--nesterov", None), ("--beta1", "float"), ("--beta2", "float"), ("--eps", "float"),
             ("--weight-decay", "float"), ("--epochs", "int"), ("--batch-size", "int"), ("--seed", "int"),
             ("--clip-grad-norm", "float"), ("--backend", "backend"), ("--threads", "int"), ("--save", "out"),
             ("--report", "out"), ("--resume", "model"), ("--json", None), ("--quiet", None)]
    EVAL = [("--model", "model"), ("--dataset", "dataset"), ("--data", "in"), ("--label-column", "label"),
            ("--split", "split"), ("--test-split", "float"), ("--seed", "int"), ("--backend", "backend"),
            ("--threads", "int"), ("--json", None)]
    PREDICT = [("--model", "model"), ("--input", "in"), ("--label-column", "label"), ("--backend", "backend"),
               ("--threads", "int"), ("--json", None)]
    TRACE = [("--example", "example"), ("--lr", "float"), ("--decimals", "int"), ("--json", None)]
    BENCH = [("--backend", "backend"), ("--threads", "int"), ("--sizes", "widths"), ("--repeat", "int"),
             ("--min-time", "float"), ("--rounds", "rounds"), ("--settle", "settle"), ("--json", None), ("--csv", None),
             ("--quick", None)]

    def arguments(self):
        r = self.rng
        command = r.choices(["train", "eval", "predict", "trace", "bench", "backends", "other"],
                            weights=[45, 15, 15, 6, 6, 3, 3])[0]
        if command == "other":
            return [self.pick(["--help", "--version", "help", "frobnicate", "", "train --help", "-x"])]
        options = {"train": self.TRAIN, "eval": self.EVAL, "predict": self.PREDICT, "trace": self.TRACE,
                   "bench": self.BENCH, "backends": [("--json", None)]}[command]
        args = [command]
        if command == "bench":
            # Cheap by default (random values may still ask for more; the time limit applies).
            args += [self.pick(["gemm", "softmax", "train", "infer"]), "--min-time", "0", "--repeat", "1", "--sizes", "4"]
        if command == "train" and r.random() < 0.7:
            args += ["--epochs", self.pick(["1", "2", "3"])]
        if command == "train" and r.random() < 0.4:
            args += ["--dataset", "csv", "--data", self.pick(["d.csv", "mid.csv", "d.csv.gz", "one.csv"])]
        if command in ("eval", "predict"):
            args += ["--model", self.pick(self.models)]
        if command == "predict":
            args += ["--input", self.pick(["d.csv", "mid.csv", "floatlabel.csv"] + self.inputs)]
        for _ in range(r.randint(0, 5)):
            name, kind = self.pick(options)
            args.append(name)
            if kind:
                args.append(self.value(kind))
        if r.random() < 0.05:
            args.insert(r.randrange(len(args) + 1), self.pick(STRINGS))
        return args

    def environment(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BACKPROP_", "OMP_"))}
        r = self.rng
        for name, values in [("BACKPROP_BACKEND", ["swift", "c", "openblas", "garbage", ""]),
                             ("BACKPROP_NUM_THREADS", ["1", "2", "0", "-1", "abc", "10000", "1,2", ""]),
                             ("OMP_NUM_THREADS", ["1", "3", "x", "100000"]),
                             ("BACKPROP_SIMD", ["portable", "avx2", "avx512", "garbage"]),
                             ("BACKPROP_OPENBLAS_DISABLE", ["1"]),
                             ("BACKPROP_OPENBLAS_LIBRARY", ["/nonexistent.so", "/dev/null"])]:
            if r.random() < 0.1:
                env[name] = self.pick(values)
        return env


# What `train` prints on stderr before its work when not --quiet (docs/RELIABILITY.md: "the
# error is the last line after the progress notes"); these do not count as error lines.
PROGRESS = ("epoch ", "model: ", "backend: ", "resuming at ", "note: ", "digits: ", "edges: ", "xor: ", "mnist (",
            "csv (")


def check_failure_output(stderr, args):
    """A failure prints one `error:` line, last, and at most three lines besides progress notes."""
    lines = stderr.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    errors = [line for line in lines if line.startswith("error: ")]
    other = [line for line in lines if not line.startswith(PROGRESS)]
    if len(other) > 3:
        return f"{len(other)} stderr lines on failure (besides progress notes)"
    if len(errors) != 1 or not lines[-1].startswith("error: "):
        return f"{len(errors)} error lines, last line {lines[-1][:80] if lines else ''!r}"
    return None


def snapshot(root):
    files = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames + dirnames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            info = os.lstat(path)
            if stat.S_ISREG(info.st_mode):
                with open(path, "rb") as f:
                    digest = hashlib.sha1(f.read()).hexdigest()
            else:
                digest = stat.S_IFMT(info.st_mode)
            files[rel] = digest
    return files


def named_outputs(args):
    outputs = set()
    for i, a in enumerate(args[:-1]):
        if a in ("--save", "--report"):
            outputs.add(os.path.normpath(args[i + 1]) if args[i + 1] else "")
        if a == "--resume":
            outputs.add(os.path.normpath(args[i + 1]) if args[i + 1] else "")
    return outputs


def run_case(binary, template, seed, time_limit):
    rng = random.Random(seed)
    work = tempfile.mkdtemp(prefix="fuzz-cli-")
    try:
        root = os.path.join(work, "d")
        shutil.copytree(template, root, symlinks=True)
        os.mkfifo(os.path.join(root, "fifo"))
        try:  # a private copy of /dev/null's device node, when running as root
            os.mknod(os.path.join(root, "null"), stat.S_IFCHR | 0o666, os.makedev(1, 3))
        except OSError:
            pass
        case = Case(rng, root)
        args, env = case.arguments(), case.environment()
        before = snapshot(root)
        devnull_before = os.stat("/dev/null").st_mode
        start = time.time()
        with open(os.path.join(work, "out"), "wb") as out, open(os.path.join(work, "err"), "wb") as err:
            process = subprocess.Popen([binary] + args, cwd=root, env=env, stdout=out, stderr=err,
                                       stdin=subprocess.DEVNULL)
            problem = None
            try:
                status = process.wait(timeout=time_limit)
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGTERM)
                try:
                    status = process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
                    status = None
                    problem = f"hang: no exit 10 s after SIGTERM (sent at {time_limit} s)"
        seconds = time.time() - start
        stderr = open(os.path.join(work, "err"), "rb").read().decode("utf-8", "replace")
        # Killed by the SIGTERM sent at the time limit (a command with nothing to save, such as
        # bench, keeps the default action) is what a shell reports as 143.
        if problem is None and status == -signal.SIGTERM and seconds >= time_limit:
            status = 143
        if problem is None and status not in ALLOWED:
            problem = f"exit status {status}" + (" (killed by a signal)" if status is not None and status < 0 else "")
        if problem is None and status in (1, 2):
            problem = check_failure_output(stderr, args)
        if problem is None:
            after = snapshot(root)
            allowed = named_outputs(args)
            for name in set(before) | set(after):
                if before.get(name) != after.get(name) and os.path.normpath(name) not in allowed:
                    problem = f"file changed or left behind: {name!r}"
                    break
            if os.stat("/dev/null").st_mode != devnull_before:
                problem = "/dev/null replaced"
        return seed, args, {k: v for k, v in env.items() if k.startswith(("BACKPROP_", "OMP_"))}, status, problem, stderr, seconds
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--time-limit", type=float, default=20)
    parser.add_argument("--artifacts", default="fuzz-artifacts/cli")
    parser.add_argument("--only", type=int, nargs="*", help="re-run these case seeds (from case-<seed>.json)")
    options = parser.parse_args()
    binary = os.path.abspath(options.binary)
    template = tempfile.mkdtemp(prefix="fuzz-cli-template-")
    atexit.register(shutil.rmtree, template, ignore_errors=True)  # also after an error or Ctrl-C
    make_files(template, binary)
    os.makedirs(options.artifacts, exist_ok=True)
    failures, statuses, started = 0, {}, time.time()
    seeds = options.only or range(options.seed * 1_000_000, options.seed * 1_000_000 + options.cases)
    options.cases = len(seeds)
    with concurrent.futures.ThreadPoolExecutor(options.jobs) as pool:
        for done, (seed, args, env, status, problem, stderr, seconds) in enumerate(
                pool.map(lambda s: run_case(binary, template, s, options.time_limit), seeds), 1):
            statuses[status] = statuses.get(status, 0) + 1
            if problem:
                failures += 1
                record = {"seed": seed, "args": args, "env": env, "status": status, "problem": problem,
                          "stderr": stderr[-4000:], "seconds": round(seconds, 2)}
                with open(os.path.join(options.artifacts, f"case-{seed}.json"), "w") as f:
                    json.dump(record, f, indent=1)
                print(f"FAIL seed {seed}: {problem}: {args} {env}", file=sys.stderr)
            if done % 500 == 0:
                print(f"{done} cases, {failures} failures, {time.time() - started:.0f} s", file=sys.stderr)
    summary = ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)))
    print(f"fuzz-cli: {options.cases} cases in {time.time() - started:.0f} s, {failures} failures; exit statuses {summary}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
