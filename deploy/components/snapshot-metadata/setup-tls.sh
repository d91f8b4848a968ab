#!/bin/sh
# Makes what the snapshot-metadata sidecar needs for TLS and tells clients how to reach it:
# a private CA, a server certificate for the Service's DNS names, the Secret the sidecar
# mounts, and the SnapshotMetadataService object (address, CA, token audience).
#   setup-tls.sh [NAMESPACE] [DRIVER_NAME] [DAYS]     defaults: silo-system silo.csi.io 365
# Needs openssl and kubectl (with access to the cluster; $KUBECTL names another). Re-running replaces all three;
# restart the controller pod afterwards so the sidecar reads the new certificate. With
# cert-manager, issue a certificate for the same names into the same Secret instead and
# create the SnapshotMetadataService with its CA.
set -eu
kubectl=${KUBECTL:-kubectl}
ns=${1:-silo-system}
driver=${2:-silo.csi.io}
days=${3:-365}
svc=silo-snapshot-metadata
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

openssl req -x509 -newkey rsa:4096 -nodes -sha256 -days "$days" -subj "/CN=$svc-ca" \
	-keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
openssl req -newkey rsa:4096 -nodes -sha256 -subj "/CN=$svc.$ns" \
	-keyout "$dir/tls.key" -out "$dir/tls.csr" 2>/dev/null
printf 'subjectAltName=DNS:%s,DNS:%s.%s,DNS:%s.%s.svc,DNS:%s.%s.svc.cluster.local\n' \
	"$svc" "$svc" "$ns" "$svc" "$ns" "$svc" "$ns" >"$dir/san.ext"
openssl x509 -req -sha256 -days "$days" -in "$dir/tls.csr" -CA "$dir/ca.crt" \
	-CAkey "$dir/ca.key" -CAcreateserial -extfile "$dir/san.ext" -out "$dir/tls.crt" 2>/dev/null

$kubectl -n "$ns" create secret tls "$svc-tls" --cert="$dir/tls.crt" --key="$dir/tls.key" \
	--dry-run=client -o yaml | $kubectl apply -f -
ca=$(base64 -w0 <"$dir/ca.crt")
$kubectl apply -f - <<EOT
apiVersion: cbt.storage.k8s.io/v1alpha1
kind: SnapshotMetadataService
metadata:
  name: $driver
spec:
  address: $svc.$ns:6443
  audience: $driver-snapshot-metadata
  caCert: $ca
EOT
echo "SnapshotMetadataService $driver: address $svc.$ns:6443, audience $driver-snapshot-metadata"
