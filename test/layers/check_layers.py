#!/usr/bin/env python3
"""Enforces the layering in docs/architecture.md: every #include points down, and no two
source files call each other (directly or through a longer loop).

  check_layers.py [ROOT]   check the tree (default: the repository)
  check_layers.py --self-test   prove that an upward include and a call circle are caught
"""
import collections
import os
import re
import sys
import tempfile

# Folder -> folders its files may include (besides system headers). Lower layers first.
ALLOWED = {
    "common": {"common"},
    "common/store": {"common", "common/store"},
    "common/server": {"common", "common/store", "common/server"},
    "common/metrics": {"common", "common/server", "common/store", "common/metrics"},
    "controller": {"common", "common/store", "common/server", "controller"},
    "node": {"common", "common/store", "common/server", "node"},
    "cli": {"common", "cli"},
}
# The composition root wires the services together; it alone may include any layer.
ROOTS = {"common/server/main.c"}

INCLUDE = re.compile(r'^#include "([^"]+)"', re.M)
DEFINITION = re.compile(r"^(?!static)[a-z][\w \*]*?\b(\w+)\([^;{]*?\)\s*\{", re.M | re.S)
WORD = re.compile(r"\b\w+\b")


def sources(root):
    for folder in ALLOWED:
        d = os.path.join(root, folder)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if name.endswith((".c", ".h")):
                yield f"{folder}/{name}"


def upward_includes(root):
    bad = []
    for f in sources(root):
        if f in ROOTS:
            continue
        folder = os.path.dirname(f)
        with open(os.path.join(root, f), encoding="utf-8") as fh:
            text = fh.read()
        for inc in INCLUDE.findall(text):
            target = os.path.dirname(inc)
            if target in ALLOWED and target not in ALLOWED[folder]:
                bad.append(f"{f}: includes {inc} ({folder} may include only "
                           f"{', '.join(sorted(ALLOWED[folder]))})")
    return bad


def call_circles(root):
    """Strongly connected groups of .c files that use each other's functions."""
    files = [f for f in sources(root) if f.endswith(".c") and f not in ROOTS]
    text, owner = {}, {}
    for f in files:
        with open(os.path.join(root, f), encoding="utf-8") as fh:
            text[f] = fh.read()
        for m in DEFINITION.finditer(text[f]):
            owner.setdefault(m.group(1), f)
    uses = {f: sorted({owner[w] for w in set(WORD.findall(text[f]))
                       if w in owner and owner[w] != f}) for f in files}
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in uses[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    sys.setrecursionlimit(10000)
    for f in files:
        if f not in index:
            visit(f)
    return [f"call circle: {' <-> '.join(g)}" for g in out]


def check(root):
    return upward_includes(root) + call_circles(root)


def self_test():
    with tempfile.TemporaryDirectory() as t:
        for d in ("common", "controller", "node"):
            os.makedirs(os.path.join(t, d))
        files = {
            "common/base.c": '#include "common/base.h"\nint base_f(void)\n{\n\treturn 0;\n}\n',
            "common/base.h": "int base_f(void);\n",
            "node/a.c": '#include "common/base.h"\nint a_f(void)\n{\n\treturn base_f();\n}\n',
        }
        for name, body in files.items():
            with open(os.path.join(t, name), "w", encoding="utf-8") as fh:
                fh.write(body)
        assert check(t) == [], check(t)
        with open(os.path.join(t, "common/up.c"), "w", encoding="utf-8") as fh:
            fh.write('#include "node/a.h"\n')
        assert any("includes node/a.h" in p for p in check(t)), "upward include not caught"
        os.remove(os.path.join(t, "common/up.c"))
        with open(os.path.join(t, "node/b.c"), "w", encoding="utf-8") as fh:
            fh.write("int b_f(void)\n{\n\treturn a_f();\n}\n")
        with open(os.path.join(t, "node/a.c"), "a", encoding="utf-8") as fh:
            fh.write("int a_g(void)\n{\n\treturn b_f();\n}\n")
        assert any("call circle" in p for p in check(t)), "call circle not caught"
    print("self-test passed")


def main():
    if sys.argv[1:] == ["--self-test"]:
        self_test()
        return 0
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    problems = check(root)
    for p in problems:
        print(p)
    print(f"{len(problems)} layering problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
