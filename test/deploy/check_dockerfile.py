#!/usr/bin/env python3
"""Static checks of the container image build (Dockerfile, .dockerignore, install-deps.sh).

No container engine runs here, so the one failure that matters most — an image whose
binaries do not start because a shared library is missing — is checked from this machine:
every library the built silo and siloctl load (ldd) belongs (dpkg -S) to a package that the
runtime stage installs, to one of their dependencies (apt installs those too), or to the
bookworm-slim base (packages that are Essential or of Priority required). Likewise for the
programs the node plugin runs (mkfs, resize, grow). Prints one line per check and
"N passed, M failed"; exits 1 on any failure.

usage: check_dockerfile.py --silo BUILD/silo --siloctl BUILD/siloctl --source SOURCE_DIR
"""

import argparse
import os
import re
import shutil
import subprocess
import sys

# Programs silo runs as child processes on the node (DESIGN.md); the sources are searched
# for more (any `argv[] = {"program", ...}`), so a new tool cannot be forgotten here.
NODE_TOOLS = ("mkfs.ext4", "resize2fs", "e2fsck", "mkfs.xfs", "xfs_growfs")
ARGV_PROGRAM = re.compile(r'argv\[\]\s*=\s*\{\s*"([A-Za-z0-9_.+-]+)"')


def programs_in_sources(source):
    found = set()
    for d in ("node", "controller", "common"):
        top = os.path.join(source, d)
        for f in sorted(os.listdir(top)) if os.path.isdir(top) else []:
            if f.endswith(".c"):
                found |= set(ARGV_PROGRAM.findall(open(os.path.join(top, f), encoding="utf-8").read()))
    return found
# Sanitizer runtimes appear only in the ASan/UBSan test build, which is never shipped.
SANITIZER_LIBS = re.compile(r"^lib(asan|ubsan|lsan|tsan|hwasan)\.so")


class Report:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   {what}")
        else:
            self.failed += 1
            print(f"FAIL {what}" + (f": {detail}" if detail else ""))
        return ok


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def parse_dockerfile(path):
    """Stages as dicts: base, name, instructions [(KEYWORD, text)], continuations joined."""
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"\\\n", " ", text)
    stages = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        kw, _, rest = line.partition(" ")
        kw = kw.upper()
        if kw == "FROM":
            m = re.match(r"^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$", rest.strip(), re.I)
            stages.append({"base": m.group(1), "name": m.group(2), "ins": []})
        elif stages:
            stages[-1]["ins"].append((kw, " ".join(rest.split())))
    return stages


def runtime_packages(source):
    text = open(os.path.join(source, "deploy/install-deps.sh"), encoding="utf-8").read()
    text = re.sub(r"\\\n", " ", text)
    m = re.search(r'^RUNTIME="([^"]*)"', text, re.M)
    return set(m.group(1).split()) if m else set()


def installed():
    """{package: (essential, priority, depends-names)} for installed packages here."""
    out = run(["dpkg-query", "-W", "-f",
               "${Package}\t${Essential}\t${Priority}\t${Depends}, ${Pre-Depends}\t${db:Status-Abbrev}\n"])
    pkgs = {}
    for line in out.stdout.splitlines():
        name, ess, prio, deps, status = (line.split("\t") + [""] * 5)[:5]
        if not status.startswith("ii"):
            continue
        alts = []
        for dep in deps.split(","):
            names = [re.sub(r"[\s(:].*", "", a.strip()) for a in dep.split("|") if a.strip()]
            if names:
                alts.append(names)
        pkgs[name] = (ess == "yes", prio, alts)
    return pkgs


def closure(roots, pkgs):
    """Packages apt installs for roots: the roots and, recursively, their dependencies (for an
    alternative, the first one installed here)."""
    seen, todo = set(), list(roots)
    while todo:
        p = todo.pop()
        if p in seen or p not in pkgs:
            seen.add(p)
            continue
        seen.add(p)
        for alts in pkgs[p][2]:
            pick = next((a for a in alts if a in pkgs), alts[0])
            todo.append(pick)
    return seen


def candidates(path):
    """A file's names before and after /usr-merge, as dpkg may have recorded either."""
    cands = {path, os.path.realpath(path)}
    for c in list(cands):
        cands.add(c[len("/usr"):] if c.startswith("/usr/") else "/usr" + c)
    return cands


def owners(paths):
    """{path: Debian package owning it, or None}, from one dpkg -S call."""
    every = sorted({c for p in paths for c in candidates(p)})
    out = run(["dpkg", "-S"] + every) if every else None
    found = {}
    for line in (out.stdout if out else "").splitlines():
        pkg, _, path = line.partition(": ")
        if path and "," not in pkg and not pkg.startswith("diversion"):
            found[path.strip()] = pkg.split(":")[0].strip()
    return {p: next((found[c] for c in sorted(candidates(p)) if c in found), None) for p in paths}


def check_dockerfile(rep, source):
    path = os.path.join(source, "Dockerfile")
    if not rep.check(os.path.isfile(path), "Dockerfile exists"):
        return
    stages = parse_dockerfile(path)
    rep.check(len(stages) >= 2, "Dockerfile is multi-stage")
    if len(stages) < 2:
        return
    build, final = stages[0], stages[-1]
    runs = lambda st: " && ".join(t for k, t in st["ins"] if k == "RUN")  # noqa: E731
    rep.check(build["base"] == "debian:bookworm" and build["name"],
              "build stage is a named debian:bookworm stage", build["base"])
    rep.check("deploy/install-deps.sh build" in runs(build),
              "build stage installs with deploy/install-deps.sh build")
    rep.check(re.search(r"\bmake build\b", runs(build)) is not None or
              ("cmake -S" in runs(build) and "cmake --build" in runs(build)),
              "build stage runs the README's build (make build)")
    rep.check("SILO_SANITIZE=ON" not in runs(build) and "SILO_TEST_HOOKS=ON" not in runs(build),
              "image build has no sanitizers and no test hooks")
    rep.check(final["base"] == "debian:bookworm-slim", "runtime stage is debian:bookworm-slim",
              final["base"])
    rep.check("install-deps.sh runtime" in runs(final) and
              "install-deps.sh build" not in runs(final),
              "runtime stage installs only install-deps.sh runtime")
    copies = [t for k, t in final["ins"] if k == "COPY" and f"--from={build['name']}" in t]
    rep.check(any("silo" in t and "siloctl" in t for t in copies),
              "runtime stage copies silo and siloctl from the build stage")
    rep.check(any("install-deps.sh" in t for k, t in final["ins"] if k == "COPY"),
              "runtime stage copies install-deps.sh (one package list for both)")
    users = [t for k, t in final["ins"] if k == "USER"]
    rep.check(users and users[-1].split(":")[0] not in ("0", "root"),
              "image runs as a non-root user by default", str(users))
    ep = [t for k, t in final["ins"] if k == "ENTRYPOINT"]
    rep.check(ep and "silo" in ep[-1] and ep[-1].startswith("["), "ENTRYPOINT is silo (exec form)")
    rep.check("ldd" in runs(final) and "not found" in runs(final),
              "runtime stage fails the build when a library is missing")
    di = os.path.join(source, ".dockerignore")
    pats = open(di, encoding="utf-8").read().split() if os.path.isfile(di) else []
    rep.check({"build", "build-*", ".silo"} <= set(pats),
              ".dockerignore keeps build trees and .silo out of the context")


def check_runtime_packages(rep, source, binaries):
    runtime = runtime_packages(source)
    if not rep.check(runtime, "install-deps.sh has a RUNTIME package list"):
        return
    rep.check(not any(p.endswith("-dev") or p in ("build-essential", "cmake", "gcc")
                      for p in runtime), "runtime list has no compilers or -dev packages")
    pkgs = installed()
    # debootstrap's minbase (what bookworm-slim is): Essential and required packages, plus
    # what they depend on.
    base = closure({p for p, (ess, prio, _) in pkgs.items() if ess or prio == "required"}, pkgs)
    rep.check(len(base) > 10, f"base set of bookworm-slim derived ({len(base)} packages: "
              "Essential or Priority required, and their dependencies)")
    apt_installs = closure(runtime, pkgs)
    for p in sorted(runtime):
        ok = p in pkgs or run(["apt-cache", "show", p]).returncode == 0
        rep.check(ok, f"runtime package {p} exists in Debian")
    libs = {}
    for b in binaries:
        if not rep.check(os.access(b, os.X_OK), f"{b} is built"):
            continue
        out = run(["ldd", b])
        rep.check(out.returncode == 0 and "not found" not in out.stdout,
                  f"ldd {os.path.basename(b)} resolves every library", out.stdout.strip())
        for line in out.stdout.splitlines():
            m = re.match(r"^\s*(\S+)\s+=>\s+(/\S+)", line) or re.match(r"^\s*(/\S+)\s+\(", line)
            if m:
                libs.setdefault(m.group(m.lastindex), set()).add(os.path.basename(b))
    by_pkg = {}
    wanted = sorted(set(NODE_TOOLS) | programs_in_sources(source))
    tools = {t: shutil.which(t, path="/usr/sbin:/sbin:/usr/bin:/bin") for t in wanted}
    owner = owners(list(libs) + [p for p in tools.values() if p])
    for lib in sorted(libs):
        name = os.path.basename(lib)
        if SANITIZER_LIBS.match(name):
            print(f"skip {name}: sanitizer runtime of a test build, never in the image")
            continue
        pkg = owner[lib]
        if rep.check(pkg is not None, f"{name} belongs to a Debian package"):
            by_pkg.setdefault(pkg, []).append(name)
    for pkg, names in sorted(by_pkg.items()):
        how = ("in the runtime list" if pkg in runtime else
               "in bookworm-slim" if pkg in base else
               "installed by apt as a dependency of the runtime list" if pkg in apt_installs
               else None)
        rep.check(how is not None, f"{pkg} ({', '.join(names[:3])}"
                  f"{', ...' if len(names) > 3 else ''}) is in the image: {how or 'NOT INSTALLED'}")
    for tool, path in tools.items():
        if not rep.check(path is not None, f"node tool {tool} is installed here to check"):
            continue
        pkg = owner[path]
        rep.check(pkg in runtime or pkg in base, f"node tool {tool} ({pkg}) is in the image")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--silo", required=True)
    ap.add_argument("--siloctl", required=True)
    ap.add_argument("--source", required=True)
    a = ap.parse_args()
    rep = Report()
    source = os.path.abspath(a.source)
    check_dockerfile(rep, source)
    check_runtime_packages(rep, source, [a.silo, a.siloctl])
    print(f"{rep.passed} passed, {rep.failed} failed")
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main())
