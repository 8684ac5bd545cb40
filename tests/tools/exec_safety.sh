#!/usr/bin/env bash
# `klease exec` keeps mutual exclusion of the WORK, not only of the lease,
# against klease-apiserver-sim (TLS, an ephemeral port), with exec's
# default schedule (no --duration/--grace/--margin/--kill-after):
#   - stop schedules that cannot keep the promise are usage errors;
#   - CMD inherits only fds 0-2;
#   - HUP, QUIT, USR1, USR2 reach CMD's whole process group, and klease
#     exits only once the last process of the group has;
#   - a partitioned leader's CMD, which ignores SIGTERM and leaves a
#     background grandchild, is dead (every process of its group) before the
#     server-side expiry of the leader's last write, and the follower's CMD
#     starts after that expiry;
#   - the same when klease itself is SIGKILLed mid-run (its watchdog kills
#     the group within 1 s).
# The measured gaps between the leader's CMD group's death and the
# follower's CMD start are printed as "gap_ms[CASE]=N".
# Usage: exec_safety.sh KLEASE_BINARY SIMULATOR_BINARY
set -uo pipefail

K=$1
SIM=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/klease-exec-safety.XXXXXX")
pids=() # everything this script started, stopped by PID at exit
. "$(dirname "$0")/lib.sh"
# kill_cmd_group DIR: SIGKILLs the process group recorded in DIR/pgid, but
# only if the CMD leads it (never the group this script runs in).
kill_cmd_group() {
    local pg
    pg=$(cat "$1/pgid" 2>/dev/null) || return 0
    [ "$pg" = "$(cat "$1/pid" 2>/dev/null)" ] && kill -KILL -- "-$pg" 2>/dev/null
    return 0
}
cleanup() {
    # CMD groups a failed run may have left behind.
    for f in "$tmp"/*/pgid; do
        [ -f "$f" ] && kill_cmd_group "$(dirname "$f")"
    done
    kill_all
}
trap cleanup EXIT
ulimit -c 0 # SIGQUIT's default action is a core dump

step "simulator (history, one token per replica, control endpoint)"
start_sim "$tmp/sim" --history "$tmp/history.jsonl" \
    --token tok-a:replica-a --token tok-b:replica-b
for r in a b; do
    sed "s/^\( *token:\).*/\1 tok-$r/" "$KC" >"$tmp/kc-$r"
done
ADMIN=$(cat "$tmp/sim/admin-token")
fault() { # fault JSON: adds a fault through the control endpoint, prints its id
    curl -sS --cacert "$tmp/sim/ca.crt" -H "Authorization: Bearer $ADMIN" \
        -H 'Content-Type: application/json' -X POST -d "$1" \
        "https://127.0.0.1:$SIM_PORT/_ksim/faults" | sed -n 's/.*"id":\([0-9]*\).*/\1/p'
}
unfault() {
    curl -sS --cacert "$tmp/sim/ca.crt" -H "Authorization: Bearer $ADMIN" -X DELETE \
        "https://127.0.0.1:$SIM_PORT/_ksim/faults/$1" >/dev/null
}

step "exec: stop schedules that cannot keep the promise are usage errors"
expect 2 "$K" exec s --kubeconfig "$tmp/kc-a" --duration 15s --grace 15s -- true
has err "grace (15s) must be less than --duration (15s)"
expect 2 "$K" exec s --kubeconfig "$tmp/kc-a" --grace 4s --margin 4s -- true
has err "margin (4s) must be less than --grace (4s)"
expect 2 "$K" exec s --kubeconfig "$tmp/kc-a" --margin 3s --kill-after 2500ms -- true
has err "kill-after (2500ms) plus the 1s safety slack must fit in --margin (3s)"
expect 2 "$K" exec s --kubeconfig "$tmp/kc-a" --duration 2s --kill-after 600ms -- true
has err "plus the 200ms safety slack must fit"
[ "$(lines "$tmp/err")" = 1 ] || fail "a usage error is one line"
expect 2 "$K" claim s --kubeconfig "$tmp/kc-a" --margin 1s

step "exec: the first state line names the identity; CMD inherits only fds 0-2"
expect 0 "$K" exec fds --kubeconfig "$tmp/kc-a" --create --identity replica-a \
    -- sh -c 'ls /proc/$$/fd'
[ "$(head -n1 "$tmp/err")" = "klease: waiting for lease default/fds as replica-a" ] ||
    fail "first state line: $(head -n1 "$tmp/err")"
[ "$(tr '\n' ' ' <"$tmp/out")" = "0 1 2 " ] || fail "CMD inherited fds: $(tr '\n' ' ' <"$tmp/out")"
# With stdin closed, klease's own fds must not become CMD's stdin.
expect 0 "$K" exec fds --kubeconfig "$tmp/kc-a" --identity replica-a \
    -- sh -c 'ls /proc/$$/fd; readlink /proc/$$/fd/0' <&-
[ "$(tr '\n' ' ' <"$tmp/out")" = "0 1 2 /dev/null " ] ||
    fail "CMD's fds with stdin closed: $(tr '\n' ' ' <"$tmp/out")"

step "exec: HUP, QUIT, USR1, USR2 reach CMD's whole group; klease outlives the group"
mkdir "$tmp/sig"
# The grandchild is perl, not a `( ... ) &` subshell: sh starts background
# jobs with SIGQUIT ignored, and an ignored signal cannot be trapped.
cat >"$tmp/sigs.sh" <<'EOF'
#!/bin/sh
# sigs.sh DIR: it and a background grandchild log each signal they get. On
# SIGTERM the parent exits at once (status 3), the grandchild 1 s later.
dir=$1
echo $$ >"$dir/pgid"
echo $$ >"$dir/pid"
perl -e '
    my $dir = shift;
    sub note { open(my $f, ">>", "$dir/got") or die; print $f "@_\n"; close $f }
    for my $s (qw(HUP QUIT USR1 USR2)) { $SIG{$s} = sub { note("child-$s") } }
    $SIG{TERM} = sub { sleep 1; my $t = `date +%s%N`; chomp $t; note("child-exit $t"); exit 0 };
    note("child-ready");
    sleep 1 while 1;
' "$dir" &
for s in HUP QUIT USR1 USR2; do trap "echo parent-$s >>$dir/got" $s; done
trap 'exit 3' TERM
echo parent-ready >>"$dir/got"
while :; do sleep 0.05; done
EOF
"$K" exec sig --kubeconfig "$tmp/kc-a" --create --identity replica-a \
    -- sh "$tmp/sigs.sh" "$tmp/sig" 2>"$tmp/sig.err" &
kp=$!
pids+=($kp)
wait_for "$tmp/sig/got" child-ready 15
wait_for "$tmp/sig/got" parent-ready 5
for s in HUP QUIT USR1 USR2; do
    kill -"$s" "$kp"
    wait_for "$tmp/sig/got" "^parent-$s" 5
    wait_for "$tmp/sig/got" "^child-$s" 5
    grep -q "received SIG$s; forwarding it to sh's process group" "$tmp/sig.err" ||
        fail "no forwarding line for SIG$s"
done
kill -TERM "$kp"
wait_exit "$kp" 10
t_exit=$(now_ns)
[ "$rc" = 3 ] || fail "klease exit status $rc, want CMD's 3"
child_exit=$(sed -n 's/^child-exit //p' "$tmp/sig/got")
[ -n "$child_exit" ] || fail "klease exited before the grandchild: $(cat "$tmp/sig/got")"
[ "$child_exit" -lt "$t_exit" ] || fail "klease exited before the grandchild did"
grep -q "waiting for the rest of sh's process group" "$tmp/sig.err" || fail "no waiting line"

# A CMD that ignores SIGTERM (so do its children: SIG_IGN survives exec) and
# leaves a background grandchild; it writes its PGID and its start time.
cat >"$tmp/stubborn.sh" <<'EOF'
#!/bin/sh
dir=$1
trap '' TERM
read -r _ _ _ _ pgrp _ </proc/$$/stat # its process group, whoever leads it
echo "$pgrp" >"$dir/pgid"
echo "$$" >"$dir/pid"
date +%s%N >"$dir/start"
(while :; do sleep 0.05; done) &
while :; do sleep 0.05; done
EOF

# group_running PGID: true while a process of the group has not exited. A
# zombie has exited; it counts as gone (once klease is dead, reaping orphans
# is up to PID 1, which may take its time).
group_running() {
    # cat fails on processes that vanished meanwhile: pipefail must not see it.
    { cat /proc/[0-9]*/stat 2>/dev/null || :; } | awk -v pg="$1" '$5 == pg && $3 != "Z" { f = 1 } END { exit !f }'
}

# watch_group DIR: in the background, writes DIR/dead with the first time
# (wall ns) at which no process of the group in DIR/pgid is left.
watch_group() {
    (
        pg=$(cat "$1/pgid")
        while group_running "$pg"; do sleep 0.01; done
        now_ns >"$1/dead.tmp" && mv "$1/dead.tmp" "$1/dead"
    ) &
    pids+=($!)
}

# expiry_of ID: the server-side expiry (wall ns) of ID's last accepted write:
# renewTime + leaseDurationSeconds, from the simulator's write history.
expiry_of() {
    local last rt dur
    last=$(grep "\"holderIdentity\":\"$1\"" "$tmp/history.jsonl" | tail -n1)
    rt=$(sed -n 's/.*"renewTime":"\([^"]*\)".*/\1/p' <<<"$last")
    dur=$(sed -n 's/.*"leaseDurationSeconds":\([0-9]*\).*/\1/p' <<<"$last")
    [ -n "$rt" ] && [ -n "$dur" ] || fail "no write by $1 in the history"
    echo $(($(date -d "$rt" +%s%N) + dur * 1000000000))
}

# handover CASE LEASE: replica-a leads with the stubborn CMD, replica-b
# waits; `disrupt` (set by the caller) cuts replica-a off. Checks the
# promise and prints the gap.
handover() {
    local case=$1 lease=$2
    mkdir -p "$tmp/$case-a" "$tmp/$case-b"
    "$K" exec "$lease" --kubeconfig "$tmp/kc-a" --create --identity replica-a \
        -- sh "$tmp/stubborn.sh" "$tmp/$case-a" 2>"$tmp/$case-a.err" &
    a_pid=$!
    pids+=($a_pid)
    wait_for "$tmp/$case-a.err" "starting: sh" 15
    wait_for "$tmp/$case-a/start" . 5
    [ "$(cat "$tmp/$case-a/pgid")" = "$(cat "$tmp/$case-a/pid")" ] ||
        fail "$case: CMD does not lead a process group of its own"
    watch_group "$tmp/$case-a"
    "$K" exec "$lease" --kubeconfig "$tmp/kc-b" --identity replica-b \
        -- sh "$tmp/stubborn.sh" "$tmp/$case-b" 2>"$tmp/$case-b.err" &
    b_pid=$!
    pids+=($b_pid)
    wait_for "$tmp/$case-b.err" "held by replica-a" 10
    "disrupt_$case"
    # Default lease 15 s: the follower starts about 16 s after the last
    # write; 40 s leaves room for a slow, shared machine.
    wait_for "$tmp/$case-b/start" . 40
    wait_for "$tmp/$case-a/dead" . 5
    local dead start expiry
    dead=$(cat "$tmp/$case-a/dead")
    start=$(cat "$tmp/$case-b/start")
    expiry=$(expiry_of replica-a)
    echo "$case: group dead $(((expiry - dead) / 1000000)) ms before the server-side expiry;" \
        "follower started $(((start - expiry) / 1000000)) ms after it"
    [ "$dead" -lt "$expiry" ] ||
        fail "$case: leader's CMD group outlived the server-side expiry by $(((dead - expiry) / 1000000)) ms"
    [ "$start" -gt "$expiry" ] || fail "$case: follower's CMD started before the expiry"
    echo "gap_ms[$case]=$(((start - dead) / 1000000))"
    kill_cmd_group "$tmp/$case-b" # the follower's CMD, and so b
    wait_exit "$b_pid" 10
}

step "exec: a partitioned leader's CMD group is gone before the lease expires"
disrupt_partition() {
    part=$(fault '{"kind":"partition","identity":"replica-a"}')
    [ -n "$part" ] || fail "the simulator refused the partition"
}
handover partition part
wait_exit "$a_pid" 30
[ "$rc" = 124 ] || fail "partitioned leader: status $rc, want 124 (CMD stopped: lease not renewed)"
grep -q "killed by signal 9 (exit status 137)" "$tmp/partition-a.err" || fail "CMD was not SIGKILLed"
grep -q "lease default/part not renewed with [0-9]* ms left; stopping sh: SIGTERM" \
    "$tmp/partition-a.err" || fail "no stop line: $(cat "$tmp/partition-a.err")"
grep -q "did not stop within [0-9]* ms; sending SIGKILL to its process group" \
    "$tmp/partition-a.err" || fail "no SIGKILL line"
unfault "$part"

step "exec: a SIGKILLed klease leaves no process of CMD's group behind"
disrupt_sigkill() {
    t_kill=$(now_ns)
    kill -KILL "$a_pid"
    # The watchdog reacts at once; 1 s is the documented bound.
    wait_for "$tmp/sigkill-a/dead" . 5
    local took=$((($(cat "$tmp/sigkill-a/dead") - t_kill) / 1000000))
    echo "group gone $took ms after klease was SIGKILLed"
    [ "$took" -le 1000 ] || fail "the group outlived klease by $took ms"
}
handover sigkill kill
wait "$a_pid" 2>/dev/null

echo "PASS"
