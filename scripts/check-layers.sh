#!/usr/bin/env bash
# Checks that core/'s layers only call downwards: every ctca_ symbol an
# object of layer N uses is defined in layer N or a layer below it (or in
# asn1/, store/ or ctclient/). The layers, bottom to top, are CMakeLists.txt's
# CTCA_CORE_LAYERS.
#   scripts/check-layers.sh BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: check-layers.sh BUILD_DIR}
layers=(base x509 ct logs ca ocsp engine)
defined() { nm --defined-only -g "$@" 2>/dev/null | awk 'NF == 3 { print $3 }'; }
below=$(mktemp)
trap 'rm -f "$below"' EXIT
defined "$build"/libctca_asn1.a "$build"/libctca_store.a "$build"/libctca_ctclient.a >"$below"
status=0
for layer in "${layers[@]}"; do
    lib="$build/libctca_core_$layer.a"
    [ -f "$lib" ] || { echo "check-layers: $lib is missing" >&2; exit 2; }
    defined "$lib" >>"$below"
    # Undefined ctca_ symbols, with the object that uses them.
    while read -r obj sym; do
        if ! grep -qx "$sym" "$below"; then
            echo "core/$layer/${obj%.o}: calls $sym from a layer above it"
            status=1
        fi
    done < <(nm -A -u "$lib" | sed -n 's/^[^:]*:\([^:]*\):  *U \(ctca_[A-Za-z0-9_]*\)$/\1 \2/p')
done
# Internal headers too: core/L/ includes "core/M/..." only for M at or below L.
for i in "${!layers[@]}"; do
    for f in core/"${layers[$i]}"/*.[ch]; do
        while read -r inc; do
            for j in "${!layers[@]}"; do
                if [ "${layers[$j]}" = "$inc" ] && [ "$j" -gt "$i" ]; then
                    echo "$f: includes an internal header of core/$inc, a layer above it"
                    status=1
                fi
            done
        done < <(sed -n 's|^#include "core/\([a-z0-9]*\)/.*|\1|p' "$f")
    done
done
[ "$status" = 0 ] && echo "check-layers: core/ calls only downwards (${layers[*]})"
exit $status
