#!/usr/bin/env python3
"""Reads a trace of trace_ops.c and prints, per operation, the files it stays in, in order.

A stay is a stretch of the operation in one file; calling into another file and coming back
makes three. The floor (the common/ base: errors, log, strings, ids; controller/base.c) is
not counted: time there belongs to the calling file. common/store counts as one file (its
parser callbacks would otherwise dominate). Layers: decide (volumes.c, snapshots.c, ...),
pool (every other controller file), store.

  count_stays.py [-v] BINARY TRACE SOURCE_TREE
"""
import collections
import os
import subprocess
import sys

DECIDE = {"volumes.c", "snapshots.c", "groups.c", "attach.c", "resize.c"}


def main():
    args = [a for a in sys.argv[1:] if a != "-v"]
    verbose = "-v" in sys.argv
    binary, trace, src = args
    events = [line.split(" ", 1) for line in open(trace, encoding="utf-8").read().splitlines()]
    addrs = sorted({e[1] for e in events if e[0] in ("E", "X")})
    lines = subprocess.run(["addr2line", "-f", "-e", binary] + addrs, capture_output=True,
                           text=True, check=True).stdout.splitlines()
    where = {}
    for i, a in enumerate(addrs):
        f = os.path.relpath(lines[2 * i + 1].split(":")[0], src)
        where[a] = "common/store" if f.startswith("common/store/") else f

    def floor(f):
        return ((os.path.dirname(f) == "common" and f.endswith(".c")) or f == "controller/base.c"
                or f.startswith(("..", "/", "?")))

    ops = collections.OrderedDict()
    stack = []
    for kind, arg in events:
        if kind == "OP":
            ops[arg], stack = [], []
            continue
        if kind == "E":
            stack.append(where[arg])
        else:
            stack.pop()
        cur = next((f for f in reversed(stack) if not floor(f)), None)
        seq = ops[next(reversed(ops))]
        if cur and (not seq or seq[-1] != cur):
            seq.append(cur)
    for op, seq in ops.items():
        names = ["store" if f == "common/store" else os.path.basename(f) for f in seq]
        layers = []
        for n in names:
            layer = "store" if n == "store" else "decide" if n in DECIDE else "pool"
            if not layers or layers[-1] != layer:
                layers.append(layer)
        print(f"{op}: {len(seq)} stays in {len(set(seq))} files "
              f"({len(seq) - len(set(seq))} returns to a file already left); "
              f"decision file entered {layers.count('decide')} times; "
              f"{len(layers)} layer stays")
        if verbose:
            print("   " + " → ".join(names))
            print("   " + " → ".join(layers))


if __name__ == "__main__":
    main()
