# Helpers shared by the klease tool tests (sourced). The caller sets $tmp
# (a scratch directory) and the array pids (everything it started, stopped
# by PID at exit).

step() { printf '=== %s\n' "$*"; }
fail() {
    echo "FAIL: $*" >&2
    for f in "$tmp"/out "$tmp"/err; do
        [ -f "$f" ] && { echo "--- $(basename "$f"):" >&2; cat "$f" >&2; }
    done
    exit 1
}
now_ns() { date +%s%N; }
now_ms() { echo $(($(now_ns) / 1000000)); }

# expect RC CMD...: runs CMD, output in $tmp/out and $tmp/err, checks the status.
expect() {
    local want=$1
    shift
    "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    [ "$rc" = "$want" ] || fail "exit status $rc, want $want: $*"
}
has() { grep -q -- "$2" "$tmp/$1" || fail "$1 lacks '$2'"; }
lines() { wc -l <"$1"; }

# wait_for FILE PATTERN SECONDS: polls until FILE has a line matching PATTERN.
wait_for() {
    local end=$(($(now_ms) + $3 * 1000))
    while [ "$(now_ms)" -lt "$end" ]; do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "--- $1:" >&2
    cat "$1" >&2 2>/dev/null
    fail "no '$2' in $1 within $3 s"
}

# wait_exit PID SECONDS: waits for a background process to exit; sets $rc.
wait_exit() {
    local end=$(($(now_ms) + $2 * 1000))
    while kill -0 "$1" 2>/dev/null && [ "$(now_ms)" -lt "$end" ]; do
        sleep 0.05
    done
    kill -0 "$1" 2>/dev/null && fail "pid $1 still running after $2 s"
    wait "$1"
    rc=$?
}

# kill_all: the EXIT trap's body: stops every PID in pids, removes $tmp.
kill_all() {
    for p in "${pids[@]}"; do
        kill -TERM "$p" 2>/dev/null
    done
    for p in "${pids[@]}"; do
        wait "$p" 2>/dev/null
    done
    rm -rf "$tmp"
}

# start_sim DIR [SIM ARGS...]: starts the simulator ($SIM) with its files in
# DIR; sets KC (its kubeconfig) and SIM_PORT.
start_sim() {
    local dir=$1
    shift
    mkdir -p "$dir"
    "$SIM" --workdir "$dir" "$@" >"$dir.out" 2>"$dir.err" &
    pids+=($!)
    wait_for "$dir.out" '^kubeconfig=' 10
    KC=$(sed -n 's/^kubeconfig=//p' "$dir.out")
    SIM_PORT=$(sed -n 's/^port=//p' "$dir.out")
}
