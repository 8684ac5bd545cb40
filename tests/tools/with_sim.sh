#!/usr/bin/env bash
# Runs a command against a fresh klease-apiserver-sim (TLS, ephemeral port):
# every @KUBECONFIG@ argument becomes the simulator's kubeconfig. Passes when
# the command exits 0 and its output (stdout and stderr) has a line matching
# each --expect extended regular expression. Stops the simulator (by PID)
# whatever happens.
# Usage: with_sim.sh SIMULATOR [--expect ERE]... -- CMD [ARGS...]
set -uo pipefail
sim=$1
shift
expects=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    case "$1" in
    --expect) expects+=("$2"); shift 2 ;;
    *) echo "with_sim.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
shift # --
tmp=$(mktemp -d "${TMPDIR:-/tmp}/klease-with-sim.XXXXXX")
sim_pid=
cleanup() {
    if [ -n "$sim_pid" ]; then
        kill -TERM "$sim_pid" 2>/dev/null
        wait "$sim_pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

"$sim" --workdir "$tmp/sim" >"$tmp/sim.out" 2>"$tmp/sim.err" &
sim_pid=$!
for _ in $(seq 200); do # up to 10 s for the two start lines
    grep -q '^kubeconfig=' "$tmp/sim.out" && break
    kill -0 "$sim_pid" 2>/dev/null || break
    sleep 0.05
done
kubeconfig=$(sed -n 's/^kubeconfig=//p' "$tmp/sim.out")
if [ -z "$kubeconfig" ]; then
    echo "with_sim.sh: the simulator did not start:" >&2
    cat "$tmp/sim.err" >&2
    exit 1
fi

args=()
for a in "$@"; do
    args+=("${a//@KUBECONFIG@/$kubeconfig}")
done
"${args[@]}" >"$tmp/out" 2>&1
rc=$?
cat "$tmp/out"
if [ "$rc" != 0 ]; then
    echo "with_sim.sh: FAIL: exit status $rc" >&2
    exit 1
fi
for e in "${expects[@]}"; do
    if ! grep -Eq -- "$e" "$tmp/out"; then
        echo "with_sim.sh: FAIL: no line matches '$e'" >&2
        exit 1
    fi
done
echo "with_sim.sh: PASS"
