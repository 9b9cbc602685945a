#!/usr/bin/env bash
# The main job, end to end: build ctca, start three local CT logs run by two
# operators, create a CA, issue a certificate with embedded SCTs from a CSR,
# verify it with ctca and with OpenSSL, and show it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh
bin=build
work=$bin/demo
rm -rf "$work"
mkdir -p "$work"
. scripts/testlogs.sh
trap testlogs_stop EXIT

step() { printf '\n== %s\n' "$*"; }

step "ctca init: a new CA (ECDSA P-256 root) in $work/ca"
"$bin/ctca" init "$work/ca" --subject "CN=ctca Demo Root CA,O=ctca demo"

step "starting three ctca-testlog logs (operators A and B)"
testlogs_start "$bin/ctca-testlog" "$work" "$work/ca/ca.pem" A:log-a1 A:log-a2 B:log-b1
printf '  %s\n' "${TESTLOG_URLS[@]}"

step "a CSR for www.example.com (ECDSA P-256)"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$work/site.key" -subj "/CN=www.example.com" \
    -addext "subjectAltName=DNS:www.example.com,DNS:example.com" \
    -out "$work/site.csr" 2>/dev/null

step "ctca issue"
"$bin/ctca" issue --ca "$work/ca" --csr "$work/site.csr" --log-list "$work/log_list.json" \
    --out "$work/site.pem" --chain-out "$work/site-chain.pem" --precert-out "$work/site-precert.pem"

step "ctca verify: every embedded SCT against the logs' keys"
"$bin/ctca" verify "$work/site.pem" --issuer "$work/ca/ca.pem" \
    --log-key "$work/log-a1.pub" --log-key "$work/log-a2.pub" --log-key "$work/log-b1.pub"

step "openssl verify: the chain"
openssl verify -CAfile "$work/ca/ca.pem" "$work/site.pem"

step "openssl x509 -text: the certificate and its SCTs"
openssl x509 -in "$work/site.pem" -noout -text
