"""The part of `kustomize build` that silo's deploy/ uses, done in Python so that the
manifest checks need no cluster and no network: resources, components with strategic-merge
patches, fifo order. `kubectl kustomize` is compared against it when installed."""

import os
import shutil
import subprocess

import yaml

USED_FILES = set()  # every manifest file some kustomization lists
# libyaml's parser when PyYAML has it: the pure-Python one was half of each run's CPU time,
# and check_mutations runs these checks some fifty times.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Report:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   {what}")
        else:
            self.failed += 1
            print(f"FAIL {what}" + (f": {detail}" if detail else ""))
        return ok

    def skip(self, what, why):
        print(f"skip {what}: {why}")


def load_docs(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.load_all(f, Loader=SAFE_LOADER) if d is not None]


def build(directory, rep, seen=None):
    """kustomize build, for the subset we allow (resources, components, sortOptions fifo):
    the objects in listed order, directories expanded depth-first, then each component's
    resources and patches."""
    seen = seen if seen is not None else set()
    kfile = os.path.join(directory, "kustomization.yaml")
    k = load_docs(kfile)[0]
    extra = set(k) - {"apiVersion", "kind", "resources", "components", "sortOptions"}
    rep.check(not extra, f"{os.path.relpath(kfile)}: only resources/components/sortOptions used",
              f"unsupported keys {sorted(extra)} (this test would not see their effect)")
    if "sortOptions" in k:
        rep.check(k["sortOptions"] == {"order": "fifo"}, f"{os.path.relpath(kfile)}: fifo order")
    objs = load_resources(directory, kfile, k.get("resources", []), rep, seen)
    for comp in k.get("components", []):
        objs += build_component(os.path.normpath(os.path.join(directory, comp)), objs, rep, seen)
    return objs


def load_resources(directory, kfile, resources, rep, seen):
    objs = []
    for res in resources:
        path = os.path.normpath(os.path.join(directory, res))
        if os.path.isdir(path):
            objs += build(path, rep, seen)
        elif rep.check(os.path.isfile(path), f"{os.path.relpath(kfile)}: '{res}' exists"):
            USED_FILES.add(os.path.abspath(path))
            try:
                docs = load_docs(path)
            except yaml.YAMLError as e:
                rep.check(False, f"{os.path.relpath(path)} parses", str(e).splitlines()[0])
                continue
            for d in docs:
                key = (d.get("kind"), d.get("metadata", {}).get("namespace"),
                       d.get("metadata", {}).get("name"))
                if key in seen:
                    rep.check(False, f"{os.path.relpath(path)}: {key} defined once")
                seen.add(key)
                objs.append(d)
    return objs


def merge(into, patch):
    """Strategic merge as kustomize does it for what our patches touch: maps merge key by
    key, lists of named items (containers, volumes, mounts, ports, env) merge by name, other
    lists are replaced."""
    for key, val in patch.items():
        cur = into.get(key)
        if isinstance(cur, dict) and isinstance(val, dict):
            merge(cur, val)
        elif (isinstance(cur, list) and isinstance(val, list) and
              all(isinstance(x, dict) and "name" in x for x in cur + val)):
            for item in val:
                same = [x for x in cur if x["name"] == item["name"]]
                if same:
                    merge(same[0], item)
                else:
                    cur.append(item)
        else:
            into[key] = val


def build_component(directory, base, rep, seen):
    """A kustomize Component: its resources are added (marked, since they come after the
    base's in apply order) and its patches merged into the base's objects."""
    kfile = os.path.join(directory, "kustomization.yaml")
    k = load_docs(kfile)[0]
    where = os.path.relpath(kfile)
    rep.check(k.get("kind") == "Component" and
              k.get("apiVersion") == "kustomize.config.k8s.io/v1alpha1",
              f"{where}: is a kustomize Component")
    extra = set(k) - {"apiVersion", "kind", "resources", "patches"}
    rep.check(not extra, f"{where}: only resources/patches used", f"unsupported {sorted(extra)}")
    objs = load_resources(directory, kfile, k.get("resources", []), rep, seen)
    for o in objs:
        o["__component__"] = directory
    for p in k.get("patches", []):
        path = os.path.normpath(os.path.join(directory, p.get("path", "")))
        if not rep.check(set(p) == {"path"} and os.path.isfile(path),
                         f"{where}: patch {p} is a strategic-merge file"):
            continue
        USED_FILES.add(os.path.abspath(path))
        for d in load_docs(path):
            target = [o for o in base if ident(o) == ident(d)]
            if rep.check(len(target) == 1, f"{where}: patch target {ident(d)} exists"):
                merge(target[0], {kk: vv for kk, vv in d.items()
                                  if kk not in ("apiVersion", "kind", "metadata")})
    return objs


def kubectl_build(directory):
    kubectl = shutil.which("kubectl")
    if os.environ.get("SILO_DEPLOY_NO_KUBECTL"):
        return None, "SILO_DEPLOY_NO_KUBECTL is set"
    if not kubectl:
        return None, "kubectl not installed"
    try:
        p = subprocess.run([kubectl, "kustomize", directory], capture_output=True, text=True,
                           timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, f"kubectl kustomize did not run: {e}"
    if p.returncode != 0:
        return None, "kubectl kustomize failed: " + p.stderr.strip()[:300]
    return [d for d in yaml.load_all(p.stdout, Loader=SAFE_LOADER) if d], None


def ident(o):
    m = o.get("metadata", {})
    return (o.get("kind"), m.get("namespace"), m.get("name"))


def pod_of(w):
    return w["spec"]["template"]["spec"]
