"""Checks of what an operator copies: deploy/examples (claims, snapshots, inline volumes,
VolumeAttributesClasses) against what silo and the sidecars accept, and the README's
deployment text against the manifests and `silo --help`. Part of check_manifests.py."""

import os
import re

import manifests as known
from kustomize import load_docs


def check_inline(rep, what, csi, driver, pod):
    """A CSI inline volume: the attributes silo takes (node/ephemeral.c)."""
    rep.check(csi.get("driver") == driver, f"{what} is for {driver}")
    attrs = {k: str(v) for k, v in (csi.get("volumeAttributes") or {}).items()}
    rep.check(re.fullmatch(r"[0-9]+(Ki|Mi|Gi|Ti|k|K|M|G|T)?", attrs.get("size", "")) is not None,
              f"{what} has volume attribute size (such as 1Gi)")
    for key, val in attrs.items():
        rep.check(key == "size" or (key in known.SC_PARAMS and val in known.SC_PARAMS[key]),
                  f"{what} volume attribute {key}={val} is one silo accepts")
    rep.check(csi.get("fsType", "ext4") in known.FSTYPE_VALUES,
              f"{what} fsType is a filesystem silo makes")
    used = [c for c in pod["spec"]["containers"]
            if any(m["name"] == csi_name(pod, csi) for m in c.get("volumeMounts", []))]
    rep.check(used, f"{what} is mounted by a container")


def csi_name(pod, csi):
    return next(v["name"] for v in pod["spec"]["volumes"] if v.get("csi") is csi)


def check_examples(rep, source, base):
    where = "deploy/examples"
    docs = []
    for f in sorted(os.listdir(os.path.join(source, where))):
        if f.endswith(".yaml"):
            docs += [(f, d) for d in load_docs(os.path.join(source, where, f))]
    driver = base.of("CSIDriver")[0]["metadata"]["name"]
    scs = {o["metadata"]["name"] for o in base.of("StorageClass")}
    vscs = {o["metadata"]["name"] for o in base.of("VolumeSnapshotClass")}
    pvcs = {d["metadata"]["name"]: d for _, d in docs if d["kind"] == "PersistentVolumeClaim"}
    snaps = {d["metadata"]["name"]: d for _, d in docs if d["kind"] == "VolumeSnapshot"}
    vacs = {d["metadata"]["name"]: d for _, d in docs if d["kind"] == "VolumeAttributesClass"}
    for f, d in docs:
        n, k = d["metadata"]["name"], d["kind"]
        w = f"{where}/{f}: {k} {n}"
        if k == "PersistentVolumeClaim":
            spec = d["spec"]
            rep.check(spec.get("storageClassName") in scs, f"{w} uses a silo StorageClass")
            src = spec.get("dataSource")
            if src and src.get("kind") == "VolumeSnapshot":
                rep.check(src["name"] in snaps and src.get("apiGroup") == "snapshot.storage.k8s.io",
                          f"{w} restores an example VolumeSnapshot")
            elif src:
                rep.check(src.get("kind") == "PersistentVolumeClaim" and src["name"] in pvcs,
                          f"{w} clones an example claim")
            if "volumeAttributesClassName" in spec:
                rep.check(spec["volumeAttributesClassName"] in vacs, f"{w} names an example VAC")
        elif k == "VolumeSnapshot":
            rep.check(d["spec"].get("volumeSnapshotClassName") in vscs, f"{w} uses silo's class")
            rep.check(d["spec"]["source"].get("persistentVolumeClaimName") in pvcs,
                      f"{w} snapshots an example claim")
        elif k == "VolumeAttributesClass":
            rep.check(d.get("driverName") == driver, f"{w} is for {driver}")
            for key, val in d.get("parameters", {}).items():
                rep.check(str(val) in known.MUTABLE_PARAMS.get(key, ()),
                          f"{w} parameter {key}={val} is mutable in silo")
        elif k == "Pod":
            sources = []
            for c in d["spec"]["containers"]:
                res = c.get("resources", {})
                rep.check(all(r in res.get(x, {}) for x in ("requests", "limits")
                              for r in ("cpu", "memory")), f"{w}: {c['name']} has resources")
            for vol in d["spec"].get("volumes", []):
                if "csi" in vol:
                    check_inline(rep, f"{w} inline volume {vol['name']}", vol["csi"], driver, d)
                    continue
                claim = (vol.get("persistentVolumeClaim") or {}).get("claimName")
                if not claim:
                    continue
                if not rep.check(claim in pvcs, f"{w} mounts example claim {claim}"):
                    continue
                block = pvcs[claim]["spec"].get("volumeMode") == "Block"
                used = [c for c in d["spec"]["containers"] if any(
                    m["name"] == vol["name"]
                    for m in c.get("volumeDevices" if block else "volumeMounts", []))]
                rep.check(used, f"{w} uses {claim} as a {'device' if block else 'mount'}")
                if pvcs[claim]["spec"].get("dataSource"):
                    sources.append(claim)
            if sources:
                rep.check("podAffinity" in d["spec"].get("affinity", {}) or
                          d["spec"].get("nodeSelector"),
                          f"{w} runs on the source volume's node (needed with pool scope node)")
        else:
            rep.check(False, f"{w}: unexpected kind in examples")
    rep.check({"Block"} <= {p["spec"].get("volumeMode") for p in pvcs.values()} and snaps and
              any(p["spec"].get("dataSource", {}).get("kind") == "PersistentVolumeClaim"
                  for p in pvcs.values()) and vacs,
              f"{where}: has raw block, snapshot, clone and modify examples")
    rep.check(any("csi" in vol for _, d in docs if d["kind"] == "Pod"
                  for vol in d["spec"].get("volumes", [])),
              f"{where}: has an inline ephemeral volume example")


def check_readme(rep, source, help_flags):
    path = os.path.join(source, "README.md")
    if not rep.check(os.path.isfile(path), "README.md exists"):
        return
    text = open(path, encoding="utf-8").read()
    lines = text.splitlines()
    rep.check(len(lines) > 6 and lines[0].startswith("# ") and lines[1] == "" and
              lines[2].strip().endswith(".") and lines[3] == "" and lines[4].startswith("```") and
              [x.strip() for x in lines[5:7]] == ["make run", "make test"] and
              lines[7].startswith("```"),
              "README.md starts with a title, one sentence, then `make run` and `make test`")
    guide = os.path.join(source, "docs", "operator-guide.md")
    if rep.check(os.path.isfile(guide), "docs/operator-guide.md exists"):
        rows = [x for x in open(guide, encoding="utf-8").read().splitlines()
                if x.startswith("| `-")]
        for f in sorted(help_flags):
            if len(f) > 1:
                rep.check(any(re.match(rf"^\| (`-[a-z]`, )?`--{re.escape(f)}[ `]", x)
                              for x in rows),
                          f"docs/operator-guide.md documents silo --{f} in its flag table")
    k8s = os.path.join(source, "docs", "kubernetes.md")
    if rep.check(os.path.isfile(k8s), "docs/kubernetes.md exists"):
        ktext = open(k8s, encoding="utf-8").read()
        for sc, tag in sorted(known.PINNED.items()):
            rep.check(f"{sc}:{tag}" in ktext, f"docs/kubernetes.md names the pinned {sc}:{tag}")
