#!/usr/bin/env bash
# The ctca benchmark, one command, by hand only (not part of scripts/test.sh or CI):
#   bench/run.sh [--key-types "rsa-2048 ec-p256"]
# Builds ctca as scripts/bootstrap.sh does for release (RelWithDebInfo: -O2,
# NDEBUG) into build-bench/, starts three local ctca-testlog logs
# (operators A, A, B) per measurement, generates CSRs, measures everything in
# this one run and prints the ratios; bench/results/<date>-<keytype>.md gets the
# table and the machine description. Work files go to bench/work/.
#
# Every CA is configured to need 3 SCTs (ct.min_scts 3), so each certificate
# needs what the crypto floor counts: 2 CA signatures and 3 SCT verifications.
# ctca batch runs get a fresh store each (a copy of the CA without ctca.db), so
# none skips CSRs an earlier run issued.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

key_types="rsa-2048 ec-p256"
while [ $# -gt 0 ]; do
    case "$1" in
        --key-types) key_types="$2"; shift ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "bench: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

N_LOOP=200          # CSRs for the one-process-per-CSR loops (ctca issue, cfssl sign)
N_CPU=2000          # CSRs for ctca batch's CPU per certificate and latency hiding
N_RSS_SMALL=1000    # peak RSS of ctca batch: this many CSRs...
N_RSS_LARGE=10000   # ...against this many
SINGLE_RUNS=7       # single issuances per latency; the median is used
SINGLE_LATENCY=200  # ms, each of the three logs
BATCH_LATENCY=50    # ms, each of the three logs, for latency hiding

bin=$root/build-bench
work=$root/bench/work
results=$root/bench/results
rm -rf "$work"
mkdir -p "$work" "$results"

echo "== building (release, -O2) into build-bench/"
scripts/bootstrap.sh --test --build-dir build-bench -DCTCA_TESTS=OFF >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
for tool in floor csrgen; do
    cc -std=c11 -O2 -Wall -Wextra -Werror -o "$work/$tool" "bench/$tool.c" -lcrypto
done

. scripts/testlogs.sh
trap testlogs_stop EXIT

now_ms() { date +%s%3N; }
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

echo "== generating $N_RSS_LARGE CSRs (ECDSA P-256 subject keys)"
mkdir -p "$work/csrs-$N_RSS_LARGE"
"$work/csrgen" "$work/csrs-$N_RSS_LARGE" "$N_RSS_LARGE"
# Smaller sets are the first CSRs of the large one (hard links).
for n in $N_LOOP $N_RSS_SMALL $N_CPU; do
    mkdir -p "$work/csrs-$n"
    seq -f "$work/csrs-$N_RSS_LARGE/host-%05g.csr" 1 "$n" | xargs ln -t "$work/csrs-$n"
done

# logs LATENCY_MS DIR: (re)starts the three logs for DIR's CA with that latency.
logs() {
    testlogs_stop
    local extra=()
    [ "$1" -gt 0 ] && extra=(-- --latency-ms "$1")
    testlogs_start "$bin/ctca-testlog" "$2" "$2/ca/ca.pem" A:a1 A:a2 B:b1 "${extra[@]}"
}

# issue_one DIR CSR OUT: one `ctca issue` process.
issue_one() {
    "$bin/ctca" issue --ca "$1/ca" --csr "$2" --log-list "$1/log_list.json" --out "$3" \
        >/dev/null 2>>"$1/issue.err"
}

# batch_run DIR N LABEL: `ctca batch` over the first N CSRs with a fresh store
# for DIR's CA; sets B_WALL_MS, B_USER_S and B_SYS_S (CPU of the ctca process),
# B_RSS_KB (its peak RSS) and B_ISSUED.
batch_run() {
    local d=$1 n=$2 label=$3 run=$1/run-$3
    rm -rf "$run"
    mkdir -p "$run/ca"
    cp -p "$d/ca/ca.pem" "$d/ca/ca.key" "$d/ca/ctca.json" "$run/ca/"
    local t0
    t0=$(now_ms)
    /usr/bin/time -f "%U %S %M" -o "$run/time" "$bin/ctca" batch --ca "$run/ca" \
        "$work/csrs-$n" --out "$run/out" --log-list "$d/log_list.json" \
        >"$run/batch.out" 2>&1 || { cat "$run/batch.out" >&2; exit 1; }
    B_WALL_MS=$(($(now_ms) - t0))
    read -r B_USER_S B_SYS_S B_RSS_KB <"$run/time"
    B_ISSUED=$(jq .issued "$run/out/summary.json")
    if [ "$B_ISSUED" != "$n" ]; then
        echo "bench: ctca batch ($label) issued $B_ISSUED of $n" >&2
        exit 1
    fi
}

# logs_cpu_ticks: CPU (user+sys, clock ticks) the running test logs have used.
logs_cpu_ticks() {
    local pid sum=0
    for pid in "${TESTLOG_PIDS[@]}"; do
        sum=$((sum + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
    done
    echo "$sum"
}

# single_median DIR: median wall ms of SINGLE_RUNS issuances of one CSR.
single_median() {
    local i t0
    for i in $(seq 1 "$SINGLE_RUNS"); do
        t0=$(now_ms)
        issue_one "$1" "$work/csrs-$N_LOOP/host-00001.csr" "$1/single.pem"
        echo $(($(now_ms) - t0))
    done | median
}

bench_key_type() {
    local kt=$1 d=$work/$1
    mkdir -p "$d/out-ctca" "$d/out-cfssl"
    echo "== CA key $kt"
    "$bin/ctca" init "$d/ca" --key-type "$kt" --subject "CN=ctca bench $kt CA,O=ctca bench" \
        >/dev/null
    jq '.ct.min_scts = 3 | .ct.min_operators = 2' "$d/ca/ctca.json" >"$d/ctca.json"
    mv "$d/ctca.json" "$d/ca/ctca.json"

    logs 0 "$d"
    local floor sign_us verify_us floor_us ca_verify_us engine_us file_us
    floor=$("$work/floor" "$d/ca/ca.key" "$d/a1.key" 2 "$d/files")
    field() { sed "s/.*\b$1=\([0-9.]*\).*/\1/" <<<"$floor"; }
    sign_us=$(field sign_us)
    verify_us=$(field verify_us)
    floor_us=$(field floor_us)
    ca_verify_us=$(field ca_verify_us)
    engine_us=$(field engine_us)
    file_us=$(field file_us)
    echo "  crypto floor: $floor_us us/cert (CA sign $sign_us us, SCT verify $verify_us us);" \
         "every signature operation of the design: $engine_us us;" \
         "writing one output file here: $file_us us"

    local single0 single200
    single0=$(single_median "$d")

    local t0 f ctca_loop_ms cfssl_loop_ms
    t0=$(now_ms)
    for f in "$work/csrs-$N_LOOP"/*.csr; do
        issue_one "$d" "$f" "$d/out-ctca/$(basename "$f" .csr).pem"
    done
    ctca_loop_ms=$(($(now_ms) - t0))
    echo "  ctca issue, one process per CSR: $N_LOOP in $ctca_loop_ms ms"

    printf '{"signing":{"default":{"expiry":"2160h","usages":["signing","key encipherment","server auth"],"ct_log_servers":["%s","%s","%s"]}}}\n' \
        "${TESTLOG_URLS[@]}" >"$d/cfssl.json"
    t0=$(now_ms)
    for f in "$work/csrs-$N_LOOP"/*.csr; do
        cfssl sign -ca "$d/ca/ca.pem" -ca-key "$d/ca/ca.key" -config "$d/cfssl.json" "$f" \
            >"$d/out-cfssl/$(basename "$f" .csr).json" 2>>"$d/cfssl.err"
    done
    cfssl_loop_ms=$(($(now_ms) - t0))
    echo "  cfssl sign, one process per CSR: $N_LOOP in $cfssl_loop_ms ms"
    # cfssl must really have embedded SCTs, or the comparison means nothing.
    jq -r .cert "$d/out-cfssl/host-00001.json" | openssl x509 -noout -text |
        grep -q "CT Precertificate SCTs" || { echo "bench: cfssl embedded no SCTs" >&2; exit 1; }

    batch_run "$d" "$N_LOOP" loop
    local batch_loop_ms=$B_WALL_MS
    echo "  ctca batch: $N_LOOP in $batch_loop_ms ms"

    local logs_t0
    logs_t0=$(logs_cpu_ticks)
    batch_run "$d" "$N_CPU" cpu
    local logs_us
    logs_us=$(awk -v t=$(($(logs_cpu_ticks) - logs_t0)) -v hz="$(getconf CLK_TCK)" -v n="$N_CPU" \
        'BEGIN {printf "%.0f", t * 1e6 / hz / n}')
    local cpu_us user_us sys_us tput0 cpu_ratio
    user_us=$(awk -v c="$B_USER_S" -v n="$N_CPU" 'BEGIN {printf "%.0f", c * 1e6 / n}')
    sys_us=$(awk -v c="$B_SYS_S" -v n="$N_CPU" 'BEGIN {printf "%.0f", c * 1e6 / n}')
    cpu_us=$((user_us + sys_us))
    tput0=$(awk -v n="$N_CPU" -v ms="$B_WALL_MS" 'BEGIN {printf "%.1f", n * 1000 / ms}')
    cpu_ratio=$(ratio "$cpu_us" "$floor_us")
    echo "  ctca batch, $N_CPU CSRs, logs at 0 ms: $cpu_us us CPU/cert ($user_us user, $sys_us sys)" \
         "= ${cpu_ratio}x the floor (target <= 1.5x); $tput0 certificates/s;" \
         "the three logs used $logs_us us CPU/cert"

    batch_run "$d" "$N_RSS_SMALL" rss-small
    local rss_small=$B_RSS_KB
    batch_run "$d" "$N_RSS_LARGE" rss-large
    local rss_large=$B_RSS_KB rss_ratio
    rss_ratio=$(ratio "$rss_large" "$rss_small")
    echo "  peak RSS: $N_RSS_SMALL CSRs $((rss_small / 1024)) MiB, $N_RSS_LARGE CSRs" \
         "$((rss_large / 1024)) MiB = ${rss_ratio}x (target <= 1.2x and < 64 MiB)"

    logs "$BATCH_LATENCY" "$d"
    batch_run "$d" "$N_CPU" latency
    local tput50 hiding
    tput50=$(awk -v n="$N_CPU" -v ms="$B_WALL_MS" 'BEGIN {printf "%.1f", n * 1000 / ms}')
    hiding=$(ratio "$tput50" "$tput0")
    echo "  latency hiding: $tput50 certificates/s with logs at $BATCH_LATENCY ms" \
         "= ${hiding}x of no latency (target >= 0.8)"

    logs "$SINGLE_LATENCY" "$d"
    single200=$(single_median "$d")
    testlogs_stop

    local single_base single_ratio issue_vs_cfssl batch_vs_cfssl
    single_base=$((SINGLE_LATENCY + single0))
    single_ratio=$(ratio "$single200" "$single_base")
    issue_vs_cfssl=$(ratio "$cfssl_loop_ms" "$ctca_loop_ms")
    batch_vs_cfssl=$(ratio "$cfssl_loop_ms" "$batch_loop_ms")
    echo "  single issuance, 3 logs at ${SINGLE_LATENCY} ms: $single200 ms" \
         "= ${single_ratio}x of one log's latency + signing ($single_base ms; target <= 1.3x)"
    echo "  ctca issue loop vs cfssl loop: ${issue_vs_cfssl}x the throughput"
    echo "  ctca batch vs cfssl loop: ${batch_vs_cfssl}x the throughput (target >= 20x)"

    local out=$results/$(date -u +%Y-%m-%d)-$kt.md
    {
        echo "# ctca bench, CA key $kt, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo
        echo "Machine: $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1)," \
             "$(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM," \
             "Linux $(uname -r); $(openssl version | cut -d' ' -f1-2);" \
             "$(cc --version | head -n1); cfssl $(cfssl version | sed -n 's/^Version: //p');" \
             "load average at the start $load_at_start (the cores may be shared)."
        echo "Logs: three ctca-testlog processes on loopback (ECDSA P-256 keys, operators A, A, B);"
        echo "every CA needs 3 SCTs. Subject keys: ECDSA P-256. Commit $(git rev-parse --short HEAD)."
        echo
        echo "| measure | value | ratio | target |"
        echo "|---|---|---|---|"
        echo "| crypto floor (2 CA signatures + 3 SCT verifications) | $floor_us us/cert (sign $sign_us us, verify $verify_us us) | | |"
        echo "| every signature operation of the design (2 signatures, each verified, 3 SCTs, the CSR's) | $engine_us us/cert (CA verify $ca_verify_us us) | $(ratio "$engine_us" "$floor_us")x the floor | |"
        echo "| writing one output file on this filesystem (temporary file and rename), CPU | $file_us us | $(ratio "$file_us" "$floor_us")x the floor | |"
        echo "| ctca batch CPU (user+sys of ctca) per certificate, $N_CPU CSRs, logs at 0 ms | $cpu_us us ($user_us user, $sys_us sys) | ${cpu_ratio}x the floor | <= 1.5x |"
        echo "| the three test logs' CPU per certificate in that run (on the same 2 cores) | $logs_us us | | |"
        echo "| ctca batch throughput, $N_CPU CSRs: logs at 0 ms / at $BATCH_LATENCY ms | $tput0 / $tput50 certificates/s | ${hiding}x | >= 0.8 |"
        echo "| ctca batch peak RSS, $N_RSS_SMALL / $N_RSS_LARGE CSRs | $((rss_small / 1024)) / $((rss_large / 1024)) MiB | ${rss_ratio}x | <= 1.2x, < 64 MiB |"
        echo "| single issuance, 3 logs at $SINGLE_LATENCY ms vs $SINGLE_LATENCY ms + issuance at 0 ms ($single0 ms) | $single200 ms | ${single_ratio}x | <= 1.3x |"
        echo "| ctca issue, one process per CSR, $N_LOOP CSRs, logs at 0 ms | $ctca_loop_ms ms | | |"
        echo "| cfssl sign, one process per CSR, $N_LOOP CSRs, logs at 0 ms | $cfssl_loop_ms ms | ${issue_vs_cfssl}x (ctca issue throughput / cfssl) | |"
        echo "| ctca batch, the same $N_LOOP CSRs | $batch_loop_ms ms | ${batch_vs_cfssl}x (ctca batch throughput / cfssl loop) | >= 20x |"
    } >"$out"
    echo "  written to ${out#"$root"/}"
}

load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
t_start=$(now_ms)
for kt in $key_types; do
    bench_key_type "$kt"
done
echo "== done in $((($(now_ms) - t_start) / 1000)) s"
