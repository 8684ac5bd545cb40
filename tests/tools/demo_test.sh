#!/usr/bin/env bash
# Runs scripts/demo.sh on an existing build and checks that it succeeds, in
# under a minute, and shows both handovers with their measured times.
# Usage: demo_test.sh SOURCE_DIR BUILD_DIR
set -uo pipefail
src=$1
build=$2
out=$(mktemp "${TMPDIR:-/tmp}/klease-demo-test.XXXXXX")
trap 'rm -f "$out"' EXIT
start=$(date +%s)
bash "$src/scripts/demo.sh" --no-build "$build" >"$out" 2>&1
rc=$?
took=$(($(date +%s) - start))
cat "$out"
fail() { echo "demo_test.sh: FAIL: $*" >&2; exit 1; }
[ "$rc" = 0 ] || fail "demo.sh exited $rc"
grep -Eq '^   handover: replica-[123] -> replica-[123] in [0-9]+ ms' "$out" ||
    fail "no handover line"
grep -Eq '^   takeover after expiry: replica-[123] -> replica-[123] in [0-9]+ ms' "$out" ||
    fail "no takeover line"
grep -q "waiting for lease default/demo (held by replica-" "$out" || fail "no waiting replicas"
# The demo promises under a minute; allow slack for sanitizer builds.
[ "$took" -lt 90 ] || fail "the demo took $took s"
echo "demo_test.sh: PASS in $took s"
