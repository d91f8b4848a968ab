#!/bin/bash
# Replays each fuzz target's checked-in corpus, then fuzzes it for SECONDS (one target at a
# time). New inputs go to BUILD/fuzz-work/<target>/corpus, never into the tree; a crash, leak
# or timeout leaves its reproducer in BUILD/fuzz-work/<target>/ and fails the run.
#   run-fuzzers.sh BUILD SECONDS [TARGET...]
set -u
build=$1
seconds=$2
shift 2
src=$(cd "$(dirname "$0")" && pwd)
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	targets=()
	for d in "$src"/corpus/*/; do targets+=("$(basename "$d")"); done
fi
failed=0
for t in "${targets[@]}"; do
	bin=$build/test/fuzz/$t
	work=$build/fuzz-work/$t
	rm -rf "$work"
	mkdir -p "$work/corpus"
	log=$work/log
	# The replay: every checked-in input once.
	if ! "$bin" -runs=0 -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$work/" \
		"$src/corpus/$t" >"$log" 2>&1; then
		echo "FAIL $t: replay of test/fuzz/corpus/$t ($log):"
		grep -m3 -E "ERROR|fuzz-env|Test unit written" "$log" | sed 's/^/    /'
		failed=1
		continue
	fi
	if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$work/" "$work/corpus" "$src/corpus/$t" >>"$log" 2>&1; then
		echo "FAIL $t: after fuzzing ($log):"
		grep -m3 -E "ERROR|fuzz-env|Test unit written" "$log" | sed 's/^/    /'
		failed=1
		continue
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -E '^#[0-9]+.*cov:' "$log" | tail -1 | sed -E 's/.*cov: ([0-9]+) ft: ([0-9]+) corp: ([0-9]+).*/cov \1, features \2, corpus \3/')
	echo "PASS $t: $execs executions in ${seconds}s, $cov"
done
exit $failed
