#!/usr/bin/env python3
"""Runs deploy/components/snapshot-metadata/setup-tls.sh with a stand-in kubectl that records
what would be applied, and checks it: a TLS Secret whose certificate verifies against the CA
in the SnapshotMetadataService object, for the Service's DNS names, and the object's address
and audience. Prints one line per check and "N passed, M failed".

usage: check_snapmeta_tls.py --source SOURCE_DIR
"""

import argparse
import base64
import os
import subprocess
import sys
import tempfile

import yaml

FAKE_KUBECTL = r"""#!/bin/sh
# Records instead of applying: "create secret tls" prints the Secret, "apply -f -" keeps stdin.
set -eu
case "$*" in
*"create secret tls"*)
	for a in "$@"; do
		case "$a" in --cert=*) crt=${a#--cert=} ;; --key=*) key=${a#--key=} ;; esac
	done
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: %s\n' "$6" "$2"
	printf 'type: kubernetes.io/tls\ndata:\n  tls.crt: %s\n  tls.key: %s\n' \
		"$(base64 -w0 <"$crt")" "$(base64 -w0 <"$key")"
	;;
*"apply -f -"*)
	n=$(ls "$FAKE_OUT" | wc -l)
	cat >"$FAKE_OUT/$n.yaml"
	;;
*) echo "unexpected kubectl $*" >&2; exit 1 ;;
esac
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True)
    args = ap.parse_args()
    passed = failed = 0

    def check(ok, what, detail=""):
        nonlocal passed, failed
        passed, failed = passed + bool(ok), failed + (not ok)
        print(("ok   " if ok else "FAIL ") + what + ("" if ok or not detail else f": {detail}"))
        return ok

    script = os.path.join(args.source, "deploy/components/snapshot-metadata/setup-tls.sh")
    with tempfile.TemporaryDirectory() as t:
        fake, out = os.path.join(t, "kubectl"), os.path.join(t, "out")
        os.mkdir(out)
        with open(fake, "w", encoding="utf-8") as f:
            f.write(FAKE_KUBECTL)
        os.chmod(fake, 0o755)
        env = dict(os.environ, KUBECTL=fake, FAKE_OUT=out)
        p = subprocess.run(["sh", script, "storage", "silo.csi.io", "30"], env=env,
                           capture_output=True, text=True, timeout=120, check=False)
        if not check(p.returncode == 0, "setup-tls.sh runs", p.stderr.strip()[-300:]):
            print(f"{passed} passed, {failed} failed")
            return 1
        docs = []
        for name in sorted(os.listdir(out), key=lambda n: int(n.split(".")[0])):
            with open(os.path.join(out, name), encoding="utf-8") as f:
                docs += [d for d in yaml.safe_load_all(f) if d]
        kinds = [d["kind"] for d in docs]
        check(kinds == ["Secret", "SnapshotMetadataService"], "applies the Secret, then the "
              "SnapshotMetadataService", str(kinds))
        secret = next(d for d in docs if d["kind"] == "Secret")
        sms = next(d for d in docs if d["kind"] == "SnapshotMetadataService")
        check(secret["metadata"] == {"name": "silo-snapshot-metadata-tls", "namespace": "storage"},
              "Secret is the one the sidecar mounts, in the given namespace")
        check(sms["apiVersion"] == "cbt.storage.k8s.io/v1alpha1" and
              sms["metadata"]["name"] == "silo.csi.io", "SnapshotMetadataService named after "
              "the driver")
        check(sms["spec"]["address"] == "silo-snapshot-metadata.storage:6443",
              "address is the component's Service and port", sms["spec"]["address"])
        check(sms["spec"]["audience"] == "silo.csi.io-snapshot-metadata", "audience")
        for key, data in (("ca.crt", sms["spec"]["caCert"]),
                          ("tls.crt", secret["data"]["tls.crt"])):
            with open(os.path.join(t, key), "wb") as f:
                f.write(base64.b64decode(data))
        v = subprocess.run(["openssl", "verify", "-CAfile", os.path.join(t, "ca.crt"),
                            os.path.join(t, "tls.crt")], capture_output=True, text=True,
                           check=False)
        check(v.returncode == 0, "the certificate verifies against the advertised CA",
              v.stdout + v.stderr)
        x = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName", "-in",
                            os.path.join(t, "tls.crt")], capture_output=True, text=True,
                           check=False)
        for name in ("silo-snapshot-metadata.storage", "silo-snapshot-metadata.storage.svc"):
            check(f"DNS:{name}" in x.stdout, f"certificate names {name}", x.stdout)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
