#!/usr/bin/env bash
# Regenerates the seed corpora in tests/fuzz/corpus/<target>/ from the wire
# captures of a real API server (../shared/reference/apiserver-wire/, when
# present), the wire fixtures and the kubeconfig and exec-plugin fixtures.
# The result is committed; run this again only when the fixtures change.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
wire="$root/tests/fixtures/wire"
ref="${KLEASE_WIRE_REFERENCE:-$root/../shared/reference/apiserver-wire}"
out="$here/corpus"

rm -rf "$out"
mkdir -p "$out"/{lease,status,watch,microtime,kubeconfig,exec_credential}

# The HTTP code of capture NAME's response, or 200 when unknown.
code_of() {
    local cap="$ref/$1.txt" c=""
    [ -f "$cap" ] && c=$(awk '/^--- RESPONSE/{r=1;next} r&&/^HTTP\/1.1 /{print $2; exit}' "$cap")
    echo "${c:-200}"
}

# fuzz_status input: a byte choosing the code (its index in fuzz_status.c's
# table), a Retry-After byte, then the body.
codes=(400 401 403 404 405 409 410 413 415 422 429 500 502 503 504 0 -1 302 999 200 201 418)
index_of() {
    local i
    for i in "${!codes[@]}"; do [ "${codes[$i]}" = "$1" ] && { echo "$i"; return; }; done
    echo 0
}

for f in "$wire"/*.json; do
    name=$(basename "$f" .json)
    cp "$f" "$out/lease/$name"
    idx=$(index_of "$(code_of "$name")")
    { printf "\\x$(printf %02x "$idx")\\x00"; cat "$f"; } >"$out/status/$name"
done
# Throttling with Retry-After, and a proxy's HTML page.
{ printf '\x0a\x02'; cat "$wire/12-post-duplicate.json"; } >"$out/status/429-retry-after"
printf '\x0d\x00<html><body>502 Bad Gateway</body></html>' >"$out/status/502-html"

# Watch streams: in one piece, byte by byte, and in uneven chunks.
watch_seed() { # NAME FILE
    { printf '\x00'; cat "$2"; } >"$out/watch/$1-whole"
    { printf '\x01\x00'; cat "$2"; } >"$out/watch/$1-bytes"
    { printf '\x05\x06\x1f\x02\xc8\x40'; cat "$2"; } >"$out/watch/$1-chunks"
}
for f in "$wire"/*.stream; do
    watch_seed "$(basename "$f" .stream)" "$f"
done
if [ -d "$ref" ]; then
    for cap in "$ref"/2[0-5]*watch*.txt; do
        name=$(basename "$cap" .txt)
        tmp=$(mktemp)
        # Event lines, with the receive-time prefix removed.
        sed -n '/^--- RESPONSE BODY/,/^--- /p' "$cap" | grep -o '{"type".*' >"$tmp" || true
        [ -s "$tmp" ] && watch_seed "$name" "$tmp"
        rm -f "$tmp"
    done
    # The raw chunked framing (what a broken proxy might pass through).
    raw="$ref/21-watch-raw-chunked.txt"
    [ -f "$raw" ] && sed -n '/^--- RAW BODY/,/^--$/p' "$raw" | sed '1d;$d' | sed 's/\\r$/\r/' \
        >"$out/watch/21-raw-framing" && sed -i '1s/^/\x00/' "$out/watch/21-raw-framing"
fi

# MicroTimes as the server writes them, plus the shapes the parser must refuse.
grep -ho '"[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T[^"]*"' "$wire"/*.json | tr -d '"' | sort -u |
    head -40 | while read -r t; do printf '%s' "$t" >"$out/microtime/$(echo "$t" | tr ':.' '__')"; done
i=0
for t in '2026-11-23T18:00:00.000000Z' '2026-11-23T18:00:00Z' '2026-11-23T18:00:00.5+01:00' \
    '0001-01-01T00:00:00.000000Z' '9999-12-31T23:59:59.999999Z' '2026-02-29T00:00:00.000000Z' \
    '2026-11-23T18:00:00.0000000Z' '2026-11-23 18:00:00Z' '1970-01-01T00:00:00.000001-23:59'; do
    printf '%s' "$t" >"$out/microtime/extra-$i"
    i=$((i + 1))
done

cp "$root"/tests/fixtures/kubeconfig/*.yaml "$out/kubeconfig/"
# Nesting either side of the depth limit (see fuzz_kubeconfig.c for the
# 0xf0 prefix), repeated keys, control characters in credentials and user
# info in the server URL.
k="$out/kubeconfig"
printf '\xf3\x001' >"$k/nest-flow-64"
printf '\xf3\x01v' >"$k/nest-map-64"
printf '\xff\x02x' >"$k/nest-block-160"
printf '\xf0\x00[[1, {a: &x b}], *x]' >"$k/nest-flow-alias"
printf 'current-context: a\ncurrent-context: b\nclusters:\n- name: c\n  cluster: {server: https://h, server: https://i}\n' >"$k/duplicate-keys"
printf 'users:\n- name: u\n  user: {token: "abc\\r\\nX-Injected: yes", username: "u\\n", password: "p\\u007f"}\n' >"$k/control-char-token"
printf 'clusters:\n- name: c\n  cluster: {server: "https://u:SECRET@h:6443"}\n' >"$k/server-userinfo"

sh "$root/tests/fixtures/exec/token.sh" 2>/dev/null >"$out/exec_credential/token"
PLUGIN_EXPIRY=2030-01-01T00:00:00Z sh "$root/tests/fixtures/exec/token.sh" 2>/dev/null \
    >"$out/exec_credential/token-expiry"
sh "$root/tests/fixtures/exec/cert.sh" 2>/dev/null >"$out/exec_credential/cert"
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{}}' \
    >"$out/exec_credential/empty-status"
printf '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"t"}}' \
    >"$out/exec_credential/v1beta1"

# fuzz_retry_after: header values, both forms and the broken ones.
mkdir -p "$out/retry_after"
n=1
for v in '2' '86399' 'Mon, 23 Nov 2026 18:00:03 GMT' 'Fri, 31 Dec 2100 23:59:59 GMT' \
    'Sunday, 06-Nov-94 08:49:37 GMT' 'Sun Nov  6 08:49:37 1994' '-1' '1.5' \
    '99999999999999999999999999' ' 3 '; do
    printf '%s' "$v" >"$out/retry_after/$(printf '%02d' $n)"
    n=$((n + 1))
done

for d in "$out"/*; do echo "$(basename "$d"): $(ls "$d" | wc -l) seeds"; done
