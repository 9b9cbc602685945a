#!/usr/bin/env bash
# Installs the Debian packages ctca needs, when they are missing, and builds it.
#   scripts/bootstrap.sh [--test] [--build-dir DIR] [cmake args...]
# --test also installs what the test suite drives from outside (curl, cfssl).
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
build_dir=build
cmake_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --test) want_test=1 ;;
        --build-dir) build_dir="$2"; shift ;;
        *) cmake_args+=("$1") ;;
    esac
    shift
done

# Why each one is here is in the README, "Dependencies".
pkgs=(build-essential cmake pkg-config openssl ca-certificates
      libssl-dev libcurl4-openssl-dev libjansson-dev libcjson-dev libsqlite3-dev
      libmicrohttpd-dev libcriterion-dev)
if [ "$want_test" = 1 ]; then
    pkgs+=(curl sqlite3 golang-cfssl python3-cryptography)
fi

missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "bootstrap: installing ${missing[*]}" >&2
    sudo=""
    if [ "$(id -u)" != 0 ]; then sudo=sudo; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${cmake_args[@]}" >/dev/null
cmake --build "$build_dir" -j"$(nproc)"
