#!/usr/bin/env bash
# The libklease demo: three replicas of a worker share one Lease on a local
# API server simulator. Only the replica holding the lease runs its worker.
# The demo shows who leads, a graceful handover (SIGTERM) and a takeover
# after the leader is killed (SIGKILL), with measured times.
#
# Usage: scripts/demo.sh [--no-build BUILD_DIR] [--jobs N]
#   By default it installs missing Debian packages, then configures and builds
#   the library, the klease tool and the simulator in build-demo/.
#   --no-build BUILD_DIR uses binaries already built there (the test suite).
# It stops everything it started (by PID) when it ends, however it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

build_dir=build-demo
do_build=1
jobs=2
while (($#)); do
    case "$1" in
    --no-build) do_build=0; build_dir=$2; shift ;;
    --jobs) jobs=$2; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "demo.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
    esac
    shift
done

bold="" plain=""
if [ -t 1 ]; then # emphasis on a terminal only, not in logs
    bold=$(tput bold 2>/dev/null || true)
    plain=$(tput sgr0 2>/dev/null || true)
fi
heading() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
say() { printf '   %s\n' "$*"; }
now_ns() { date +%s%N; }

if ((do_build)); then
    heading "Preparing: packages and build (build-demo/)"
    bash scripts/install-deps.sh
    # The simulator lives with the tests, so tests are configured ON, but only
    # the three targets the demo needs are built.
    mkdir -p "$build_dir"
    log=$build_dir/demo-build.log
    say "configuring and building (about a minute on 2 cores; log: $log)"
    cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKLEASE_BUILD_TESTS=ON \
        -DKLEASE_BUILD_TOOLS=ON -DKLEASE_BUILD_EXAMPLES=OFF -DKLEASE_INSTALL=OFF >"$log" 2>&1 ||
        { cat "$log"; exit 1; }
    # Progress: one line each time the build passes another quarter.
    # (pipefail is on: the pipeline fails when the build does.)
    if ! cmake --build "$build_dir" -j "$jobs" --target klease_tool klease-apiserver-sim 2>&1 |
        tee -a "$log" | awk '/^\[ *[0-9]+%\]/ { p = substr($0, 2) + 0; q = int(p / 25) * 25;
            if (q > last) { printf "   build %3d%%\n", q; fflush(); last = q } }'; then
        tail -n 40 "$log"
        echo "demo.sh: build failed (log: $log)" >&2
        exit 1
    fi
    say "built $build_dir/tools/klease/klease and the API server simulator"
fi
klease=$build_dir/tools/klease/klease
sim=$build_dir/tests/apiserver/klease-apiserver-sim
for b in "$klease" "$sim"; do
    [ -x "$b" ] || { echo "demo.sh: $b is missing; build first or drop --no-build" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/klease-demo.XXXXXX")
pids=() # every process the demo starts, stopped at exit by PID
cleanup() {
    for p in "${pids[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT

demo_start=$(now_ns)
lease=demo

# wait_until SECONDS CMD...: polls CMD every 20 ms.
wait_until() {
    local end=$(($(now_ns) + $1 * 1000000000))
    shift
    while ! "$@"; do
        if (($(now_ns) > end)); then
            echo "demo.sh: timed out waiting for: $*" >&2
            exit 1
        fi
        sleep 0.02
    done
}

# The simulator's write history: one JSON line per accepted write. The
# holder changes in it tell who took the lease, and when (server wall clock).
history=$tmp/history.jsonl
# holder_after LINE: "TIME HOLDER" of the first write after line LINE that
# names a holder other than $old_holder (TIME: RFC 3339, the server's clock).
holder_after() {
    tail -n +"$(($1 + 1))" "$history" 2>/dev/null |
        sed -n 's/.*"time":"\([^"]*\)".*"holderIdentity":"\([^"]*\)".*/\1 \2/p' |
        awk -v old="$old_holder" '$2 != old { print; exit }'
}
new_holder_seen() { [ -n "$(holder_after "$1")" ]; }
ns_of() { date -d "$1" +%s%N; } # RFC 3339 -> ns since the epoch
history_lines() { wc -l <"$history" 2>/dev/null || echo 0; }

# Each replica's output (klease's state lines and the worker's) is in its log.
show_state_lines() { # replica numbers...
    local r
    for r in "$@"; do
        grep '^klease:' "$tmp/replica-$r.log" | sed "s/^/   [replica-$r] /" || true
    done
}
replica_of() { echo "${1#replica-}"; }

heading "1. A Kubernetes API server on this machine"
say "klease-apiserver-sim serves the coordination.k8s.io/v1 Lease API over TLS,"
say "on a free port, and writes a kubeconfig for it (nothing touches a real cluster)."
"$sim" --workdir "$tmp/sim" --history "$history" >"$tmp/sim.out" 2>"$tmp/sim.err" &
pids+=($!)
wait_until 10 grep -q '^kubeconfig=' "$tmp/sim.out"
port=$(sed -n 's/^port=//p' "$tmp/sim.out")
kubeconfig=$(sed -n 's/^kubeconfig=//p' "$tmp/sim.out")
say "listening on https://127.0.0.1:$port"

heading "2. Three replicas, one lease"
say "Each replica runs the same command. klease exec waits until it holds the"
say "lease, then starts the worker and renews the lease in the background:"
say ""
say "  klease exec $lease --create --identity replica-N --duration 5s \\"
say "      -- sh -c 'while :; do echo \"replica N working\"; sleep 1; done'"
say ""
say "A 5 s lease keeps the crash case below short; real deployments use 15-30 s."
declare -A pid_of
for r in 1 2 3; do
    "$klease" exec "$lease" --kubeconfig "$kubeconfig" --create --identity "replica-$r" \
        --duration 5s -- sh -c "while :; do echo 'replica $r working'; sleep 1; done" \
        >"$tmp/replica-$r.log" 2>&1 &
    pid_of[$r]=$!
    pids+=($!)
done
old_holder=""
wait_until 15 new_holder_seen 0
read -r _ leader < <(holder_after 0)
l=$(replica_of "$leader")
# Give the followers a moment to report whom they are waiting for.
wait_until 10 grep -q 'waiting for lease' "$tmp/replica-$(((l % 3) + 1)).log"
wait_until 10 grep -q 'waiting for lease' "$tmp/replica-$((((l + 1) % 3) + 1)).log"
sleep 1.5
say "$leader won the race and leads; the others wait:"
show_state_lines 1 2 3
say "Only the leader's worker runs:"
grep -h 'working' "$tmp"/replica-*.log | tail -n 2 | sed 's/^/   | /'

heading "3. Graceful handover: SIGTERM to the leader ($leader)"
say "klease forwards SIGTERM to its worker; when the worker exits, klease vacates"
say "the lease. The waiting replicas watch the lease, so one takes it at once."
old_holder=$leader
mark=$(history_lines)
t0=$(now_ns)
kill -TERM "${pid_of[$l]}"
wait_until 10 new_holder_seen "$mark"
read -r t1 leader < <(holder_after "$mark")
handover_ms=$((($(ns_of "$t1") - t0) / 1000000))
status=0
wait "${pid_of[$l]}" || status=$?
old=$l
l=$(replica_of "$leader")
show_state_lines "$old" | tail -n 3
show_state_lines "$l" | grep acquired
say "replica-$old exited with its worker's status ($status: 128 + SIGTERM's 15)"
say "${bold}handover: replica-$old -> $leader in $handover_ms ms${plain} (no wait for expiry)"
sleep 1.5
grep -h "replica $l working" "$tmp/replica-$l.log" | tail -n 1 | sed 's/^/   | /'

heading "4. Crash: SIGKILL to the new leader ($leader)"
say "A killed process cannot vacate. Its worker dies with it (klease's watchdog"
say "kills the worker's whole process group), but the lease still names $leader"
say "until its claim expires: 5 s after its last renewal (it renews every ~2 s)."
say "Then a waiting replica takes over."
# klease's children are the worker (sh) and the watchdog: the worker is the sh.
worker=$(pgrep -x -P "${pid_of[$l]}" sh | head -n1 || true)
old_holder=$leader
mark=$(history_lines)
t0=$(now_ns)
kill -KILL "${pid_of[$l]}"
wait "${pid_of[$l]}" 2>/dev/null || true
if [ -n "$worker" ]; then
    wait_until 5 bash -c "! kill -0 $worker 2>/dev/null"
    say "$leader's worker (pid $worker) was stopped by the watchdog as well"
fi
wait_until 20 new_holder_seen "$mark"
read -r t1 leader < <(holder_after "$mark")
takeover_ms=$((($(ns_of "$t1") - t0) / 1000000))
old=$l
l=$(replica_of "$leader")
show_state_lines "$l" | grep acquired | tail -n 1
say "${bold}takeover after expiry: replica-$old -> $leader in $takeover_ms ms${plain} (lease 5 s)"
sleep 1.2
grep -h "replica $l working" "$tmp/replica-$l.log" | tail -n 1 | sed 's/^/   | /'

heading "5. Cleaning up"
kill -TERM "${pid_of[$l]}"
status=0
wait "${pid_of[$l]}" || status=$?
say "stopped $leader (status $status) and, at exit, the API server simulator"
say "total: $((($(now_ns) - demo_start) / 1000000)) ms. Next: README.md, 'klease --help',"
say "examples/controller.c, and scripts/test.sh for the test suite."
