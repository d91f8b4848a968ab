#!/usr/bin/env python3
"""Static checks of silo's Kubernetes deployment (deploy/) and its README, run by CTest.

Catches what a person editing the manifests gets wrong and no cluster is here to tell us:
socket paths that do not meet, a driver name spelled two ways, a sidecar missing an RBAC
verb (or holding one it never uses), a silo flag that --help does not know, an unpinned
image, a container without resource limits, a CSIDriver that promises what the binary does
not do. Prints one line per check and "N passed, M failed"; exits 1 on any failure.

usage: check_manifests.py --silo BUILD/silo --source SOURCE_DIR
"""

import argparse
import functools
import os
import re
import subprocess
import sys

import yaml

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import manifests as known  # noqa: E402
from kustomize import (USED_FILES, Report, build, ident, kubectl_build,  # noqa: E402
                       load_docs, pod_of)
from check_rbac import check_rbac  # noqa: E402
from check_examples import check_examples, check_readme  # noqa: E402
from syntax import duration_s, flagmap, parse_help, quantity, split_args  # noqa: E402

VARIANTS = {"deploy/kubernetes": "node", "deploy/kubernetes-shared": "shared",
            "deploy/kubernetes-shared-snapshot-metadata": "shared"}
KIND_RANK = {"Namespace": 0, "CSIDriver": 1, "ServiceAccount": 2, "ClusterRole": 2, "Role": 2,
             "ClusterRoleBinding": 2, "RoleBinding": 2, "Deployment": 3, "DaemonSet": 3,
             "Service": 4, "StorageClass": 5, "VolumeSnapshotClass": 6}
CLUSTER_SCOPED = {"Namespace", "CSIDriver", "ClusterRole", "ClusterRoleBinding", "StorageClass",
                  "VolumeSnapshotClass", "VolumeAttributesClass"}


def check_every_yaml(rep, source, used):
    """Every YAML file under deploy/ parses, and none is forgotten: each is a kustomization,
    listed by one, or an example."""
    for top, _, files in os.walk(os.path.join(source, "deploy")):
        for f in sorted(files):
            if not f.endswith((".yaml", ".yml")):
                continue
            path = os.path.join(top, f)
            rel = os.path.relpath(path, source)
            try:
                load_docs(path)
                ok, why = True, ""
            except yaml.YAMLError as e:
                ok, why = False, str(e).splitlines()[0]
            rep.check(ok, f"{rel} parses", why)
            rep.check(f == "kustomization.yaml" or os.path.abspath(path) in used or
                      rel.startswith("deploy/examples/"),
                      f"{rel} is part of a deployment or an example")


def sidecar_of(image):
    if not image.startswith(known.SIG_STORAGE):
        return None
    return image[len(known.SIG_STORAGE):].split(":")[0]


def is_silo(c):
    return c.get("name") == "silo"


def resolve_port(container, port):
    if isinstance(port, int):
        return port
    for p in container.get("ports", []):
        if p.get("name") == port:
            return p.get("containerPort")
    return None


def project_version(source):
    text = open(os.path.join(source, "CMakeLists.txt"), encoding="utf-8").read()
    m = re.search(r"project\(\s*silo\s+VERSION\s+([0-9.]+)", text)
    return m.group(1) if m else None


class Variant:
    """One deployable directory: the built objects and lookups into them."""

    def __init__(self, path, scope, objs):
        self.path, self.scope, self.objs = path, scope, objs

    def of(self, kind):
        return [o for o in self.objs if o.get("kind") == kind]

    def find(self, kind, name, ns=None):
        for o in self.of(kind):
            m = o["metadata"]
            if m.get("name") == name and (ns is None or m.get("namespace") == ns):
                return o
        return None

    def workloads(self):
        return [o for o in self.objs if o.get("kind") in ("DaemonSet", "Deployment")]


def check_objects(v, rep):
    where = v.path
    for o in v.objs:
        rep.check(o.get("apiVersion") and o.get("kind") and o.get("metadata", {}).get("name"),
                  f"{where}: {ident(o)} has apiVersion, kind and name")
    # A component's objects come after the base's (kustomize appends them): each part is
    # ordered on its own.
    for part in sorted({o.get("__component__", "") for o in v.objs}):
        objs = [o for o in v.objs if o.get("__component__", "") == part]
        ranks = [KIND_RANK.get(o["kind"], 99) for o in objs]
        rep.check(ranks == sorted(ranks), f"{where}{': ' + part if part else ''}: applied in "
                  "order namespace, CSIDriver, RBAC, workloads, services, StorageClasses, "
                  "VolumeSnapshotClass", " -> ".join(o["kind"] for o in objs))
    nss = v.of("Namespace")
    if not rep.check(len(nss) == 1, f"{where}: exactly one Namespace"):
        return None
    ns = nss[0]["metadata"]["name"]
    labels = nss[0]["metadata"].get("labels", {})
    rep.check(labels.get("pod-security.kubernetes.io/enforce") == "privileged",
              f"{where}: namespace admits the privileged node plugin (Pod Security)")
    for o in v.objs:
        if o["kind"] in CLUSTER_SCOPED:
            rep.check("namespace" not in o["metadata"], f"{where}: {ident(o)} is cluster-scoped")
        else:
            rep.check(o["metadata"].get("namespace") == ns, f"{where}: {ident(o)} in '{ns}'")
    return ns


def check_driver(v, rep, driver_name, inline):
    where = v.path
    drivers = v.of("CSIDriver")
    if not rep.check(len(drivers) == 1, f"{where}: exactly one CSIDriver"):
        return None
    d = drivers[0]
    spec = d.get("spec", {})
    rep.check(d["metadata"]["name"] == driver_name,
              f"{where}: CSIDriver name equals silo --driver-name '{driver_name}'")
    modes = ["Persistent", "Ephemeral"] if inline else ["Persistent"]
    rep.check(spec.get("volumeLifecycleModes") == modes,
              f"{where}: CSIDriver volumeLifecycleModes {modes} (inline volumes need silo "
              f"--mode all with --pool-scope node)")
    rep.check(spec.get("fsGroupPolicy") == "File",
              f"{where}: fsGroupPolicy File (silo has VOLUME_MOUNT_GROUP: kubelet delegates fsGroup)")
    rep.check(spec.get("podInfoOnMount") is inline,
              f"{where}: podInfoOnMount {str(inline).lower()} (kubelet marks an inline volume "
              f"with csi.storage.k8s.io/ephemeral only when it is true)")
    # seLinuxMount is optional: silo accepts kubelet's context= mount option either way.
    rep.check(spec.get("seLinuxMount", False) in (True, False),
              f"{where}: seLinuxMount, when set, is true or false")
    for sc in v.of("StorageClass"):
        rep.check(sc.get("provisioner") == driver_name,
                  f"{where}: StorageClass {sc['metadata']['name']} provisioner is '{driver_name}'")
    for vsc in v.of("VolumeSnapshotClass"):
        rep.check(vsc.get("driver") == driver_name,
                  f"{where}: VolumeSnapshotClass {vsc['metadata']['name']} driver is '{driver_name}'")
        rep.check(vsc.get("deletionPolicy") in ("Delete", "Retain"),
                  f"{where}: VolumeSnapshotClass deletionPolicy set")
        for key in vsc.get("parameters", {}):
            rep.check(not key.startswith(known.SIDECAR_PREFIX) or key in known.SNAPSHOTTER_VSC_KEYS,
                      f"{where}: VolumeSnapshotClass reserved key {key} is one "
                      f"external-snapshotter accepts")
    return spec


def check_sc_parameters(rep, what, params):
    """The rules the sidecars and silo apply to a StorageClass's parameters."""
    for key, val in params.items():
        val = str(val)
        if key.lower() == "fstype":
            rep.check(False, f"{what} has no parameter '{key}': external-provisioner takes it for "
                      f"its deprecated fstype key (refused beside {known.SIDECAR_PREFIX}fstype) "
                      f"and silo refuses it; set {known.SIDECAR_PREFIX}fstype only")
        elif key.startswith(known.SIDECAR_PREFIX):
            rep.check(key in known.PROVISIONER_SC_KEYS,
                      f"{what} reserved key {key} is one external-provisioner accepts")
            if key == known.SIDECAR_PREFIX + "fstype":
                rep.check(val in known.FSTYPE_VALUES, f"{what} {key}={val} is a filesystem silo "
                          f"makes ({', '.join(sorted(known.FSTYPE_VALUES))})")
        else:
            rep.check(key in known.SC_PARAMS and val in known.SC_PARAMS[key],
                      f"{what} parameter {key}={val} is one silo accepts")


def check_classes(v, rep):
    where = v.path
    fs_seen = set()
    for sc in v.of("StorageClass"):
        n = sc["metadata"]["name"]
        params = sc.get("parameters", {})
        rep.check(sc.get("volumeBindingMode") == "WaitForFirstConsumer",
                  f"{where}: {n} binds WaitForFirstConsumer (volumes are node-local)")
        rep.check(sc.get("allowVolumeExpansion") is True, f"{where}: {n} allows expansion")
        rep.check(sc.get("reclaimPolicy", "Delete") in ("Delete", "Retain"), f"{where}: {n} reclaim")
        check_sc_parameters(rep, f"{where}: {n}", params)
        fs_seen.add(params.get(known.SIDECAR_PREFIX + "fstype", "ext4"))
    rep.check(fs_seen == {"ext4", "xfs"}, f"{where}: one StorageClass per filesystem", str(fs_seen))


def volume(pod, name):
    for vol in pod.get("volumes", []):
        if vol.get("name") == name:
            return vol
    return None


def mount_at(container, path):
    for m in container.get("volumeMounts", []):
        if os.path.normpath(m["mountPath"]) == os.path.normpath(path):
            return m
    return None


def check_silo_args(v, rep, w, c, help_flags, silo):
    where = f"{v.path}: {w['kind']} {w['metadata']['name']}"
    args = [str(a) for a in c.get("args", [])]
    env = {e["name"] for e in c.get("env", [])}
    for k, val in split_args(args):
        if not rep.check(k in help_flags, f"{where}: silo flag --{k} exists in --help"):
            continue
        if help_flags[k]:
            rep.check(val is not None, f"{where}: --{k} has a value (--{k}=VALUE)")
    for ref in re.findall(r"\$\(([A-Z_]+)\)", " ".join(args)):
        rep.check(ref in env, f"{where}: silo argument uses $({ref}), defined in env")
    # The binary itself judges the values: parse them, then --version exits 0.
    concrete = tuple(re.sub(r"\$\([A-Z_]+\)", "node-1", a) for a in args)
    rc, out = silo_parses(silo, concrete)
    rep.check(rc == 0, f"{where}: silo accepts these arguments", out)


@functools.lru_cache(maxsize=None)
def silo_parses(silo, args):
    """Exit status and output of silo ARGS --version, once per argument list (the variants
    repeat them, and a sanitized silo is slow to start)."""
    p = subprocess.run([silo, *args, "--version"], capture_output=True, text=True, timeout=30,
                       check=False)
    return p.returncode, (p.stderr or p.stdout).strip()


def check_pod(v, rep, w, ns, help_flags, silo, driver_name, version):
    """Everything inside one workload: socket paths, mounts, probes, flags, images, resources.
    Returns (silo flags, [(sidecar, flags)])."""
    where = f"{v.path}: {w['kind']} {w['metadata']['name']}"
    pod = pod_of(w)
    containers = pod.get("containers", []) + pod.get("initContainers", [])
    silos = [c for c in containers if is_silo(c)]
    if not rep.check(len(silos) == 1, f"{where}: one silo container"):
        return {}, []
    s = silos[0]
    check_silo_args(v, rep, w, s, help_flags, silo)
    sf = flagmap(s.get("args", []))
    mode, scope = sf.get("mode", "all"), sf.get("pool-scope", "node")
    kubelet_dir = sf.get("kubelet-dir", "/var/lib/kubelet")
    rep.check(sf.get("driver-name", "silo.csi.io") == driver_name,
              f"{where}: silo --driver-name is '{driver_name}'")
    rep.check(scope == v.scope, f"{where}: silo --pool-scope={v.scope}")

    # Images and resources, every container.
    for c in containers:
        img = c.get("image", "")
        tag = img.rsplit(":", 1)[1] if ":" in img.rsplit("/", 1)[-1] else None
        rep.check(tag and tag != "latest", f"{where}: {c['name']} image pinned ({img})")
        sc = sidecar_of(img)
        if is_silo(c):
            rep.check(img == f"silo:{version}", f"{where}: silo image is silo:{version} "
                      "(the CMake project version)", img)
        elif rep.check(sc in known.PINNED, f"{where}: {c['name']} is a known sidecar", img):
            rep.check(tag == known.PINNED[sc], f"{where}: {sc} pinned to {known.PINNED[sc]}", img)
        res = c.get("resources", {})
        for kind in ("requests", "limits"):
            for r in ("cpu", "memory"):
                rep.check(r in res.get(kind, {}), f"{where}: {c['name']} has {kind}.{r}")
        for r in ("cpu", "memory"):
            try:
                ok = quantity(res["limits"][r]) >= quantity(res["requests"][r])
            except (KeyError, ValueError):
                ok = False
            rep.check(ok, f"{where}: {c['name']} {r} limit >= request")

    # The socket: silo's endpoint and every sidecar's --csi-address name the same file.
    endpoint = sf.get("endpoint", "unix:///csi/csi.sock")
    sock = endpoint[len("unix://"):] if endpoint.startswith("unix://") else endpoint
    smount = mount_at(s, os.path.dirname(sock))
    if not rep.check(smount is not None and endpoint.startswith("unix:///"),
                     f"{where}: silo endpoint {endpoint} is a unix socket in a mounted volume"):
        return sf, []
    sockvol = volume(pod, smount["name"])
    if w["kind"] == "DaemonSet":
        want = f"{kubelet_dir}/plugins/{driver_name}"
        rep.check((sockvol.get("hostPath") or {}).get("path") == want,
                  f"{where}: node socket directory is {want} on the host")
    else:
        rep.check("emptyDir" in sockvol, f"{where}: controller socket is private (emptyDir)")

    # The image runs as uid 65532 by default; silo needs root for its work, and every
    # container that opens the socket (0660, owned by root) needs uid 0 too.
    pod_uid = (pod.get("securityContext") or {}).get("runAsUser")
    for c in containers:
        if any(m["name"] == smount["name"] for m in c.get("volumeMounts", [])):
            uid = (c.get("securityContext") or {}).get("runAsUser", pod_uid)
            rep.check(uid == 0, f"{where}: {c['name']} runs as uid 0 (to use the root-owned "
                      "socket; the silo image defaults to a non-root user)", f"runAsUser {uid}")

    sidecars = []
    for c in containers:
        sc = sidecar_of(c.get("image", ""))
        if not sc:
            continue
        cf = flagmap(c.get("args", []))
        sidecars.append((sc, cf))
        cwhere = f"{where}: {c['name']}"
        for k, val in split_args(c.get("args", [])):
            rep.check(k in known.FLAGS.get(sc, ()), f"{cwhere}: flag --{k} exists in {sc} "
                      f"{known.PINNED.get(sc)}")
            if k in known.BOOL_FLAGS:
                rep.check(val in (None, "true", "false"), f"{cwhere}: --{k} is a boolean")
        for gate in filter(None, cf.get("feature-gates", "").split(",")):
            name = gate.split("=")[0]
            rep.check(name in known.FEATURE_GATES.get(sc, ()),
                      f"{cwhere}: feature gate {name} exists in {sc} {known.PINNED.get(sc)}")
        addr = cf.get("csi-address")
        if rep.check(addr is not None, f"{cwhere}: --csi-address given"):
            m = mount_at(c, os.path.dirname(addr))
            rep.check(m is not None and m["name"] == smount["name"] and
                      os.path.basename(addr) == os.path.basename(sock),
                      f"{cwhere}: --csi-address {addr} is silo's socket {sock}")
        env = {e["name"]: e for e in c.get("env", [])}
        for ref in re.findall(r"\$\(([A-Z_]+)\)", " ".join(map(str, c.get("args", [])))):
            rep.check(ref in env, f"{cwhere}: $({ref}) defined in env")
        if sc == "csi-node-driver-registrar":
            hp = (sockvol.get("hostPath") or {}).get("path", "?")
            rep.check(cf.get("kubelet-registration-path") == f"{hp}/{os.path.basename(sock)}",
                      f"{cwhere}: registration path is the socket's host path",
                      str(cf.get("kubelet-registration-path")))
            reg = mount_at(c, "/registration")
            regvol = volume(pod, reg["name"]) if reg else None
            rep.check(regvol is not None and (regvol.get("hostPath") or {}).get("path") ==
                      f"{kubelet_dir}/plugins_registry",
                      f"{cwhere}: {kubelet_dir}/plugins_registry mounted at /registration")
        if sc == "livenessprobe":
            port = int(cf.get("health-port", 9808))
            probe = s.get("livenessProbe", {}).get("httpGet", {})
            rep.check(probe.get("path") == "/healthz" and
                      resolve_port(s, probe.get("port")) == port,
                      f"{where}: silo livenessProbe hits the livenessprobe sidecar on {port}")
        if cf.get("node-deployment", "false") in ("", "true", None) and "node-deployment" in cf:
            nn = env.get("NODE_NAME", {}).get("valueFrom", {}).get("fieldRef", {})
            rep.check(nn.get("fieldPath") == "spec.nodeName",
                      f"{cwhere}: --node-deployment has NODE_NAME from spec.nodeName")
        if sc == "csi-provisioner" and cf.get("enable-capacity") in ("", "true"):
            for name, field in (("POD_NAME", "metadata.name"), ("NAMESPACE", "metadata.namespace")):
                got = env.get(name, {}).get("valueFrom", {}).get("fieldRef", {})
                rep.check(got.get("fieldPath") == field,
                          f"{cwhere}: capacity tracking has {name} from {field}")
        if sc in known.CONTROLLER_SIDECARS and "timeout" in cf and "timeout" in sf:
            rep.check(duration_s(sf["timeout"]) < duration_s(cf["timeout"]),
                      f"{cwhere}: silo --timeout {sf['timeout']} below the sidecar's {cf['timeout']}")

    names = {sc for sc, _ in sidecars}
    serves_node = mode in ("all", "node")
    serves_ctrl = mode in ("all", "controller")
    if serves_node:
        rep.check(w["kind"] == "DaemonSet", f"{where}: the Node service runs as a DaemonSet")
        rep.check({"csi-node-driver-registrar", "livenessprobe"} <= names,
                  f"{where}: node plugin has node-driver-registrar and livenessprobe")
        sec = s.get("securityContext", {})
        rep.check(sec.get("privileged") is True, f"{where}: silo node plugin is privileged")
        km = mount_at(s, kubelet_dir)
        kv = volume(pod, km["name"]) if km else None
        rep.check(km is not None and km.get("mountPropagation") == "Bidirectional" and
                  (kv.get("hostPath") or {}).get("path") == kubelet_dir,
                  f"{where}: {kubelet_dir} (--kubelet-dir) mounted from the host, Bidirectional")
        dm = mount_at(s, "/dev")
        rep.check(dm is not None and (volume(pod, dm["name"]).get("hostPath") or {}).get("path")
                  == "/dev", f"{where}: host /dev mounted (loop devices)")
        # silo listens to no udev events and libudev names device nodes from sysfs; the
        # sidecars talk over the unix socket: nothing needs the host's network or udev's data.
        rep.check(not pod.get("hostNetwork"), f"{where}: pod network, no hostNetwork")
        rep.check(mount_at(s, "/run/udev") is None,
                  f"{where}: no /run/udev mount (libudev reads sysfs)")
    if serves_ctrl:
        rep.check({"csi-provisioner", "csi-resizer", "csi-snapshotter"} <= names,
                  f"{where}: controller has provisioner, resizer and snapshotter")
    else:
        rep.check(not names & set(known.CONTROLLER_SIDECARS),
                  f"{where}: no controller sidecars beside --mode {mode}")
    if mode == "controller":
        sec = s.get("securityContext", {})
        rep.check(not sec.get("privileged") and sec.get("capabilities", {}).get("drop") == ["ALL"],
                  f"{where}: controller-only silo runs unprivileged, all capabilities dropped")
        rep.check(w["spec"].get("replicas") == 1 and
                  w["spec"].get("strategy", {}).get("type") == "Recreate",
                  f"{where}: one controller at a time (replicas 1, Recreate)")
    for sc, cf in sidecars:
        if sc not in known.CONTROLLER_SIDECARS:
            continue
        elected = cf.get("leader-election") in ("", "true")
        if w["kind"] == "Deployment":
            rep.check(elected, f"{where}: {sc} is leader-elected")
        else:
            rep.check(not elected, f"{where}: {sc} acts for its own node only (no election)")
            if sc in ("csi-provisioner", "csi-snapshotter"):
                rep.check(cf.get("node-deployment") in ("", "true"),
                          f"{where}: {sc} has --node-deployment")
    pm = mount_at(s, sf.get("pool", "/var/lib/silo/pool"))
    pv = volume(pod, pm["name"]) if pm else None
    rep.check(pv is not None and "hostPath" in pv, f"{where}: --pool is a mounted host directory")
    if pv is not None and scope == "shared":
        rep.check(pv["hostPath"].get("type") == "Directory",
                  f"{where}: shared pool must pre-exist (hostPath type Directory)")
    # Metrics: the address's port is a named container port that a Service points at.
    maddr = sf.get("metrics-address")
    if rep.check(maddr is not None, f"{where}: silo exposes metrics (--metrics-address)"):
        mport = int(maddr.rsplit(":", 1)[1])
        rep.check(resolve_port(s, "metrics") == mport, f"{where}: container port 'metrics' is {mport}")
        labels = w["spec"]["template"]["metadata"].get("labels", {})
        svcs = [x for x in v.of("Service") if x["spec"].get("selector") and
                all(labels.get(k) == val for k, val in x["spec"]["selector"].items())]
        rep.check(any(resolve_port(s, p.get("targetPort")) == mport
                      for x in svcs for p in x["spec"].get("ports", [])),
                  f"{where}: a Service targets the metrics port")
    # The containers share the pod's network namespace; kubelet probes and Prometheus scrape
    # the pod IP, so no port is bound on the host.
    ports = [p["containerPort"] for c in containers for p in c.get("ports", [])]
    rep.check(len(ports) == len(set(ports)), f"{where}: container ports do not collide")
    rep.check(not any("hostPort" in p for c in containers for p in c.get("ports", [])),
              f"{where}: no hostPort (ports are the pod's)")
    return sf, sidecars


def check_variant(path, scope, rep, silo, help_flags, version, source):
    objs = build(os.path.join(source, path), rep)
    v = Variant(path, scope, objs)
    theirs, why = kubectl_build(os.path.join(source, path))
    if theirs is None:
        rep.skip(f"{path}: kubectl kustomize agrees", why)
    else:
        rep.check([ident(o) for o in theirs] == [ident(o) for o in objs],
                  f"{path}: kubectl kustomize builds the same objects in the same order")
    ns = check_objects(v, rep)
    silo_flags = [flagmap(c.get("args", [])) for w in v.workloads()
                  for c in pod_of(w)["containers"] if is_silo(c)]
    names = {f.get("driver-name", "silo.csi.io") for f in silo_flags}
    rep.check(len(names) == 1, f"{path}: one driver name across silo containers", str(names))
    driver_name = sorted(names)[0] if names else "silo.csi.io"
    inline = scope == "node" and any(f.get("mode", "all") == "all" for f in silo_flags)
    spec = check_driver(v, rep, driver_name, inline) or {}
    check_classes(v, rep)
    pods = []
    for w in v.workloads():
        sf, sidecars = check_pod(v, rep, w, ns, help_flags, silo, driver_name, version)
        pods.append((w, sidecars))
    ctrl = [(w, sf) for w in v.workloads() for c in pod_of(w)["containers"] if is_silo(c)
            for sf in [flagmap(c.get("args", []))] if sf.get("mode", "all") in ("all", "controller")]
    rep.check(len(ctrl) == 1, f"{path}: exactly one workload serves the Controller service")
    attach = any("skip-attach" not in sf for _, sf in ctrl)
    rep.check(spec.get("attachRequired") is attach,
              f"{path}: CSIDriver attachRequired={attach} matches silo --skip-attach")
    has_attacher = any(sc == "csi-attacher" for _, scs in pods for sc, _ in scs)
    rep.check(has_attacher == attach, f"{path}: external-attacher deployed iff attach is on")
    capacity = any(sc == "csi-provisioner" and f.get("enable-capacity") in ("", "true")
                   for _, scs in pods for sc, f in scs)
    rep.check(spec.get("storageCapacity") is capacity,
              f"{path}: CSIDriver storageCapacity={capacity} matches --enable-capacity")
    if ns:
        check_rbac(v, rep, ns, pods, attach)
    return v


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--silo", required=True, help="the built silo binary")
    ap.add_argument("--source", required=True, help="the source tree")
    a = ap.parse_args()
    rep = Report()
    source = os.path.abspath(a.source)
    rc, help_flags, _ = parse_help(a.silo) if os.access(a.silo, os.X_OK) else (1, {}, "")
    ok = rep.check(rc == 0 and {"endpoint", "driver-name", "mode"} <= set(help_flags),
                   f"{a.silo} --help lists its flags")
    version = project_version(source)
    rep.check(version is not None, "CMakeLists.txt has a project VERSION")
    if ok:
        variants = {p: check_variant(p, s, rep, a.silo, help_flags, version, source)
                    for p, s in VARIANTS.items()}
        base = variants["deploy/kubernetes"]
        for p, v in variants.items():
            same = [ident(o) for o in v.of("Namespace") + v.of("StorageClass") +
                    v.of("VolumeSnapshotClass")]
            rep.check(same == [ident(o) for o in base.of("Namespace") + base.of("StorageClass") +
                               base.of("VolumeSnapshotClass")],
                      f"{p}: same namespace and classes as deploy/kubernetes")
        if base.of("CSIDriver"):
            check_examples(rep, source, base)
        check_readme(rep, source, help_flags)
        check_every_yaml(rep, source, USED_FILES)
    print(f"{rep.passed} passed, {rep.failed} failed")
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main())
