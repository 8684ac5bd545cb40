#!/usr/bin/env bash
# Runs every libklease benchmark from a clean Release build (a few minutes),
# writes the JSON lines to bench-results/latest.jsonl and regenerates
# docs/BENCHMARKS.md from that one run.
# Options: --quick (smaller counts, for a trial, about a minute of
#          measuring; does not touch docs/),
#          --no-report (keep docs/BENCHMARKS.md as it is).
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
report=1
while (($#)); do
    case "$1" in
    --quick) quick=1; report=0 ;;
    --no-report) report=0 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

bash scripts/install-deps.sh
jobs=$(nproc 2>/dev/null || echo 2)
out=bench-results
mkdir -p "$out"

echo "bench: building (Release)" >&2
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j "$jobs" --target bench_fastpath bench_renew bench_handover \
    bench_scale bench_followers klease-apiserver-sim elector_child >/dev/null
for kind in static shared; do
    shared=OFF
    [ "$kind" = shared ] && shared=ON
    cmake -S . -B "build-bench-$kind" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=$shared \
        -DKLEASE_BUILD_TESTS=OFF -DKLEASE_BUILD_TOOLS=OFF -DKLEASE_BUILD_EXAMPLES=OFF >/dev/null
    cmake --build "build-bench-$kind" -j "$jobs" --target klease >/dev/null
done

sim=build-bench/tests/apiserver/klease-apiserver-sim
child=build-bench/tests/integration/elector_child
# Issue 17's figures: many leases held (LEASES of DURATION s for CYCLES
# renewal cycles), followers in one namespace, and renewals of 100 leases over
# HTTP/1.1 (the simulator) and over TLS + HTTP/2 (nghttpx in front of it).
if ((quick)); then
    handovers=10 kills=3 renewals=200
    many=1000 many_duration=5 many_cycles=2 followers=200 followers_window=3
    proto_cycles=1
else
    handovers=60 kills=10 renewals=1000
    many=10000 many_duration=30 many_cycles=3 followers=1000 followers_window=10
    proto_cycles=6
fi
nghttpx=$(command -v nghttpx || echo /usr/sbin/nghttpx)
# Today every elector is a thread; 10,000 of them need the thread and file
# limits to allow it (bench_scale reports how many it could start if not).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

machine() {
    local cpu kernel curlv
    cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//; s/"//g')
    kernel=$(uname -r)
    curlv=$(curl-config --version 2>/dev/null | awk '{print $2}')
    printf '{"bench":"machine","date":"%s","loadavg_start":"%s","cpus":%s,"cpu":"%s","memory_gib":%s,"kernel":"%s","compiler":"%s","libcurl":"%s","clocksource":"%s"}\n' \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(nproc)" "$cpu" \
        "$(awk '/MemTotal/ {printf "%.0f", $2/1048576}' /proc/meminfo)" "$kernel" \
        "$(cc --version | head -n1)" "$curlv" \
        "$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null || echo unknown)"
}

footprint() {
    local a so stripped syms tmp
    a=build-bench-static/libklease.a
    so=$(find build-bench-shared -maxdepth 1 -name 'libklease.so.*.*.*' | head -n1)
    tmp=$(mktemp -d)
    cp "$so" "$tmp/libklease.so"
    strip --strip-unneeded "$tmp/libklease.so"
    stripped=$(stat -c %s "$tmp/libklease.so")
    syms=$(nm -D --defined-only "$so" | awk 'NF==3' | wc -l)
    # Resident memory of an idle holder: a process whose elector holds a lease.
    local simpid port kubeconfig childpid rss met
    mkdir -p "$tmp/sim"
    "$sim" --workdir "$tmp/sim" >"$tmp/sim.out" &
    simpid=$!
    for _ in $(seq 100); do grep -q '^kubeconfig=' "$tmp/sim.out" && break; sleep 0.1; done
    kubeconfig=$(sed -n 's/^kubeconfig=//p' "$tmp/sim.out")
    "$child" "$kubeconfig" footprint idle-holder 30000 >"$tmp/child.out" &
    childpid=$!
    for _ in $(seq 100); do grep -q '^leading' "$tmp/child.out" && break; sleep 0.1; done
    sleep 1
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$childpid/status")
    kill -TERM "$childpid"; wait "$childpid" || true
    kill -TERM "$simpid"; wait "$simpid" || true
    met=false
    [ "$stripped" -lt 256000 ] && met=true
    printf '{"bench":"footprint","static_lib_bytes":%s,"shared_lib_bytes":%s,"shared_lib_stripped_bytes":%s,"exported_symbols":%s,"idle_holder_rss_kib":%s,"target":"stripped .so under 250 KB","met":%s}\n' \
        "$(stat -c %s "$a")" "$(stat -c %s "$so")" "$stripped" "$syms" "$rss" "$met"
    rm -rf "$tmp"
}

run_start=$(date +%s)
{
    machine
    echo "bench: fast path" >&2
    build-bench/bench/bench_fastpath "$sim"
    echo "bench: renew round trip" >&2
    build-bench/bench/bench_renew "$renewals"
    echo "bench: handover and SIGKILL takeover" >&2
    build-bench/bench/bench_handover "$sim" "$child" "$handovers" "$kills"
    echo "bench: footprint" >&2
    footprint
    if ((!quick)); then
        echo "bench: 1000 leases of 30 s for 3 cycles" >&2
        build-bench/bench/bench_scale "$sim" 1000 30 3 --name scale_1000_leases
    fi
    echo "bench: $many leases of ${many_duration} s for $many_cycles cycles" >&2
    build-bench/bench/bench_scale "$sim" "$many" "$many_duration" "$many_cycles" \
        --name scale_many_leases
    echo "bench: $followers followers in one namespace" >&2
    build-bench/bench/bench_followers "$sim" "$followers" "$followers_window" \
        --name followers_one_namespace
    echo "bench: 100 leases over HTTP/1.1 and over HTTP/2 (nghttpx)" >&2
    build-bench/bench/bench_scale "$sim" 100 5 "$proto_cycles" --name renew_100_leases_http1
    build-bench/bench/bench_scale "$sim" 100 5 "$proto_cycles" --h2 "$nghttpx" \
        --name renew_100_leases_h2
    # Other work on the machine shows in every figure: say how busy it was.
    printf '{"bench":"machine_end","date":"%s","loadavg":"%s"}\n' \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/latest.jsonl"
echo "bench: the benchmarks ran in $(($(date +%s) - run_start)) s (builds not counted)" >&2

if ((report)); then
    python3 scripts/bench_report.py "$out/latest.jsonl" >docs/BENCHMARKS.md
    echo "bench: wrote docs/BENCHMARKS.md" >&2
fi
