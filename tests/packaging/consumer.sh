#!/bin/sh
# Installs libklease with `cmake --install --prefix`, checks that the installed
# klease tool and simulator run from there, then builds the consumer program
# against libklease in the four supported ways:
#   1. find_package(klease CONFIG) on an installed tree,
#   2. pkg-config on the same installed tree,
#   3. add_subdirectory() of the source tree (the vendored case),
#   4. FetchContent of the source tree,
# runs each, and checks the installed library's exported symbols.
# Usage: consumer.sh SOURCE_DIR WORK_DIR static|shared
set -eu
src=$1
work=$2
kind=$3
here=$(cd "$(dirname "$0")" && pwd)
case "$kind" in
static) shared=OFF ;;
shared) shared=ON ;;
*) echo "usage: consumer.sh SOURCE_DIR WORK_DIR static|shared" >&2; exit 2 ;;
esac
jobs=$(nproc 2>/dev/null || echo 2)
rm -rf "$work"
mkdir -p "$work"
prefix="$work/prefix"

echo "== build and install libklease ($kind), the tool and the simulator"
# Configured with the default prefix and installed with --prefix, as the
# README does: everything installed must work from the prefix it landed in.
cmake -S "$src" -B "$work/lib" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=$shared \
    -DKLEASE_BUILD_TESTS=OFF -DKLEASE_BUILD_TOOLS=ON -DKLEASE_INSTALL_SIMULATOR=ON \
    -DKLEASE_BUILD_EXAMPLES=OFF >"$work/lib.log" 2>&1 || { cat "$work/lib.log"; exit 1; }
cmake --build "$work/lib" -j "$jobs" >>"$work/lib.log" 2>&1 || { cat "$work/lib.log"; exit 1; }
cmake --install "$work/lib" --prefix "$prefix" >>"$work/lib.log" 2>&1 || { cat "$work/lib.log"; exit 1; }
libdir=$(find "$prefix" -name 'libklease.*' -path '*/lib*' | head -n 1 | xargs dirname)
if [ "$kind" = static ]; then lib="$libdir/libklease.a"; else lib="$libdir/libklease.so"; fi
[ -f "$lib" ] || { echo "FAIL: $lib was not installed"; exit 1; }
sh "$here/check_symbols.sh" "$lib"
for f in include/klease/klease.h lib/cmake/klease/kleaseConfig.cmake \
         lib/cmake/klease/kleaseConfigVersion.cmake lib/pkgconfig/klease.pc; do
    found=$(find "$prefix" -path "*/${f#lib/}" | head -n 1)
    [ -n "$found" ] || { echo "FAIL: $f missing from the install tree"; exit 1; }
done

echo "== installed tools run from the prefix (no LD_LIBRARY_PATH)"
# A shared build must find libklease.so.N through the tool's RPATH.
out=$(env -u LD_LIBRARY_PATH "$prefix/bin/klease" version) || { echo "FAIL: installed klease does not run"; exit 1; }
echo "$out" | grep -q '^klease [0-9]' || { echo "FAIL: klease version printed '$out'"; exit 1; }
echo "$out"
"$prefix/bin/klease-apiserver-sim" --help | grep -q '^usage: klease-apiserver-sim' \
    || { echo "FAIL: installed klease-apiserver-sim does not run"; exit 1; }
echo "klease-apiserver-sim runs"

run() {
    out=$("$@")
    echo "$out"
    echo "$out" | grep -q "^consumer ok: libklease " || { echo "FAIL: unexpected output"; exit 1; }
}

echo "== find_package(klease CONFIG)"
cmake -S "$here/consumer" -B "$work/find" -DCONSUMER_MODE=find_package \
    -DCMAKE_PREFIX_PATH="$prefix" >"$work/find.log" 2>&1 || { cat "$work/find.log"; exit 1; }
cmake --build "$work/find" >>"$work/find.log" 2>&1 || { cat "$work/find.log"; exit 1; }
LD_LIBRARY_PATH="$libdir" run "$work/find/consumer"

echo "== pkg-config"
pcflags=""
[ "$kind" = static ] && pcflags="--static"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror -o "$work/pkgconfig-consumer" "$here/consumer/main.c" \
    $(pkg-config --cflags klease) $(pkg-config $pcflags --libs klease)
LD_LIBRARY_PATH="$libdir" run "$work/pkgconfig-consumer"

echo "== add_subdirectory"
cmake -S "$here/consumer" -B "$work/subdir" -DCONSUMER_MODE=add_subdirectory \
    -DKLEASE_SOURCE_DIR="$src" -DBUILD_SHARED_LIBS=$shared >"$work/subdir.log" 2>&1 \
    || { cat "$work/subdir.log"; exit 1; }
cmake --build "$work/subdir" -j "$jobs" >>"$work/subdir.log" 2>&1 || { cat "$work/subdir.log"; exit 1; }
run "$work/subdir/consumer"
if [ "$kind" = shared ]; then
    ldd "$work/subdir/consumer" | grep -q 'libklease.so' || { echo "FAIL: not linked to libklease.so"; exit 1; }
else
    if ldd "$work/subdir/consumer" | grep -q 'libklease.so'; then echo "FAIL: linked shared"; exit 1; fi
fi
echo "== FetchContent"
cmake -S "$here/consumer" -B "$work/fetch" -DCONSUMER_MODE=fetchcontent \
    -DKLEASE_SOURCE_DIR="$src" -DBUILD_SHARED_LIBS=$shared >"$work/fetch.log" 2>&1 \
    || { cat "$work/fetch.log"; exit 1; }
cmake --build "$work/fetch" -j "$jobs" >>"$work/fetch.log" 2>&1 || { cat "$work/fetch.log"; exit 1; }
run "$work/fetch/consumer"
echo "consumer builds ($kind): all four ways passed"
