#!/bin/sh
# Installs what silo needs from Debian, idempotently. Used by `make`, CI and the Dockerfile.
#   install-deps.sh build    compilers, libraries, test and lint tools
#   install-deps.sh runtime  what the daemon needs at run time only
set -eu

RUNTIME="libgrpc29 libprotobuf-c1 libmount1 libblkid1 libudev1 libmicrohttpd12 e2fsprogs xfsprogs util-linux"
BUILD="build-essential cmake pkg-config git libgrpc-dev libprotobuf-c-dev protobuf-c-compiler \
libprotobuf-dev libmount-dev libblkid-dev libudev-dev libmicrohttpd-dev check \
clang-tidy cppcheck clang-format python3 python3-yaml e2fsprogs xfsprogs util-linux \
btrfs-progs curl clang-14 libfuzzer-14-dev openssl"

case "${1:-build}" in
runtime) want=$RUNTIME ;;
build) want=$BUILD ;;
*) echo "usage: $0 build|runtime" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
