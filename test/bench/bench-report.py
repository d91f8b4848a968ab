#!/usr/bin/env python3
"""Turns silo-bench's JSON lines (stdin) into the Markdown table of the README's Performance section."""
import json
import sys


def fmt(v):
    if v is None:
        return ""
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"


def main():
    print("| phase | figure | median | unit | min–max | load | target | ratio |")
    print("| --- | --- | ---: | --- | --- | ---: | --- | --- |")
    for line in sys.stdin:
        if not line.startswith("{"):
            continue
        f = json.loads(line)
        if "skipped" in f:
            print(f"| {f['phase']} | {f['figure']} | skipped: {f['skipped']} | | | | | |")
            continue
        target = ""
        if "target_max" in f:
            ok = f["median"] <= f["target_max"]
            target = f"≤ {f['target_max']:g} {'met' if ok else '**missed**'}"
        ratio = ""
        if "floor_ratio" in f:
            ratio = f"{f['floor_ratio']:.2f}× {f['floor']}"
            if "target_max_ratio" in f:
                ok = f["floor_ratio"] <= f["target_max_ratio"]
                ratio += f" (≤ {f['target_max_ratio']:g}× {'met' if ok else '**missed**'})"
        print(f"| {f['phase']} | {f['figure']} | {fmt(f['median'])} | {f['unit']} | "
              f"{fmt(f['min'])}–{fmt(f['max'])} | {f['loadavg']:.2f} | {target} | {ratio} |")


if __name__ == "__main__":
    main()
