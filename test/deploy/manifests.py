"""What check_manifests.py knows about the outside world: the sidecar versions we pin, the
flags and feature gates those versions accept, and the API access each sidecar needs. Kept
apart from the checks so that bumping a sidecar is one edit here (and in the manifests).

Sources: each sidecar's README flag list, deploy/kubernetes/rbac.yaml and CHANGELOG at the
pinned version (kubernetes-csi/*). All of these speak CSI spec v1.12 and were built against
Kubernetes 1.34 client libraries; they run on Kubernetes 1.30+ (the resizer turns
VolumeAttributesClass support off by itself below 1.34).
"""

import re

SIG_STORAGE = "registry.k8s.io/sig-storage/"

# image name -> pinned tag
PINNED = {
    "csi-provisioner": "v6.0.1",
    "csi-attacher": "v4.10.0",
    "csi-resizer": "v2.0.0",
    "csi-snapshotter": "v8.4.0",
    "csi-node-driver-registrar": "v2.15.0",
    "livenessprobe": "v2.17.0",
    "csi-snapshot-metadata": "v0.1.0",
}

# Sidecars that act on API objects for the controller side of the driver.
CONTROLLER_SIDECARS = ("csi-provisioner", "csi-attacher", "csi-resizer", "csi-snapshotter")

_KLOG = {"v", "vmodule", "logging-format", "add_dir_header", "alsologtostderr", "log_file",
         "logtostderr", "one_output", "skip_headers", "skip_log_headers", "stderrthreshold"}
_CONTROLLER_COMMON = _KLOG | {
    "csi-address", "timeout", "kubeconfig", "http-endpoint", "metrics-address", "metrics-path",
    "leader-election", "leader-election-namespace", "leader-election-lease-duration",
    "leader-election-renew-deadline", "leader-election-retry-period", "kube-api-qps",
    "kube-api-burst", "feature-gates", "resync-period", "retry-interval-start",
    "retry-interval-max", "automaxprocs", "version",
}

FLAGS = {
    "csi-provisioner": _CONTROLLER_COMMON | {
        "worker-threads", "volume-name-prefix", "volume-name-uuid-length", "default-fstype",
        "extra-create-metadata", "strict-topology", "immediate-topology", "enable-capacity",
        "capacity-ownerref-level", "capacity-threads", "capacity-poll-interval",
        "capacity-for-immediate-binding", "node-deployment", "node-deployment-immediate-binding",
        "node-deployment-base-delay", "node-deployment-max-delay", "cloning-protection-threads",
        "controller-publish-readonly", "prevent-volume-mode-conversion", "enable-pprof",
        "kube-api-capacity-qps", "kube-api-capacity-burst"},
    "csi-attacher": _CONTROLLER_COMMON | {
        "worker-threads", "max-entries", "reconcile-sync", "default-fstype", "max-grpc-log-length"},
    "csi-resizer": _CONTROLLER_COMMON | {
        "workers", "handle-volume-inuse-error", "extra-modify-metadata"},
    "csi-snapshotter": _CONTROLLER_COMMON | {
        "worker-threads", "node-deployment", "extra-create-metadata", "snapshot-name-prefix",
        "snapshot-name-uuid-length", "groupsnapshot-name-prefix",
        "groupsnapshot-name-uuid-length"},
    "csi-node-driver-registrar": _KLOG | {
        "csi-address", "kubelet-registration-path", "plugin-registration-path", "http-endpoint",
        "mode", "timeout", "version"},
    "livenessprobe": _KLOG | {
        "csi-address", "health-port", "http-endpoint", "probe-timeout", "metrics-address",
        "metrics-path", "version"},
    # external-snapshot-metadata v0.1.0, pkg/sidecar/sidecar.go.
    "csi-snapshot-metadata": _KLOG | {
        "csi-address", "timeout", "port", "tls-cert", "tls-key", "max-streaming-duration-min",
        "kube-api-qps", "kube-api-burst", "kubeconfig", "http-endpoint", "metrics-path",
        "version"},
}

# Feature gates each pinned sidecar registers (an unknown gate makes it exit at start).
FEATURE_GATES = {
    "csi-provisioner": {"Topology", "HonorPVReclaimPolicy", "CrossNamespaceVolumeDataSource",
                        "VolumeAttributesClass"},
    "csi-resizer": {"RecoverVolumeExpansionFailure", "AnnotateFsResize", "VolumeAttributesClass",
                    "ReleaseLeaderElectionOnExit"},
    "csi-snapshotter": {"CSIVolumeGroupSnapshot"},
    "csi-attacher": set(),
}

# Flags whose value is a boolean (Go flag syntax: --x, --x=true, --x=false).
BOOL_FLAGS = {"leader-election", "node-deployment", "node-deployment-immediate-binding",
              "strict-topology", "immediate-topology", "enable-capacity", "extra-create-metadata",
              "capacity-for-immediate-binding", "handle-volume-inuse-error",
              "controller-publish-readonly", "prevent-volume-mode-conversion", "automaxprocs"}

# Default values that change which API objects a sidecar touches.
DEFAULTS = {("csi-resizer", "handle-volume-inuse-error"): "true",
            ("csi-provisioner", "capacity-ownerref-level"): "1"}

R = "get list watch"
W_EVENTS = "list watch create update patch"
LEASES = ("coordination.k8s.io", "leases", "get list watch create update delete")


def _rules(*rows):
    return [(g, r, set(v.split())) for g, r, v in rows]


def needs(sidecar, flags, workload_kind, attach):
    """API access one sidecar needs, given its flags and whether the driver advertises
    PUBLISH_UNPUBLISH_VOLUME (attach): a list of (namespaced: bool, apiGroup, resource,
    verbs:set) rows. namespaced rows are needed only in the pod's own namespace (a Role is
    enough)."""
    def on(name):
        v = flags.get(name, DEFAULTS.get((sidecar, name)))
        return v is not None and str(v).lower() in ("", "true")

    cluster, ns = [], []
    if sidecar == "csi-provisioner":
        cluster = _rules(("", "persistentvolumes", "get list watch create patch delete"),
                         ("", "persistentvolumeclaims", "get list watch update"),
                         ("storage.k8s.io", "storageclasses", R),
                         ("", "events", W_EVENTS),
                         ("", "nodes", R),
                         ("storage.k8s.io", "csinodes", R),
                         ("snapshot.storage.k8s.io", "volumesnapshots", "get list watch update"),
                         ("snapshot.storage.k8s.io", "volumesnapshotcontents", "get list"),
                         ("storage.k8s.io", "volumeattributesclasses", R))
        if attach:
            # Only then does it watch VolumeAttachments (to delay deleting an attached volume).
            cluster += _rules(("storage.k8s.io", "volumeattachments", R))
        if on("enable-capacity"):
            ns += _rules(("storage.k8s.io", "csistoragecapacities",
                          "get list watch create update patch delete"), ("", "pods", "get"))
            level = int(flags.get("capacity-ownerref-level",
                                  DEFAULTS[("csi-provisioner", "capacity-ownerref-level")]))
            if level >= 1 and workload_kind == "Deployment":
                ns += _rules(("apps", "replicasets", "get"))
            elif level >= 1 and workload_kind == "DaemonSet":
                ns += _rules(("apps", "daemonsets", "get"))
    elif sidecar == "csi-attacher":
        cluster = _rules(("", "persistentvolumes", "get list watch patch"),
                         ("storage.k8s.io", "csinodes", R),
                         ("storage.k8s.io", "volumeattachments", "get list watch patch"),
                         ("storage.k8s.io", "volumeattachments/status", "patch"))
    elif sidecar == "csi-resizer":
        cluster = _rules(("", "persistentvolumes", "get list watch patch"),
                         ("", "persistentvolumeclaims", R),
                         ("", "persistentvolumeclaims/status", "patch"),
                         ("", "events", W_EVENTS),
                         ("storage.k8s.io", "volumeattributesclasses", R))
        if on("handle-volume-inuse-error"):
            cluster += _rules(("", "pods", R))
    elif sidecar == "csi-snapshotter":
        cluster = _rules(("", "events", W_EVENTS),
                         ("snapshot.storage.k8s.io", "volumesnapshotclasses", R),
                         ("snapshot.storage.k8s.io", "volumesnapshotcontents",
                          "get list watch update patch"),
                         ("snapshot.storage.k8s.io", "volumesnapshotcontents/status", "update patch"))
        gates = flags.get("feature-gates", "")
        if re.search(r"CSIVolumeGroupSnapshot=true", gates):
            cluster += _rules(("snapshot.storage.k8s.io", "volumesnapshotcontents", "create delete"),
                              ("groupsnapshot.storage.k8s.io", "volumegroupsnapshotclasses", R),
                              ("groupsnapshot.storage.k8s.io", "volumegroupsnapshotcontents",
                               "get list watch update patch"),
                              ("groupsnapshot.storage.k8s.io",
                               "volumegroupsnapshotcontents/status", "update patch"))
    elif sidecar == "csi-snapshot-metadata":
        cluster = _rules(("cbt.storage.k8s.io", "snapshotmetadataservices", R),
                         ("authentication.k8s.io", "tokenreviews", "create"),
                         ("authorization.k8s.io", "subjectaccessreviews", "create"),
                         ("snapshot.storage.k8s.io", "volumesnapshots", "get list"),
                         ("snapshot.storage.k8s.io", "volumesnapshotcontents", "get list"))
    if sidecar in CONTROLLER_SIDECARS and on("leader-election"):
        ns += _rules(LEASES)
    return [(False, g, r, v) for g, r, v in cluster] + [(True, g, r, v) for g, r, v in ns]


# Keys beginning with this belong to the sidecars. external-provisioner refuses a
# StorageClass with one it does not know ("found unknown parameter key ... with reserved
# namespace"), strips the ones it knows before CreateVolume, but passes the class's
# parameters unstripped to GetCapacity. Its metadata keys (pvc/name, pvc/namespace, pv/name)
# are added by the provisioner itself and are not valid in a class.
SIDECAR_PREFIX = "csi.storage.k8s.io/"
_SECRETS = ("", "provisioner-", "controller-publish-", "node-stage-", "node-publish-",
            "controller-expand-", "node-expand-")
# external-provisioner v6.0.1, pkg/controller/controller.go removePrefixedParameters.
PROVISIONER_SC_KEYS = {SIDECAR_PREFIX + "fstype"} | {
    f"{SIDECAR_PREFIX}{s}secret-{part}" for s in _SECRETS for part in ("name", "namespace")}
# external-snapshotter v8, pkg/utils/util.go RemovePrefixedParameters.
SNAPSHOTTER_VSC_KEYS = {f"{SIDECAR_PREFIX}{s}secret-{part}"
                        for s in ("snapshotter-", "snapshotter-list-", "group-snapshotter-")
                        for part in ("name", "namespace")}
# external-provisioner takes any key equal to "fstype" in any letter case as its deprecated
# filesystem key: beside csi.storage.k8s.io/fstype it refuses the claim ("fstype specified in
# parameters with both ..."), alone it passes it on to silo, which refuses it.
FSTYPE_VALUES = {"ext4", "xfs"}

# StorageClass parameters silo accepts (without the sidecars' keys), and the mutable
# (VolumeAttributesClass) ones.
SC_PARAMS = {"provisioning": {"thin", "thick"}}
MUTABLE_PARAMS = {"provisioning": {"thick"}}
