#!/usr/bin/env bash
# Runs every libklease test from a clean clone on a fresh Debian machine:
#  1. installs missing packages and checks the formatting (clang-format),
#  2. configures, builds and runs the whole suite with ctest,
#  3. builds again with ASan+UBSan and runs the unit and integration tests,
#  4. builds with TSan and runs the threaded tests,
#  5. runs the unit tests and the HTTPS integration tests of the transport,
#     credentials and manager under valgrind.
# Each step prints one line with its time; its full output goes to a log
# file under build-logs/ (printed in full when the step fails).
# Options: --quick (steps 1-2 only), --jobs N.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

quick=0
jobs=$(nproc 2>/dev/null || echo 2)
while (($#)); do
    case "$1" in
    --quick) quick=1 ;;
    --jobs) jobs=$2; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

logs=$root/build-logs
mkdir -p "$logs"
start=$(date +%s)

# step NAME LOG CMD...: runs CMD with its output in build-logs/LOG, and
# prints one line: the step, how long it took, and where its log is.
step() {
    local name=$1 log=$logs/$2 t0 rc=0
    shift 2
    t0=$(date +%s)
    printf '%-58s' "$name ..."
    "$@" >"$log" 2>&1 || rc=$?
    local took=$(($(date +%s) - t0))
    if ((rc != 0)); then
        printf 'FAILED after %d s (exit %d)\n' "$took" "$rc"
        echo "---- $log"
        cat "$log"
        echo "----"
        echo "test.sh: '$name' failed; the log is $log"
        exit "$rc"
    fi
    printf 'ok  %4d s  %s\n' "$took" "${log#"$root"/}"
}

# ctest_summary LOG: the closing lines of a ctest run, for the reader and CI.
ctest_summary() {
    grep -E '% tests passed|tests did not run|Skipped|Not Run' "$logs/$1" | sed 's/^/    /' || true
}

build_tree() { # DIR [cmake args...]: configure and build one tree
    local dir=$1
    shift
    cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKLEASE_WERROR=ON "$@" &&
        cmake --build "$dir" -j "$jobs"
}

step "dependencies (apt-get when missing)" deps.log bash scripts/install-deps.sh

# The house style: every C/C++ source formatted by the root .clang-format.
format_check() {
    clang-format --version
    git ls-files '*.c' '*.h' '*.cpp' '*.hpp' | xargs clang-format --dry-run --Werror
}
step "clang-format: every source as .clang-format says" format.log format_check
step "configure + build (RelWithDebInfo)" build.log build_tree build
step "ctest: every test" ctest.log ctest --test-dir build --output-on-failure -j "$jobs"
ctest_summary ctest.log

if ((quick)); then
    echo "test.sh: quick run passed in $(($(date +%s) - start)) s"
    exit 0
fi

step "ASan+UBSan: configure + build" build-asan.log \
    build_tree build-asan -DKLEASE_SANITIZE=address,undefined
step "ASan+UBSan: unit and integration tests" ctest-asan.log \
    env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs" -L 'unit|integration'
ctest_summary ctest-asan.log

step "TSan: configure + build" build-tsan.log build_tree build-tsan -DKLEASE_SANITIZE=thread
step "TSan: threaded tests" ctest-tsan.log \
    env TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    ctest --test-dir build-tsan --output-on-failure -j "$jobs" -L 'threads'
ctest_summary ctest-tsan.log

# valgrind: the unit tests and the HTTPS transport, credential, manager,
# metrics and HTTP loop integration tests. The elector integration tests are left out: they sample
# leadership every millisecond, which valgrind's serialised threads would
# turn into noise.
valgrind_all() {
    local fails=0 count=0 t
    for t in build/tests/unit/unit_* build/tests/integration/itest_transport \
        build/tests/integration/itest_credentials build/tests/integration/itest_manager \
        build/tests/integration/itest_metrics build/tests/integration/itest_http_loop; do
        [ -x "$t" ] || continue
        count=$((count + 1))
        if valgrind --quiet --error-exitcode=99 --leak-check=full \
            --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
            "$t" >"$logs/valgrind-$(basename "$t").log" 2>&1; then
            echo "valgrind ok: $(basename "$t")"
        else
            echo "valgrind FAILED: $(basename "$t")"
            cat "$logs/valgrind-$(basename "$t").log"
            fails=$((fails + 1))
        fi
    done
    echo "valgrind: $((count - fails)) passed, $fails failed"
    ((fails == 0))
}
step "valgrind: unit tests + HTTPS integration tests" valgrind.log valgrind_all
sed -n '$p' "$logs/valgrind.log" | sed 's/^/    /'

echo "test.sh: all steps passed in $(($(date +%s) - start)) s"
