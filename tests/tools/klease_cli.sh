#!/usr/bin/env bash
# End-to-end test of the klease tool against klease-apiserver-sim (TLS, an
# ephemeral port): each command's output and exit status, usage errors, and
# `klease exec` (one worker at a time, handover on SIGTERM, a lost lease,
# status propagation, SIGTERM while waiting).
# Usage: klease_cli.sh KLEASE_BINARY SIMULATOR_BINARY
set -uo pipefail

K=$1
SIM=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/klease-cli-test.XXXXXX")
pids=() # everything this script started, stopped by PID at exit
. "$(dirname "$0")/lib.sh"
trap kill_all EXIT

step "simulator"
start_sim "$tmp/sim"
kc=(--kubeconfig "$KC")

step "help and usage errors exit 2 with one line"
expect 0 "$K" --help
has out "Exit status"
for c in create get claim vacate exec; do
    expect 0 "$K" "$c" --help
    has out "usage: klease $c"
done
expect 0 "$K" version
has out "klease [0-9]"
expect 2 "$K"
expect 2 "$K" frobnicate demo
expect 2 "$K" get
expect 2 "$K" get demo --bogus
expect 2 "$K" get demo extra-arg
expect 2 "$K" get demo --namespace
expect 2 "$K" get demo -o xml
expect 2 "$K" claim demo -o yaml # yaml and wide are for get
expect 2 "$K" claim demo --duration 12parsecs
expect 2 "$K" claim demo --duration ''
expect 2 "$K" claim demo --duration -5s
expect 2 "$K" claim demo --duration 1m30
expect 2 "$K" claim demo --grace 1.s
expect 2 "$K" claim demo --duration 500ms
expect 2 "$K" claim demo --duration 5s --grace 5s
expect 2 "$K" get demo --kill-after 1s
expect 2 "$K" exec demo
expect 2 "$K" exec demo --kill-after soon -- true
[ "$(lines "$tmp/err")" = 1 ] || fail "a usage error is one line"
has err "bad duration 'soon'"

step "configuration and authentication errors"
expect 4 "$K" get demo --kubeconfig "$tmp/missing"
expect 4 "$K" get demo "${kc[@]}" --context nope
sed 's/^\( *token:\).*/\1 not-a-valid-token/' "$KC" >"$tmp/bad-token"
expect 6 "$K" get demo --kubeconfig "$tmp/bad-token"

step "create / get / claim / vacate"
expect 5 "$K" get demo "${kc[@]}"
has err "not found"
expect 0 "$K" create demo "${kc[@]}"
has out "lease default/demo created"
expect 0 "$K" create demo "${kc[@]}" -o json
has out '"created":false'
expect 0 "$K" get demo "${kc[@]}"
has out "holder: *(none"
has out "transitions: *0"
has out "resourceVersion: *[0-9]"
expect 0 "$K" get demo "${kc[@]}" -o json
has out '"held":false'
has out '"resourceVersion":"[0-9]*"'
expect 0 "$K" claim demo "${kc[@]}" --identity alice --duration 15s
has out "holder: *alice (you)"
has out "transitions: *1"
has out "result: *held"
expect 0 "$K" claim demo "${kc[@]}" --identity alice --duration 15s # a renewal
expect 1 "$K" claim demo "${kc[@]}" --identity bob
has out "holder: *alice"
has out "held by someone else"
expect 0 "$K" get demo "${kc[@]}" -o json --identity bob
has out '"holder":"alice"'
has out '"heldByMe":false'
has out '"resourceVersion":"[0-9]*"'
has out '"timeLeftMs":1[0-5][0-9][0-9][0-9]' # about 15 s left
has out '"expiry":"20[0-9-]*T[0-9:.]*Z"'
expect 0 "$K" get demo "${kc[@]}" -n default
has out "time left: *1[0-5]\.[0-9]s"
expect 1 "$K" vacate demo "${kc[@]}" --identity bob
has out "not held by bob"
expect 0 "$K" vacate demo "${kc[@]}" --identity alice
has out "vacated by alice"
expect 0 "$K" claim demo "${kc[@]}" --identity bob -o json
has out '"transitions":2'
expect 5 "$K" claim other "${kc[@]}" --identity bob
expect 0 "$K" claim other "${kc[@]}" --identity bob --create --field-manager my-tool -v
has err "klease: \[debug\] PATCH\|klease: \[debug\] GET"

step "exec: status propagation"
expect 9 "$K" exec st "${kc[@]}" --create --identity x -- sh -c 'echo from-cmd; exit 9'
has out "from-cmd"
has err "acquired lease default/st as x (fencing token 1); starting: sh -c"
has err "released lease default/st"
expect 143 "$K" exec st "${kc[@]}" --identity x -- sh -c 'kill -TERM $$'
expect 127 "$K" exec st "${kc[@]}" --identity x -- /nonexistent/command
expect 0 "$K" exec st "${kc[@]}" --identity x --quiet -- true
[ -s "$tmp/err" ] && fail "--quiet still printed: $(cat "$tmp/err")"
expect 0 "$K" get st "${kc[@]}"
has out "holder: *(none" # vacated after the command

step "exec: --timeout while someone else holds the lease"
expect 0 "$K" claim busy "${kc[@]}" --create --identity holder --duration 30s
expect 7 "$K" exec busy "${kc[@]}" --identity w --timeout 1s -- touch "$tmp/ran"
has err "waiting for lease default/busy (held by holder)"
[ -e "$tmp/ran" ] && fail "exec ran its command without the lease"

step "exec: SIGTERM while waiting exits without running the command"
"$K" exec busy "${kc[@]}" --identity w -- touch "$tmp/ran" 2>"$tmp/wait.err" &
w=$!
pids+=($w)
wait_for "$tmp/wait.err" "waiting for lease default/busy (held by holder)" 10
kill -TERM "$w"
wait_exit "$w" 5
[ "$rc" = 143 ] || fail "SIGTERM while waiting: status $rc, want 143"
[ -e "$tmp/ran" ] && fail "exec ran its command without the lease"

step "exec: two replicas, one worker at a time, handover on SIGTERM"
mkdir "$tmp/work"
cat >"$tmp/worker.sh" <<'EOF'
#!/bin/sh
# worker.sh ID DIR: mkdir is atomic, so a second worker running at once fails it.
id=$1 dir=$2
mkdir "$dir/running" 2>/dev/null || echo "OVERLAP $id" >>"$dir/events"
echo "start $id" >>"$dir/events"
trap 'echo "stop $id" >>"$dir/events"; rmdir "$dir/running"; exit 42' TERM
while :; do sleep 0.05; done
EOF
# A 20 s lease: a handover well under it shows the leader vacated on exit
# rather than letting the lease expire.
for r in a b; do
    "$K" exec pair "${kc[@]}" --create --identity "replica-$r" --duration 20s \
        -- sh "$tmp/worker.sh" "$r" "$tmp/work" 2>"$tmp/exec-$r.err" &
    eval "pid_$r=$!"
    pids+=($!)
done
wait_for "$tmp/work/events" "^start" 15
first=$(sed -n 's/^start //p' "$tmp/work/events" | head -n1)
second=$([ "$first" = a ] && echo b || echo a)
sleep 1 # both replicas are up: the second must be waiting, not running
[ "$(grep -c '^start' "$tmp/work/events")" = 1 ] ||
    fail "two workers started: $(cat "$tmp/work/events")"
wait_for "$tmp/exec-$second.err" "waiting for lease default/pair (held by replica-$first)" 10
leader_pid=$(eval echo "\$pid_$first")
t0=$(now_ms)
kill -TERM "$leader_pid"
wait_for "$tmp/work/events" "^start $second" 10
handover=$(($(now_ms) - t0))
echo "handover took $handover ms"
[ "$handover" -lt 10000 ] ||
    fail "handover took $handover ms: the lease expired instead of being vacated"
wait_exit "$leader_pid" 5
[ "$rc" = 42 ] || fail "leader exit status $rc, want the worker's 42"
grep -q "received SIGTERM; forwarding it to sh" "$tmp/exec-$first.err" || fail "no forwarding line"
grep -q "acquired lease default/pair as replica-$second" "$tmp/exec-$second.err" ||
    fail "no acquired line for replica-$second"
grep -q OVERLAP "$tmp/work/events" && fail "two workers overlapped: $(cat "$tmp/work/events")"
other_pid=$(eval echo "\$pid_$second")
kill -TERM "$other_pid"
wait_exit "$other_pid" 5
[ "$rc" = 42 ] || fail "second replica exit status $rc, want 42"

step "exec: a lost lease stops the command (SIGTERM, then SIGKILL after --kill-after)"
# The worker ignores SIGTERM, so only SIGKILL ends it (128+9); klease says so
# and exits 124, the status for a lost lease.
"$K" exec lost "${kc[@]}" --create --identity keeper --duration 6s --grace 4s --kill-after 1s \
    -- sh -c 'trap "" TERM; while :; do sleep 0.05; done' 2>"$tmp/lost.err" &
lp=$!
pids+=($lp)
wait_for "$tmp/lost.err" "acquired lease default/lost as keeper" 10
# Someone else takes the lease behind the keeper's back; the keeper finds out
# at its next renewal (within 2 s) and must stop its command at once.
stolen=0
for _ in 1 2 3 4 5; do
    "$K" vacate lost "${kc[@]}" --identity keeper >/dev/null 2>&1
    if "$K" claim lost "${kc[@]}" --identity thief --duration 30s >/dev/null 2>&1; then
        stolen=1
        break
    fi
done
[ "$stolen" = 1 ] || fail "could not take the lease from the keeper"
wait_for "$tmp/lost.err" "lost lease default/lost; stopping sh" 10
wait_for "$tmp/lost.err" "sending SIGKILL" 5
wait_exit "$lp" 5
[ "$rc" = 124 ] || fail "lost lease: status $rc, want 124 (stopped because the lease was lost)"
grep -q "was killed by signal 9 (exit status 137)" "$tmp/lost.err" || fail "no SIGKILL status line"
expect 0 "$K" get lost "${kc[@]}"
has out "holder: *thief"

echo "PASS"
