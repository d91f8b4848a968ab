#!/bin/sh
# Counts the files CreateVolume, CreateSnapshot, a clone, a restore, DeleteSnapshot and
# DeleteVolume pass through in the controller (docs/architecture.md, "One CreateVolume").
#   test/layers/trace-ops.sh [-v] [SOURCE_TREE]   (default: this repository)
# Builds controller/, common/store/ and the common/ base with -finstrument-functions (not the
# gRPC adapters: the operations are called directly, below them), runs them on a temp pool.
set -eu
verbose=
[ "${1:-}" = -v ] && { verbose=-v; shift; }
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "${1:-$here/../..}" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$src"
gcc -O0 -g -std=gnu11 -D_GNU_SOURCE -DSILO_TEST_HOOKS=0 -DSILO_FUZZ=0 -DSILO_VERSION='"0"' \
    -DSILO_GIT_REV='"0"' -I. -include common/banned.h -finstrument-functions -fno-pie -no-pie \
    $(ls controller/*.c | grep -v -e -rpc.c -e /msg.c) $(ls common/*.c | grep -v wirecheck) \
    common/store/*.c common/server/config.c "$here/trace_ops.c" -o "$tmp/trace_ops" -lpthread -lm
mkdir "$tmp/pool"
"$tmp/trace_ops" "$tmp/pool" "$tmp/trace"
python3 "$here/count_stays.py" $verbose "$tmp/trace_ops" "$tmp/trace" "$src"
