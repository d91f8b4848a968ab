"""RBAC of a deployment: every sidecar holds exactly the API access it uses (from
manifests.needs), with no wildcards. Part of check_manifests.py."""

import manifests as known
from kustomize import pod_of


def check_rbac(v, rep, ns, pods, attach):
    """pods: [(workload, [(sidecar, flags)])]. Needs of every sidecar are granted, and nothing
    else is."""
    where = v.path
    roles = {("ClusterRole", r["metadata"]["name"]): r for r in v.of("ClusterRole")}
    roles.update({("Role", r["metadata"]["name"]): r for r in v.of("Role")})
    granted = {}  # sa -> set of (namespace or '*', group, resource, verb)
    for b in v.of("ClusterRoleBinding") + v.of("RoleBinding"):
        ref = (b["roleRef"]["kind"], b["roleRef"]["name"])
        role = roles.get(ref)
        rep.check(role is not None, f"{where}: {b['kind']} {b['metadata']['name']} role {ref} exists")
        scope = "*" if b["kind"] == "ClusterRoleBinding" else b["metadata"]["namespace"]
        for s in b.get("subjects", []):
            ok = s.get("kind") == "ServiceAccount" and v.find("ServiceAccount", s["name"],
                                                              s.get("namespace"))
            rep.check(ok, f"{where}: {b['metadata']['name']} subject {s.get('name')} exists")
            for rule in (role or {}).get("rules", []):
                rep.check("*" not in rule.get("verbs", []) + rule.get("resources", []),
                          f"{where}: {ref[1]} has no wildcards")
                for g in rule.get("apiGroups", []):
                    for res in rule.get("resources", []):
                        for verb in rule.get("verbs", []):
                            granted.setdefault(s["name"], set()).add((scope, g, res, verb))
    wanted = {}
    for w, sidecars in pods:
        pod = pod_of(w)
        sa = pod.get("serviceAccountName", "default")
        rep.check(v.find("ServiceAccount", sa, ns) is not None,
                  f"{where}: {w['metadata']['name']} ServiceAccount {sa} exists")
        mine = set()
        for sc, flags in sidecars:
            for namespaced, g, res, verbs in known.needs(sc, flags, w["kind"], attach):
                for verb in verbs:
                    mine.add((ns if namespaced else "*", g, res, verb))
            have = granted.get(sa, set())
            rows = known.needs(sc, flags, w["kind"], attach)
            missing = sorted(
                (g, res, verb) for namespaced, g, res, verbs in rows for verb in verbs
                if ("*", g, res, verb) not in have and
                (not namespaced or (ns, g, res, verb) not in have))
            rep.check(not missing, f"{where}: {sc} in {w['metadata']['name']} has all it needs",
                      f"missing {missing}")
        wanted.setdefault(sa, set()).update(mine)
        if not mine:
            sa_obj = v.find("ServiceAccount", sa, ns) or {}
            rep.check(pod.get("automountServiceAccountToken") is False or
                      sa_obj.get("automountServiceAccountToken") is False,
                      f"{where}: {w['metadata']['name']} needs no API token and mounts none")
    for sa, g in granted.items():
        extra = sorted(x for x in g if x not in wanted.get(sa, set()) and
                       not (x[0] != "*" and ("*",) + x[1:] in wanted.get(sa, set())))
        rep.check(not extra, f"{where}: {sa} holds nothing its sidecars do not use",
                  f"extra {extra}")
