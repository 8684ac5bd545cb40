#!/usr/bin/env bash
# A long chaos run: builds the simulator, the contenders, the driver and the
# checker (build-chaos/, or --build-dir), then runs the driver for N minutes
# with 5 contenders (or --contenders) and prints the checker's report. Exit
# status 0 when no two leaders ever overlapped. The logs, write history and
# fault events stay in BUILD_DIR/chaos-run/ for inspection. --scenario exec
# runs `klease exec` contenders and judges the overlaps of their CMDs;
# --scenario many runs chaos_many contenders holding --leases (200) leases
# each and judges the work per lease. --duration S bounds the run in seconds
# (instead of --minutes); a stop takes a few seconds more.
# Usage: scripts/chaos.sh [--minutes N | --duration S] [--contenders N] [--seed N] [--jobs N]
#                         [--build-dir DIR] [--scenario chaos|exec|many] [--leases N]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

minutes=10
duration=""
leases=200
contenders=5
seed=""
jobs=2
dir=build-chaos
scenario=chaos
while (($#)); do
    case "$1" in
    --minutes) minutes=$2; shift ;;
    --duration) duration=$2; shift ;;
    --leases) leases=$2; shift ;;
    --contenders) contenders=$2; shift ;;
    --seed) seed=$2; shift ;;
    --jobs) jobs=$2; shift ;;
    --build-dir) dir=$2; shift ;;
    --scenario) scenario=$2; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "chaos.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$dir" -j "$jobs" --target klease-apiserver-sim chaos_contender chaos_check \
    chaos_driver klease_tool chaos_work chaos_many chaos_many_check >/dev/null
bins=(--sim "$dir/tests/apiserver/klease-apiserver-sim" --contender "$dir/tests/chaos/chaos_contender"
      --checker "$dir/tests/chaos/chaos_check" --klease "$dir/tools/klease/klease"
      --work "$dir/tests/chaos/chaos_work" --many "$dir/tests/chaos/chaos_many"
      --many-checker "$dir/tests/chaos/chaos_many_check")
seconds=$((minutes * 60))
[ -n "$duration" ] && seconds=$duration
args=(--workdir "$dir/chaos-run" --seconds "$seconds" --contenders "$contenders"
      --scenario "$scenario" --leases "$leases")
[ -n "$seed" ] && args+=(--seed "$seed")
exec "$dir/tests/chaos/chaos_driver" "${bins[@]}" "${args[@]}"
