#!/usr/bin/env python3
"""Runs the README's local quickstart, so that the document cannot drift from the code; and
checks that every relative link of README.md and docs/*.md leads to a file and heading.

Takes the ```sh blocks under "## Local quickstart", starts silo exactly as `make run` would
(the commands `make -n run ARGS=-v` prints, with the Makefile's own paths in a temp directory
that stands in for the repository: its ./build is a link to the tested build; -v shows that
ARGS reaches silo), runs the other
blocks there as one `bash -e` script, and checks that the quickstart's cleanup left no
mount, loop device or volume behind. Needs root and a private mount namespace (CTest runs it
under `unshare --mount --propagation private`); whatever the run leaves is released after.

usage: check_readme.py --source SOURCE_DIR --bindir DIR_WITH_SILO_AND_SILOCTL
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HEADING = "## Local quickstart"


def quickstart_blocks(readme):
    """The sh blocks of the quickstart section, each a list of lines."""
    lines = open(readme, encoding="utf-8").read().splitlines()
    if HEADING not in lines:
        sys.exit(f"FAIL: {readme} has no '{HEADING}' section")
    blocks, cur = [], None
    for line in lines[lines.index(HEADING) + 1:]:
        if cur is None and line.startswith("## "):
            break
        if cur is None and line.strip() == "```sh":
            cur = []
        elif cur is not None and line.strip() == "```":
            blocks.append(cur)
            cur = None
        elif cur is not None:
            cur.append(line)
    return blocks


def slug(heading):
    """GitHub's anchor for a heading."""
    h = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return h.replace(" ", "-")


def broken_links(source):
    """Relative links of README.md and docs/*.md whose file or #anchor does not exist."""
    files = ["README.md"] + sorted(os.path.join("docs", f) for f in os.listdir(
        os.path.join(source, "docs")) if f.endswith(".md"))
    anchors, texts = {}, {}
    for f in files:
        texts[f] = open(os.path.join(source, f), encoding="utf-8").read()
        body = re.sub(r"```.*?```", "", texts[f], flags=re.S)
        anchors[f] = {slug(h) for h in re.findall(r"^#+ (.*)$", body, re.M)}
    bad = []
    for f in files:
        for target in re.findall(r"\]\(([^)\s]+)\)", texts[f]):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            dest = os.path.normpath(os.path.join(os.path.dirname(f), path)) if path else f
            if not os.path.exists(os.path.join(source, dest)):
                bad.append(f"{f}: {target}: no file {dest}")
            elif anchor and dest in anchors and anchor not in anchors[dest]:
                bad.append(f"{f}: {target}: no heading #{anchor} in {dest}")
    return bad


def make_run_commands(source, root):
    """What `make run` executes once built, with the repository's directory being root."""
    out = subprocess.run(["make", "-n", "--no-print-directory", "-C", root, "-f",
                          os.path.join(source, "Makefile"), "run", "ARGS=-v"],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    # The build steps come first and do not name the directory; the run recipe does.
    first = next((i for i, x in enumerate(out) if root + "/" in x), None)
    cmds = out[first:] if first is not None else []
    if not any(x.lstrip().startswith("exec ./build/silo ") for x in cmds):
        sys.exit("FAIL: `make -n run` does not run `exec ./build/silo ...`:\n" + "\n".join(out))
    return cmds


def mounts_under(root):
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        targets = [line.split()[4].replace("\\040", " ") for line in f]
    return [t for t in targets if t == root or t.startswith(root + "/")]


def loops_under(root):
    out = subprocess.run(["losetup", "-n", "-l", "-O", "NAME,BACK-FILE"], capture_output=True,
                         text=True).stdout
    return [x.split()[0] for x in out.splitlines()
            if len(x.split()) > 1 and x.split()[1].startswith(root + "/")]


def release(root):
    for t in reversed(mounts_under(root)):
        subprocess.run(["umount", "-l", t], check=False)
    for dev in loops_under(root):
        subprocess.run(["losetup", "-d", dev], check=False)


def wait_ready(siloctl, endpoint, silo):
    """Until Probe answers, silo exits, or 60 s pass (a sanitized silo on a busy machine)."""
    until = time.monotonic() + 60
    while time.monotonic() < until:
        if silo.poll() is not None:
            return False
        if subprocess.run([siloctl, "-e", endpoint, "identity", "probe"],
                          capture_output=True).returncode == 0:
            return True
        time.sleep(0.1)
    return False


def run(source, bindir, root):
    blocks = quickstart_blocks(os.path.join(source, "README.md"))
    if not any(b == ["make run"] for b in blocks):
        sys.exit(f"FAIL: the quickstart has no block that is just `make run`")
    script = ["set -euo pipefail", "set -x"]
    for b in blocks:
        if b == ["make run"]:
            continue
        for line in b:
            if re.match(r"\s*make\b", line):
                sys.exit(f"FAIL: quickstart line '{line}': only a `make run` block is run "
                         "as make; this test cannot stand in for other targets")
        script += b
    os.symlink(os.path.abspath(bindir), os.path.join(root, "build"))
    cmds = make_run_commands(source, root)
    log = open(os.path.join(root, "silo.log"), "w+")
    silo = subprocess.Popen(["bash", "-ec", "\n".join(cmds)], cwd=root, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    ok = False
    try:
        siloctl = os.path.join(root, "build", "siloctl")
        endpoint = f"unix://{root}/.silo/csi.sock"
        if not wait_ready(siloctl, endpoint, silo):
            print("FAIL: silo started by `make run`'s commands did not answer Probe:")
            print("\n".join(cmds))
        else:
            env = {k: v for k, v in os.environ.items() if k != "CSI_ENDPOINT"}
            res = subprocess.run(["bash", "-c", "\n".join(script)], cwd=root, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                 timeout=240)
            print(res.stdout)
            if res.returncode != 0:
                print(f"FAIL: the quickstart failed (exit {res.returncode}); last command above")
            else:
                left = mounts_under(root) + loops_under(root)
                pool = os.path.join(root, ".silo", "pool")
                files = [os.path.join(d, f) for d, _, fs in os.walk(pool) for f in fs
                         if os.path.basename(d) in ("volumes", "snapshots", "groups")]
                log.seek(0)
                if left or files:
                    print(f"FAIL: the quickstart's cleanup left {left + files}")
                elif "level=debug" not in log.read():
                    print("FAIL: `make run ARGS=-v` did not pass -v to silo (no debug lines)")
                else:
                    ok = True
    finally:
        if silo.poll() is None:
            os.killpg(silo.pid, signal.SIGTERM)
            try:
                silo.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(silo.pid, signal.SIGKILL)
                silo.wait()
        if not ok:
            log.seek(0)
            print("silo's log:\n" + log.read())
        log.close()
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", required=True)
    ap.add_argument("--bindir", required=True)
    a = ap.parse_args()
    bad = broken_links(os.path.abspath(a.source))
    for b in bad:
        print(f"FAIL: broken link {b}")
    if os.geteuid() != 0:
        print("SKIP: needs root (loop devices, mounts)")
        return 1 if bad else 77
    root = tempfile.mkdtemp(prefix="silo-readme-", dir="/var/tmp")
    try:
        ok = run(os.path.abspath(a.source), a.bindir, root)
    finally:
        release(root)
        shutil.rmtree(root, ignore_errors=True)
    ok = ok and not bad
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
