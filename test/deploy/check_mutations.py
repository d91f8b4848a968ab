#!/usr/bin/env python3
"""Proves that the deployment checks bite: each case breaks one thing in a copy of the
deployment files (the way a person editing them might) and expects check_manifests.py or
check_dockerfile.py to fail with a specific message. A check that stops catching its case
fails this test. Prints one line per case and "N passed, M failed"; exits 1 on any failure.

usage: check_mutations.py --silo BUILD/silo --siloctl BUILD/siloctl --source SOURCE_DIR
"""

import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
COPY = ["deploy", "CMakeLists.txt", "README.md", "docs", "Dockerfile", ".dockerignore", "node",
        "controller", "common"]
# Files whose text these cases may rely on; cases on other files are skipped if it moved.
OURS = ("deploy/kubernetes", "deploy/components", "deploy/examples", "Dockerfile", ".dockerignore", "README.md",
        "docs/operator-guide.md")
NODE, SHARED = "deploy/kubernetes/node.yaml", "deploy/kubernetes-shared/controller.yaml"

# (file, text to find, replacement, expected failure message fragment)
CASES = [
    (NODE, "plugins/silo.csi.io/csi.sock", "plugins/silo/csi.sock",
     "registration path is the socket's host path"),
    (NODE, "--pool=/var/lib/silo/pool", "--pool-dir=/var/lib/silo/pool",
     "silo flag --pool-dir exists in --help"),
    (NODE, "--mode=all", "--mode=everything", "silo accepts these arguments"),
    (NODE, "--timeout=25s", "--timeout=45s", "below the sidecar's 30s"),
    (NODE, "csi-resizer:v2.0.0", "csi-resizer:latest", "image pinned"),
    (NODE, "memory: 1Gi", "memory: 32Mi", "silo memory limit >= request"),
    (NODE, "mountPropagation: Bidirectional", "mountPropagation: HostToContainer",
     "mounted from the host, Bidirectional"),
    (NODE, "--health-port=9884", "--health-port=9808", "livenessProbe hits the livenessprobe"),
    (NODE, "--handle-volume-inuse-error=false", "--handle-volume-inuse-error=true",
     "csi-resizer in silo-node has all it needs"),
    (NODE, "Topology=true", "Topolgy=true", "feature gate Topolgy exists"),
    (NODE, "--node-deployment-immediate-binding=false", "--node-deployment-immediat=false",
     "flag --node-deployment-immediat exists in csi-provisioner"),
    (NODE, "            - --enable-capacity=true\n", "", "matches --enable-capacity"),
    (NODE, "            - --skip-attach\n", "", "matches silo --skip-attach"),
    (NODE, "      serviceAccountName: silo-node\n",
     "      serviceAccountName: silo-node\n      hostNetwork: true\n",
     "pod network, no hostNetwork"),
    (NODE, "              mountPath: /dev\n",
     "              mountPath: /dev\n            - name: dev-dir\n"
     "              mountPath: /run/udev\n", "no /run/udev mount"),
    (NODE, "              containerPort: 9885\n",
     "              containerPort: 9885\n              hostPort: 9885\n", "no hostPort"),
    (NODE, "              containerPort: 9884\n", "              containerPort: 9885\n",
     "container ports do not collide"),
    (NODE, "            privileged: true\n            runAsUser: 0\n",
     "            privileged: true\n", "silo runs as uid 0"),
    (SHARED, "- --csi-address=/csi/csi.sock", "- --csi-address=/csi/driver.sock",
     "is silo's socket /csi/csi.sock"),
    (SHARED, "- --leader-election=true\n", "", "is leader-elected"),
    (SHARED, "replicas: 1", "replicas: 2", "one controller at a time"),
    ("deploy/components/snapshot-metadata/rbac.yaml", '    resources: ["tokenreviews"]',
     '    resources: ["tokenrequests"]', "csi-snapshot-metadata in silo-controller has all it needs"),
    ("deploy/components/snapshot-metadata/sidecar.yaml", "csi-snapshot-metadata:v0.1.0",
     "csi-snapshot-metadata:v0.2.0", "csi-snapshot-metadata pinned to v0.1.0"),
    ("deploy/components/snapshot-metadata/sidecar.yaml", "- --csi-address=/csi/csi.sock",
     "- --csi-address=/run/csi/socket", "is silo's socket /csi/csi.sock"),
    ("deploy/components/snapshot-metadata/sidecar.yaml", "  name: silo-controller",
     "  name: silo-controllers", "patch target"),
    ("deploy/kubernetes/csidriver.yaml", "fsGroupPolicy: File", "fsGroupPolicy: None",
     "fsGroupPolicy File"),
    ("deploy/kubernetes/csidriver.yaml", "  podInfoOnMount: true", "  podInfoOnMount: false",
     "podInfoOnMount true (kubelet marks an inline volume"),
    ("deploy/kubernetes/csidriver.yaml", "    - Ephemeral\n", "",
     "volumeLifecycleModes ['Persistent', 'Ephemeral']"),
    ("deploy/examples/inline-scratch.yaml", "          size: 2Gi\n", "",
     "has volume attribute size"),
    ("deploy/examples/inline-scratch.yaml", "          provisioning: thin",
     "          fsType: xfs", "volume attribute fsType=xfs is one silo accepts"),
    ("deploy/kubernetes/classes/storageclasses.yaml", "provisioner: silo.csi.io",
     "provisioner: silo.csi.com", "provisioner is 'silo.csi.io'"),
    ("deploy/kubernetes/classes/storageclasses.yaml", "provisioning: thin", "provisoning: thin",
     "parameter provisoning=thin is one silo accepts"),
    # The class external-provisioner refused in the field: fsType beside its own key.
    ("deploy/kubernetes/classes/storageclasses.yaml", "  csi.storage.k8s.io/fstype: ext4\n",
     "  fsType: ext4\n  csi.storage.k8s.io/fstype: ext4\n", "has no parameter 'fsType'"),
    ("deploy/kubernetes/classes/storageclasses.yaml", "  csi.storage.k8s.io/fstype: xfs\n",
     "  FSTYPE: xfs\n", "has no parameter 'FSTYPE'"),
    ("deploy/kubernetes/classes/storageclasses.yaml", "  csi.storage.k8s.io/fstype: xfs\n",
     "  csi.storage.k8s.io/fstype: xfs\n  csi.storage.k8s.io/pvc/name: x\n",
     "reserved key csi.storage.k8s.io/pvc/name is one external-provisioner accepts"),
    ("deploy/kubernetes/classes/storageclasses.yaml", "csi.storage.k8s.io/fstype: xfs",
     "csi.storage.k8s.io/fstype: btrfs", "csi.storage.k8s.io/fstype=btrfs is a filesystem"),
    ("deploy/kubernetes/classes/storageclasses.yaml", "provisioning: thin", "provisioning: warm",
     "parameter provisioning=warm is one silo accepts"),
    ("deploy/kubernetes/classes/storageclasses.yaml", "volumeBindingMode: WaitForFirstConsumer",
     "volumeBindingMode: Immediate",
     "binds WaitForFirstConsumer"),
    ("deploy/kubernetes/rbac.yaml", '"create", "update", "patch", "delete"]',
     '"create", "update", "patch", "delete", "deletecollection"]',
     "holds nothing its sidecars do not use"),
    ("deploy/kubernetes-shared/rbac.yaml", 'verbs: ["get", "list", "watch", "patch"]\n  - apiGroups'
     ': ["storage.k8s.io"]\n    resources: ["volumeattachments/status"]',
     'verbs: ["get", "list", "watch"]\n  - apiGroups: ["storage.k8s.io"]\n    resources: '
     '["volumeattachments/status"]', "csi-attacher in silo-controller has all it needs"),
    ("deploy/kubernetes/kustomization.yaml", "  - rbac.yaml\n", "",
     "ServiceAccount silo-node exists"),
    ("deploy/kubernetes/kustomization.yaml", "  - metrics-service.yaml\n", "",
     "metrics-service.yaml is part of a deployment"),
    ("deploy/kubernetes/csidriver.yaml", "  podInfoOnMount: true", "  podInfoOnMount: [true",
     "csidriver.yaml parses"),
    ("deploy/examples/restore.yaml", "name: silo-data-snap", "name: silo-data-snapshot",
     "restores an example VolumeSnapshot"),
    ("deploy/examples/clone.yaml", "    podAffinity:", "    podAntiAffinity:",
     "runs on the source volume's node"),
    ("docs/operator-guide.md", "| `--overcommit-ratio R`", "| `--overcommit R`",
     "documents silo --overcommit-ratio"),
    ("Dockerfile", "USER 65532:65532", "USER root", "non-root user"),
    ("Dockerfile", "FROM debian:bookworm-slim", "FROM debian:bookworm", "bookworm-slim"),
    ("deploy/install-deps.sh", 'RUNTIME="libgrpc29 ', 'RUNTIME="', "libgrpc29"),
    ("deploy/install-deps.sh", " xfsprogs util-linux\"", " util-linux\"", "node tool mkfs.xfs"),
    ("node/fs.c", '{"xfs_growfs", ', '{"xfs_growfs.new", ', "node tool xfs_growfs.new"),
]


def short(t):
    return " ".join(t.split())[:50]


def run_case(a, src, case):
    """Breaks a copy of the files in src (a directory of its own) one way and runs the check
    that must notice. Returns (caught or None when skipped, the line to print)."""
    path, old, new, expect = case
    os.mkdir(src)
    for item in COPY:
        s = os.path.join(a.source, item)
        if os.path.isdir(s):
            shutil.copytree(s, os.path.join(src, item))
        elif os.path.exists(s):
            shutil.copy(s, os.path.join(src, item))
    target = os.path.join(src, path)
    text = open(target, encoding="utf-8").read()
    what = f"{path}: '{short(old)}' -> '{short(new)}'"
    if old not in text and not path.startswith(OURS):
        return None, f"skip {what}: that text is gone from a file this test does not own"
    if old not in text:
        return False, f"FAIL {what}: the text to break is gone (update this case)"
    open(target, "w", encoding="utf-8").write(text.replace(old, new, 1))
    script = "check_dockerfile.py" if path in ("Dockerfile", "deploy/install-deps.sh") \
        or path.endswith(".c") else "check_manifests.py"
    cmd = [sys.executable, os.path.join(HERE, script), "--silo", a.silo,
           "--source", src] + (["--siloctl", a.siloctl] if "docker" in script else [])
    env = dict(os.environ, SILO_DEPLOY_NO_KUBECTL="1")
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)
    fails = [l for l in p.stdout.splitlines() if l.startswith("FAIL")]
    finished = re.search(r"^\d+ passed, [1-9]\d* failed$", p.stdout, re.M)
    if p.returncode == 1 and finished and any(expect in l for l in fails):
        return True, f"ok   caught {what}"
    return False, (f"FAIL not caught {what}: rc={p.returncode}, wanted '{expect}', got "
                   f"{fails[:3] or p.stderr.strip()[-300:]}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--silo", required=True)
    ap.add_argument("--siloctl", required=True)
    ap.add_argument("--source", required=True)
    a = ap.parse_args()
    passed = failed = 0
    # The cases are independent: one per CPU at a time (a busy machine stretched some fifty
    # checks one after the other past CTest's timeout).
    with tempfile.TemporaryDirectory(prefix="silo-deploy-") as tmp, \
            concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        runs = [pool.submit(run_case, a, os.path.join(tmp, f"case-{i}"), case)
                for i, case in enumerate(CASES)]
        for run in runs:
            caught, line = run.result()
            print(line)
            passed += caught is True
            failed += caught is False
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
