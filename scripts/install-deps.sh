#!/usr/bin/env bash
# Installs the Debian packages libklease needs to build, test, run the demo
# and benchmark. A fast no-op when everything is already there.
set -euo pipefail

packages=(
    # toolchain
    gcc g++ make cmake pkg-config binutils
    # the library's dependencies
    libcurl4-openssl-dev libcjson-dev libyaml-dev libssl-dev
    # what libcurl's pkg-config file names for static linking (pkg-config --static)
    libnghttp2-dev librtmp-dev libssh2-1-dev libpsl-dev libkrb5-dev libldap-dev
    libzstd-dev libbrotli-dev libidn2-dev zlib1g-dev
    # tests: the format check, unit tests, the API server simulator, sanitizers, fuzzing
    clang-format git
    libcmocka-dev libmicrohttpd-dev libgnutls28-dev valgrind clang libclang-rt-14-dev
    # the demo and benchmarks: certificates, the curl baseline, and nghttpx as
    # the TLS + HTTP/2 front for the simulator (issue 17's h2 figures)
    openssl curl ca-certificates procps nghttp2-proxy
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if ((${#missing[@]} == 0)); then
    exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# Another apt (unattended-upgrades, a second shell) may hold the dpkg lock on
# a fresh machine: wait for it (up to 10 minutes) instead of failing at once.
# apt-get update takes the package lists' lock too; retry it while busy.
lock_wait=(-o DPkg::Lock::Timeout=600)
for attempt in 1 2 3 4 5 6; do
    if $sudo apt-get "${lock_wait[@]}" update -qq; then
        break
    fi
    if ((attempt == 6)); then
        echo "install-deps: apt-get update failed" >&2
        exit 1
    fi
    echo "install-deps: apt-get update failed (attempt $attempt); retrying in 10 s" >&2
    sleep 10
done
$sudo apt-get "${lock_wait[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
