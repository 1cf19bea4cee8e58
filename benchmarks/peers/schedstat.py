"""Run-queue wait of this process, the figure every side of compare.sh reports for each timed round and
inference run (Kiln.Benchmarks and Kiln.Peers compute it the same way, in benchmarks/Kiln.Benchmarks/MachineProbes.cs).

/proc/self/task/<tid>/schedstat holds, per thread, the nanoseconds it ran and the nanoseconds it was runnable but
waited for a CPU. Over an interval, wait / (run + wait) summed over every thread of the process is the share of the
CPU time its threads asked for that they did not get: 0 when nothing else wanted the cores, 0.5 when another process
(or more runnable threads than cores) took half. It counts every thread -- the BLAS and OpenMP pools, the
interpreter's -- so it needs no thread count and cannot exceed 1.
"""

import os


def parse(text):
    """(run_ns, wait_ns) of one schedstat line; (0, 0) when it does not parse (a thread that exited meanwhile)."""
    fields = text.split()
    try:
        return int(fields[0]), int(fields[1])
    except (IndexError, ValueError):
        return 0, 0


def read_totals():
    """(run_ns, wait_ns) summed over every thread of this process; (0, 0) where /proc cannot be read."""
    run = wait = 0
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return 0, 0
    for tid in tids:
        try:
            with open(f"/proc/self/task/{tid}/schedstat") as f:
                r, w = parse(f.read())
        except OSError:
            continue
        run += r
        wait += w
    return run, wait


def wait_fraction(before, after):
    """wait / (run + wait) between two read_totals() readings, in [0, 1]; None when nothing ran (or a thread that
    exited took its figures with it)."""
    run, wait = after[0] - before[0], after[1] - before[1]
    if run < 0 or wait < 0 or run + wait <= 0:
        return None
    return wait / (run + wait)
