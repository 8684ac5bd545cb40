#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in build-fuzz/ (or --build-dir) and
# runs each for N seconds on a copy of its seed corpus, one at a time (the
# machine is shared: one job each). Prints per target the executions, the
# corpus growth and any crash; a crash input is left in build-fuzz/crashes/
# and makes the script fail. Fix it, then keep the input in
# tests/fuzz/regressions/<target>/ so the fuzz smoke replays it forever.
# Usage: scripts/fuzz.sh [--seconds N] [--jobs N] [--build-dir DIR] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

seconds=60
jobs=2
dir=build-fuzz
targets=()
while (($#)); do
    case "$1" in
    --seconds) seconds=$2; shift ;;
    --jobs) jobs=$2; shift ;;
    --build-dir) dir=$2; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1") ;;
    esac
    shift
done
if ((${#targets[@]} == 0)); then
    read -r -a targets <<<"$(sed -n 's/^set(KLEASE_FUZZ_TARGETS \(.*\))$/\1/p' tests/fuzz/targets.cmake)"
fi

cmake -S "$root" -B "$dir" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DKLEASE_FUZZ=ON -DKLEASE_BUILD_TESTS=OFF -DKLEASE_BUILD_TOOLS=OFF \
    -DKLEASE_BUILD_EXAMPLES=OFF -DKLEASE_INSTALL=OFF >/dev/null
cmake --build "$dir" -j "$jobs" --target $(printf 'fuzz_%s ' "${targets[@]}") >/dev/null

mkdir -p "$dir/crashes"
failed=0
printf '%-16s %10s %12s %8s %8s %s\n' target seconds executions exec/s corpus result
for t in "${targets[@]}"; do
    work="$dir/corpus-run/$t"
    rm -rf "$work"
    mkdir -p "$work"
    cp tests/fuzz/corpus/"$t"/* "$work"/
    seeds=$(ls "$work" | wc -l)
    log="$dir/fuzz-$t.log"
    rc=0
    # -rss_limit_mb: a parser that balloons is a bug too. -max_len covers the
    # largest seed (a kubeconfig of a few KiB).
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "$dir/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -rss_limit_mb=1024 -max_len=16384 \
        -timeout=10 -print_final_stats=1 -artifact_prefix="$dir/crashes/$t-" \
        "$work" >"$log" 2>&1 || rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    corpus=$(ls "$work" | wc -l)
    if ((rc == 0)); then
        result=ok
    else
        result="CRASH (exit $rc): $(ls -t "$dir"/crashes/"$t"-* 2>/dev/null | head -1)"
        failed=$((failed + 1))
        grep -m1 -A12 'ERROR: \|runtime error\|deadly signal' "$log" || tail -20 "$log"
    fi
    printf '%-16s %10s %12s %8s %8s %s\n' "$t" "$seconds" "${execs:-?}" "${rate:-?}" \
        "$seeds->$corpus" "$result"
done
((failed == 0)) && echo "fuzz.sh: no crash in ${#targets[@]} targets" || {
    echo "fuzz.sh: $failed target(s) crashed; inputs in $dir/crashes/"
    exit 1
}
