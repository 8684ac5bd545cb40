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
    # tests: unit tests, the API server simulator, sanitizers, fuzzing
    libcmocka-dev libmicrohttpd-dev libgnutls28-dev valgrind clang libclang-rt-14-dev
    # the demo and benchmarks: certificates and the curl baseline
    openssl curl ca-certificates procps
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
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
