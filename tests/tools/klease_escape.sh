#!/usr/bin/env bash
# The klease tool prints text from the API server for a terminal: a lease
# holder with escape sequences (ESC, CSI as a C1 byte, a bidi override) must
# come out escaped in `get`, `claim` and `exec`'s status lines, and JSON-escaped
# with -o json. The holder is written with curl, as any client of the
# cluster could. Usage: klease_escape.sh KLEASE_BINARY SIMULATOR_BINARY
set -uo pipefail

K=$1
SIM=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/klease-escape-test.XXXXXX")
sim_pid=
cleanup() {
    if [ -n "$sim_pid" ]; then
        kill -TERM "$sim_pid" 2>/dev/null
        wait "$sim_pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    for f in "$tmp"/out "$tmp"/err; do
        [ -f "$f" ] && { echo "--- $(basename "$f") (od -c):" >&2; od -c "$f" | head -40 >&2; }
    done
    exit 1
}
# expect RC CMD...: runs CMD, output in $tmp/out and $tmp/err, checks the status.
expect() {
    local want=$1
    shift
    "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    [ "$rc" = "$want" ] || fail "exit status $rc, want $want: $*"
}
has() { grep -qF -- "$2" "$tmp/$1" || fail "$1 lacks '$2'"; }
# no_raw FILE: no byte a terminal would act on (ESC, BEL, the C1 CSI in
# UTF-8, the right-to-left override in UTF-8).
no_raw() {
    if LC_ALL=C grep -q $'\x1b\|\x07\|\xc2\x9b\|\xe2\x80\xae' "$tmp/$1"; then
        fail "$1 has a raw control sequence"
    fi
}

"$SIM" --workdir "$tmp/sim" >"$tmp/sim.out" 2>"$tmp/sim.err" &
sim_pid=$!
for _ in $(seq 200); do # up to 10 s for the start lines
    grep -q '^kubeconfig=' "$tmp/sim.out" && break
    sleep 0.05
done
KC=$(sed -n 's/^kubeconfig=//p' "$tmp/sim.out")
PORT=$(sed -n 's/^port=//p' "$tmp/sim.out")
[ -n "$KC" ] && [ -n "$PORT" ] || fail "the simulator did not start"
TOKEN=$(sed -n 's/^ *token: *//p' "$KC" | head -n1)
kc=(--kubeconfig "$KC")

expect 0 "$K" create demo "${kc[@]}"
# A holder that clears the screen, then colours with a C1 CSI, then reverses
# the line; held for 60 s from now.
now=$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)
body="{\"spec\":{\"holderIdentity\":\"\\u001b[2Jevil\\u009b31m\\u202ex\\u0007\",\
\"renewTime\":\"$now\",\"leaseDurationSeconds\":60}}"
curl -sSk -o "$tmp/patch" -w '%{http_code}' -X PATCH -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/merge-patch+json' --data "$body" \
    "https://127.0.0.1:$PORT/apis/coordination.k8s.io/v1/namespaces/default/leases/demo" \
    >"$tmp/code" || fail "curl failed"
[ "$(cat "$tmp/code")" = 200 ] || fail "PATCH answered $(cat "$tmp/code"): $(cat "$tmp/patch")"

expect 0 "$K" get demo "${kc[@]}"
no_raw out
has out 'holder:           \x1b[2Jevil\u009b31m\u202ex\x07'

expect 1 "$K" claim demo "${kc[@]}" --identity bob
no_raw out
has out '\x1b[2Jevil'

expect 0 "$K" get demo "${kc[@]}" -o json
has out '"holder":"\u001b[2Jevil'

# exec says who holds the lease while it waits, then gives up (exit 7).
expect 7 "$K" exec demo "${kc[@]}" --identity bob --timeout 1s -- true
no_raw err
has err 'held by \x1b[2Jevil'

echo "PASS: server-supplied text is escaped"
