#!/usr/bin/env bash
# Checks deploy/role.yaml against what libklease really sends:
#  1. the Role's verbs are exactly the verbs of the table in docs/RBAC.md;
#  2. every command of the tool and an elector following a holder work
#     against the simulator when it allows only the Role's verbs (as a real
#     API server with that Role bound would), with no 403 anywhere;
#  3. taking any one verb away makes some call fail or log a 403, so the Role
#     has no verb to spare.
# Usage: rbac_test.sh KLEASE_BINARY SIMULATOR_BINARY SOURCE_DIR
set -uo pipefail

K=$1
SIM=$2
SRC=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/klease-rbac-test.XXXXXX")
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    [ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
wait_for() { # FILE PATTERN SECONDS
    local end=$(($(now_ms) + $3 * 1000))
    while [ "$(now_ms)" -lt "$end" ]; do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# The Role's verbs, and the verbs of the table's last column.
role=$(sed -n 's/^ *verbs: *\[\(.*\)\]/\1/p' "$SRC/deploy/role.yaml" | tr -d '" ' | tr ',' '\n' | sort -u)
table=$(awk -F'|' 'NF == 5 && $2 !~ /^ *(call|---) *$/ { gsub(/ /, "", $4); print $4 }' "$SRC/docs/RBAC.md" | sort -u)
[ -n "$role" ] || fail "no verbs found in deploy/role.yaml"
[ "$role" = "$table" ] || fail "deploy/role.yaml grants '$(echo $role)', docs/RBAC.md lists '$(echo $table)'"
echo "role and docs/RBAC.md agree: $(echo $role)"

# scenario NAME VERBS: runs every call with only VERBS allowed. Returns 0 when
# all of them succeed and nothing logged a 403.
scenario() {
    local dir=$tmp/$1 verbs=$2 rc=0
    mkdir -p "$dir"
    "$SIM" --workdir "$dir/sim" --rbac-verbs "$verbs" >"$dir/sim.out" 2>"$dir/sim.err" &
    local sim=$!
    pids+=($sim)
    wait_for "$dir/sim.out" '^kubeconfig=' 10 || fail "$1: the simulator did not start"
    local kc=(--kubeconfig "$(sed -n 's/^kubeconfig=//p' "$dir/sim.out")" -v)
    {
        "$K" create one "${kc[@]}" &&
            "$K" get one "${kc[@]}" &&
            "$K" claim one --identity a --duration 5s "${kc[@]}" &&
            "$K" vacate one --identity a "${kc[@]}" &&
            "$K" list "${kc[@]}" &&
            "$K" delete one "${kc[@]}"
    } >"$dir/calls.out" 2>"$dir/calls.err" || rc=1
    # A holder and a follower: the follower watches the holder (watch), takes
    # the lease over when the holder stops and vacates (get, patch).
    "$K" exec two --create --identity holder "${kc[@]}" -- sleep 60 >"$dir/holder.out" 2>"$dir/holder.err" &
    local holder=$!
    if wait_for "$dir/holder.err" 'starting' 10; then
        "$K" exec two --identity follower --timeout 20s "${kc[@]}" -- true \
            >"$dir/follower.out" 2>"$dir/follower.err" &
        local follower=$!
        sleep 1.5 # the follower is following (watch or, without it, polling)
        kill -TERM "$holder"
        wait "$holder" # CMD's status: killed by SIGTERM
        grep -q 'released lease' "$dir/holder.err" || rc=1
        wait "$follower" || rc=1
    else
        kill -TERM "$holder" 2>/dev/null
        wait "$holder"
        rc=1
    fi
    kill -TERM "$sim"
    wait "$sim" 2>/dev/null
    if grep -qi -- '403\|forbidden' "$dir"/*.err; then
        rc=1
    fi
    return $rc
}

all=$(echo $role | tr ' ' ',')
if ! scenario granted "$all"; then
    grep -i -- '403\|forbidden\|error' "$tmp"/granted/*.err | head -20 >&2
    fail "the calls need more than the Role's verbs ($all)"
fi
echo "every call works with only: $all"
for v in $role; do
    less=$(echo $role | tr ' ' '\n' | grep -vx "$v" | paste -sd, -)
    if scenario "without-$v" "$less"; then
        fail "nothing needed '$v': the Role grants a verb it does not need"
    fi
    echo "without '$v': a call fails or is forbidden, as it should"
done
echo "rbac: the Role grants exactly the verbs the calls need"
