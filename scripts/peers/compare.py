"""Join Backprop's `bench --json` records with the peers' and print one table.

Usage: compare.py [--all-backends] [--stat median|best] [--out combined.json] [--check] FILE.json...

Every file holds one JSON array of records (case, variant, shape, backend, threads,
median/min/max_seconds and one of samples_per_second, gflops, gbps). Records from
the backends numpy, torch and jax are peers; any other backend is Backprop's. Rows
join on (case, variant, shape, threads); for cases other than gemm/train/infer the
variant is left out of the key, since only GEMM and the networks name one. Each row
shows Backprop's best backend (highest throughput) and the ratios Backprop / peer at
equal thread count: above 1 means Backprop is faster.

A file named ...-rN.json holds round N of interleaved rounds (bench-peers --rounds):
each cell is then the median over the rounds, and each ratio the median of the
per-round ratios, so a round in which the shared machine slowed everyone down counts
once instead of skewing every ratio measured across it.
"""

import argparse
import json
import re
import statistics
import sys

PEERS = ("numpy", "torch", "jax")
METRICS = (("samples_per_second", "samples/s"), ("gflops", "GFLOP/s"), ("gbps", "GB/s"))
CASE_ORDER = {"train": 0, "infer": 1, "gemm": 2, "softmax": 3, "cross_entropy": 4}


def metric(rec, stat="median"):
    """(value, unit) of the record's throughput; None if it has none.

    The records' throughput is at the median time; `stat="best"` rescales it to the
    fastest sample (min_seconds), which on a shared, noisy machine is the closer
    estimate of what the code can do, at the price of optimism.
    """
    for key, unit in METRICS:
        if isinstance(rec.get(key), (int, float)):
            value = float(rec[key])
            if stat == "best" and rec.get("min_seconds") and rec.get("median_seconds"):
                value *= float(rec["median_seconds"]) / float(rec["min_seconds"])
            return value, unit
    return None


def row_key(rec):
    variant = rec.get("variant", "") if rec.get("case") in ("gemm", "train", "infer") else ""
    return rec.get("case", "?"), variant, str(rec.get("shape", "?")), int(rec.get("threads", 0))


def sort_key(key):
    case, variant, shape, threads = key
    numbers = tuple(int(part) for part in shape.replace("batch=", "").split("x") if part.isdigit())
    return CASE_ORDER.get(case, 9), threads, variant, numbers, shape


def load(paths):
    records = []
    for path in paths:
        with open(path) as f:
            text = f.read()
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            # Tolerate a log line printed before or after the array.
            start, end = text.find("["), text.rfind("]")
            if start < 0 or end < start:
                raise ValueError(f"{path}: no JSON array in it")
            try:
                data = json.loads(text[start:end + 1])
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}: not JSON ({error})")
        if not isinstance(data, list):
            raise ValueError(f"{path}: expected a JSON array of records, got {type(data).__name__}")
        match = re.search(r"-r([0-9]+)\.json$", path)
        for r in data:
            if isinstance(r, dict) and metric(r):
                r.setdefault("round", int(match.group(1)) if match else 1)
                records.append(r)
    return records


def human(value, unit):
    if unit == "samples/s":
        return f"{value / 1000:.1f}k" if value < 1e6 else f"{value / 1e6:.2f}M"
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def cell(value, unit, key):
    """The throughput, plus microseconds per call for inference (batch / samples per second)."""
    text = human(value, unit)
    case, _, shape, _ = key
    if case == "infer" and unit == "samples/s" and shape.startswith("batch=") and shape[6:].isdigit():
        text += f" ({1e6 * int(shape[6:]) / value:.0f} us)"
    return text


def build_rows(records, all_backends, stat):
    """{key: {"unit": unit, "backprop": [(value, backend)], peer: value,
    "ratios": {(backend, peer): median of the per-round ratios}}}; values are medians over rounds."""
    by_key = {}
    for rec in records:
        value, unit = metric(rec, stat)
        entry = by_key.setdefault(row_key(rec), {"unit": unit, "runs": {}})
        backend = str(rec.get("backend", "?"))
        entry["runs"].setdefault(backend, {})[rec.get("round", 1)] = value
    rows = {}
    for key, entry in by_key.items():
        runs = entry["runs"]
        row = {"unit": entry["unit"], "backprop": [], "ratios": {}}
        for backend, per_round in runs.items():
            value = statistics.median(per_round.values())
            if backend in PEERS:
                row[backend] = value
            else:
                row["backprop"].append((value, backend))
        row["backprop"].sort(reverse=True)
        if not all_backends:
            row["backprop"] = row["backprop"][:1]
        for _, backend in row["backprop"]:
            for peer in PEERS:
                pairs = [runs[backend][r] / runs[peer][r] for r in runs[backend]
                         if r in runs.get(peer, {}) and runs[peer][r] > 0]
                if pairs:
                    row["ratios"][(backend, peer)] = statistics.median(pairs)
        rows[key] = row
    return rows


def format_table(rows, peers):
    header = ["case", "variant", "shape", "thr", "unit", "backprop (best)"] + list(peers)
    header += [f"bp/{p}" for p in peers]
    lines = []
    for key in sorted(rows, key=sort_key):
        row = rows[key]
        case, variant, shape, threads = key
        unit = row["unit"]
        backprops = row["backprop"] or [(None, "")]
        for value, backend in backprops:
            cells = [case, variant, shape, str(threads), unit,
                     f"{cell(value, unit, key)} {backend}" if value is not None else "-"]
            cells += [cell(row[p], unit, key) if p in row else "-" for p in peers]
            cells += [f"{row['ratios'][(backend, p)]:.2f}" if (backend, p) in row["ratios"] else "-"
                      for p in peers]
            lines.append(cells)
    widths = [max(len(str(c)) for c in column) for column in zip(header, *lines)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths))]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(c.ljust(w) for c, w in zip(cells, widths)) for cells in lines]
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--all-backends", action="store_true", help="one line per Backprop backend")
    parser.add_argument("--out", help="write all records, joined input, to this JSON file")
    parser.add_argument("--stat", choices=("median", "best"), default="median",
                        help="throughput at the median time (default) or at the fastest sample")
    parser.add_argument("--check", action="store_true", help="only check that the files hold records")
    args = parser.parse_args()
    try:
        records = load(args.files)
    except (OSError, ValueError) as error:
        print(f"compare: {error}", file=sys.stderr)
        return 1
    if args.check:
        return 0 if records else 1
    if not records:
        print("compare: no records to show", file=sys.stderr)
        return 1
    peers = [p for p in PEERS if any(r.get("backend") == p for r in records)]
    print(format_table(build_rows(records, args.all_backends, args.stat), peers))
    rounds = len({r["round"] for r in records})
    if rounds > 1:
        print(f"  {rounds} interleaved rounds: each figure is the median over the rounds, each ratio "
              "the median of the per-round ratios")
    if args.stat == "best":
        print("  throughput at each row's fastest sample (--stat best), not the median")
    libraries = sorted({r["library"] for r in records if r.get("library")})
    for library in libraries:
        print(f"  {library}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(records, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
