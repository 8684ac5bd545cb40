#!/usr/bin/env bash
# Runs every libklease test from a clean clone on a fresh Debian machine:
#  1. installs missing packages,
#  2. configures, builds and runs the whole suite with ctest,
#  3. builds again with ASan+UBSan and runs the unit and integration tests,
#  4. builds with TSan and runs the threaded tests,
#  5. runs the unit tests and the HTTPS integration tests of the transport,
#     credentials and manager under valgrind.
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
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

step() { printf '\n=== %s\n' "$*"; }
start=$(date +%s)

step "dependencies"
bash scripts/install-deps.sh

configure() { # DIR [cmake args...]
    local dir=$1
    shift
    cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKLEASE_WERROR=ON "$@" >/dev/null
}

step "build (RelWithDebInfo)"
configure build
cmake --build build -j "$jobs"

step "ctest: every test"
ctest --test-dir build --output-on-failure -j "$jobs"

if ((quick)); then
    echo "test.sh: quick run passed in $(($(date +%s) - start)) s"
    exit 0
fi

step "ASan+UBSan: build"
configure build-asan -DKLEASE_SANITIZE=address,undefined
cmake --build build-asan -j "$jobs"
step "ASan+UBSan: unit and integration tests"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs" -L 'unit|integration'

step "TSan: build"
configure build-tsan -DKLEASE_SANITIZE=thread
cmake --build build-tsan -j "$jobs"
step "TSan: threaded tests"
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    ctest --test-dir build-tsan --output-on-failure -j "$jobs" -L 'threads'

step "valgrind: unit tests, and the HTTPS transport, credential and manager integration tests"
fails=0
count=0
# The elector integration tests are left out: they sample leadership every
# millisecond, which valgrind's serialised threads would turn into noise.
for t in build/tests/unit/unit_* build/tests/integration/itest_transport \
    build/tests/integration/itest_credentials build/tests/integration/itest_manager; do
    [ -x "$t" ] || continue
    count=$((count + 1))
    if valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        --show-leak-kinds=definite,indirect "$t" >"build/$(basename "$t").valgrind.log" 2>&1; then
        echo "valgrind ok: $(basename "$t")"
    else
        echo "valgrind FAILED: $(basename "$t")"
        cat "build/$(basename "$t").valgrind.log"
        fails=$((fails + 1))
    fi
done
echo "valgrind: $((count - fails)) passed, $fails failed"
((fails == 0))

echo
echo "test.sh: all steps passed in $(($(date +%s) - start)) s"
