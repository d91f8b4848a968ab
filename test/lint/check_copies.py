#!/usr/bin/env python3
"""Refuses the copy that overflowed CreateVolume's stack: memcpy/memmove of a string with its
strlen() into a buffer whose size nobody checked. Copy strings into fixed arrays with
STR_COPY / STR_FORMAT (common/str.h), which refuse what does not fit.

  check_copies.py [ROOT]      check the daemon's and siloctl's sources
  check_copies.py --self-test prove that the pattern is caught
"""
import os
import re
import sys
import tempfile

FOLDERS = ["common", "common/server", "common/store", "common/metrics", "controller", "node",
           "cli"]
# memcpy(dst, src, strlen(...) ...) in any spelling, across line breaks.
COPY = re.compile(r"\bmem(?:cpy|move)\s*\((?:[^;()]|\([^;()]*\))*?\bstrn?len\s*\(", re.S)


def offenders(root):
    bad = []
    for folder in FOLDERS:
        d = os.path.join(root, folder)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(d, name)
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
            for m in COPY.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                bad.append(f"{folder}/{name}:{line}: string copied with memcpy/memmove and "
                           "strlen: use STR_COPY (common/str.h)")
    return bad


def self_test():
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "controller"))
        with open(os.path.join(root, "controller", "x.c"), "w", encoding="utf-8") as fh:
            fh.write("void f(char *d, const char *s)\n{\n"
                     "        memcpy(d->id, s,\n               strlen(s) + 1);\n}\n")
        if len(offenders(root)) != 1:
            print("self-test: the pattern was not caught")
            return 1
    return 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    bad = offenders(root)
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
