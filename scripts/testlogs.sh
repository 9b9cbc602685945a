# Sourced by demo.sh and the benchmark: start local ctca-testlog instances and
# write a v3 log list naming them.
#   testlogs_start BIN WORKDIR ROOTS.pem OPERATOR:NAME [OPERATOR:NAME...] [-- extra testlog args]
# Each argument before "--" starts one log owned by OPERATOR. Sets TESTLOG_PIDS
# and TESTLOG_URLS, writes WORKDIR/log_list.json and WORKDIR/<NAME>.pub.
# testlogs_stop kills them.

TESTLOG_PIDS=()
TESTLOG_URLS=()

testlogs_stop() {
    if [ ${#TESTLOG_PIDS[@]} -gt 0 ]; then
        kill "${TESTLOG_PIDS[@]}" 2>/dev/null || true
        wait "${TESTLOG_PIDS[@]}" 2>/dev/null || true
    fi
    TESTLOG_PIDS=()
    TESTLOG_URLS=()
}

testlogs_start() {
    local bin=$1 dir=$2 roots=$3
    shift 3
    local specs=() extra=()
    while [ $# -gt 0 ]; do
        if [ "$1" = "--" ]; then shift; extra=("$@"); break; fi
        specs+=("$1"); shift
    done
    local ops=() entries=()
    for spec in "${specs[@]}"; do
        local op=${spec%%:*} name=${spec#*:}
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/$name.key" 2>/dev/null
        openssl pkey -in "$dir/$name.key" -pubout -out "$dir/$name.pub"
        # A restarted log's old .out would still name its old port until the
        # new process's redirection truncates it: read only what the new one writes.
        rm -f "$dir/$name.out"
        "$bin" --listen 127.0.0.1:0 --key "$dir/$name.key" --roots "$roots" "${extra[@]}" \
            >"$dir/$name.out" 2>"$dir/$name.err" &
        TESTLOG_PIDS+=($!)
        local url=""
        for _ in $(seq 1 100); do
            url=$(sed -n 's/^listening on \(http[^ ]*\).*/\1/p' "$dir/$name.out" 2>/dev/null | head -n1)
            [ -n "$url" ] && break
            sleep 0.05
        done
        if [ -z "$url" ]; then
            echo "testlogs: $name did not start:" >&2
            cat "$dir/$name.err" >&2
            return 1
        fi
        TESTLOG_URLS+=("$url")
        local hostport=${url#http://}
        hostport=${hostport%/}
        local entry
        entry=$("$bin" --print-log-entry --listen "$hostport" --key "$dir/$name.key" \
                --description "$name")
        ops+=("$op")
        entries+=("$entry")
    done
    # Group the entries by operator, in first-seen order.
    local seen=() json="" first_op=1
    for op in "${ops[@]}"; do
        case " ${seen[*]} " in *" $op "*) continue ;; esac
        seen+=("$op")
        local logs="" i
        for i in "${!ops[@]}"; do
            [ "${ops[$i]}" = "$op" ] || continue
            logs+="${logs:+,}${entries[$i]}"
        done
        json+="$([ $first_op = 1 ] || echo ,){\"name\":\"$op\",\"email\":[],\"logs\":[$logs]}"
        first_op=0
    done
    printf '{"version":"1.0","log_list_timestamp":"%s","operators":[%s]}\n' \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$json" >"$dir/log_list.json"
}
