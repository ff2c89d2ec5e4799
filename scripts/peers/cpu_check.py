"""How much of the machine's CPUs this run really gets: parallel speed-up of a busy loop.

On a shared VM the host may run our vCPUs on fewer physical cores than we see, so two
threads can be no faster than one (and spin-waiting BLAS pools can collapse). This
runs one pure-Python loop pinned to CPU 0, then one per CPU at once, and prints
  cpu-check: N CPUs give S x the work of one (ideal N); one CPU alone: R M loop steps/s
so that every table says under which conditions its multi-thread numbers were taken.
"""

import os
import sys
import time
from multiprocessing import Process

LOOP = 3_000_000


def spin(cpu):
    os.sched_setaffinity(0, {cpu})
    x = 0
    for i in range(LOOP):
        x += i


def wall(cpus):
    procs = [Process(target=spin, args=(cpu,)) for cpu in cpus]
    start = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return time.perf_counter() - start


def main():
    cpus = sorted(os.sched_getaffinity(0))
    one = min(wall(cpus[:1]) for _ in range(3))
    together = min(wall(cpus) for _ in range(3))
    speedup = len(cpus) * one / together
    # The single-CPU rate shows when even one core is slowed: compare it between runs.
    print(f"cpu-check: {len(cpus)} CPUs give {speedup:.2f}x the work of one (ideal {len(cpus)}); "
          f"one CPU alone: {LOOP / one / 1e6:.1f} M loop steps/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
