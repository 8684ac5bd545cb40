#!/usr/bin/env bash
# A long chaos run: builds the simulator, the contenders, the driver and the
# checker (build-chaos/, or --build-dir), then runs the driver for N minutes
# with 5 contenders (or --contenders) and prints the checker's report. Exit
# status 0 when no two leaders ever overlapped. The logs, write history and
# fault events stay in BUILD_DIR/chaos-run/ for inspection. --scenario exec
# runs `klease exec` contenders and judges the overlaps of their CMDs.
# Usage: scripts/chaos.sh [--minutes N] [--contenders N] [--seed N] [--jobs N] [--build-dir DIR]
#                         [--scenario chaos|exec]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

minutes=10
contenders=5
seed=""
jobs=2
dir=build-chaos
scenario=chaos
while (($#)); do
    case "$1" in
    --minutes) minutes=$2; shift ;;
    --contenders) contenders=$2; shift ;;
    --seed) seed=$2; shift ;;
    --jobs) jobs=$2; shift ;;
    --build-dir) dir=$2; shift ;;
    --scenario) scenario=$2; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "chaos.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$dir" -j "$jobs" --target klease-apiserver-sim chaos_contender chaos_check \
    chaos_driver klease_tool chaos_work >/dev/null
bins=(--sim "$dir/tests/apiserver/klease-apiserver-sim" --contender "$dir/tests/chaos/chaos_contender"
      --checker "$dir/tests/chaos/chaos_check" --klease "$dir/tools/klease/klease"
      --work "$dir/tests/chaos/chaos_work")
args=(--workdir "$dir/chaos-run" --seconds $((minutes * 60)) --contenders "$contenders"
      --scenario "$scenario")
[ -n "$seed" ] && args+=(--seed "$seed")
exec "$dir/tests/chaos/chaos_driver" "${bins[@]}" "${args[@]}"
