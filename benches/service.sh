#!/usr/bin/env bash
# examples/service.rs under real HTTP load: wrk on 127.0.0.1 drives the same service with its
# handlers written five ways (work inline on the runtime, tokio's spawn_blocking, rayon + a
# oneshot, futurepool, and futurepool with every priority NORMAL) and prints one table.
#
#   benches/service.sh                 # ~1 min after the release build
#   SECS=10 benches/service.sh         # longer runs per measurement
#   NICE=0 benches/service.sh          # pool threads at the runtime's priority (default 19)
#   MODES="futurepool rayon" benches/service.sh   # some of the ways only
#
# Measured, for each way:
#   - /cpu throughput (2 x cores connections, requests of about 1 ms);
#   - /health p50 and p99 while heavy /cpu requests (about 100 x longer) saturate the cores
#     (4 x cores connections);
#   - the p50 and p99 of interactive /cpu requests (1 connection) while /batch floods (16
#     connections, each a map of 32 /cpu-sized items, 4 in flight: 64 items queued), with and
#     without priorities (a queue of 256 places here, so that nothing is shed);
#   - futurepool only: at 4x capacity on /cpu (capacity = cores + queue places), how fast a
#     shed request (503) is answered and the p99 of accepted ones, from a probe that times each
#     status apart (wrk reports one distribution for all).
# Goals: /health p99 <= 2 ms with futurepool; interactive /cpu p99 with priorities <= 1/5 of
# the FIFO one; a shed request answered in < 1 ms.
set -euo pipefail
cd "$(dirname "$0")/.."

SECS=${SECS:-5}
PORT=${PORT:-3917}
QUEUE=${QUEUE:-64}
# The nice value of the dedicated pools' threads (the CpuPool's, rayon's): see the example.
NICE=${NICE:-19}
# Work per /cpu request and per /batch item: rounds of a hash, about 1 ns each; HEAVY for the
# requests that saturate the cores while /health is measured.
N=${N:-200000}
HEAVY=${HEAVY:-$((N * 100))}
URL="http://127.0.0.1:$PORT"
CORES=$(nproc)

if ! command -v wrk >/dev/null 2>&1; then
    echo "wrk is missing: installing Debian's package" >&2
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq wrk >/dev/null
fi

cargo build --release --example service >&2
BIN=target/release/examples/service
TMP=$(mktemp -d)
PID=""
cleanup() {
    if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; fi
    rm -rf "$TMP"
}
trap cleanup EXIT

start() { # mode queue
    "$BIN" --serve --addr "127.0.0.1:$PORT" --mode "$1" --queue "$2" --pool-nice "$NICE" >"$TMP/server.log" 2>&1 &
    PID=$!
    for _ in $(seq 100); do
        if "$BIN" probe "$URL/health" 0 >/dev/null 2>&1; then return; fi
        sleep 0.1
    done
    echo "the service did not start:" >&2
    cat "$TMP/server.log" >&2
    exit 1
}

stop() { # graceful: SIGTERM, then the service finishes what is in flight
    kill -TERM "$PID"
    wait "$PID" || true
    PID=""
}

# wrk's latency at a percentile ("50%" or "99%") in ms, from a `--latency` report.
percentile() { # file pct
    awk -v p="$2" '$1 == p {
        v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
        if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000;
        printf "%.2f", v; found = 1 }
        END { if (!found) printf "n/a" }' "$1"
}

rps() { awk '/^Requests\/sec/ { printf "%.0f", $2 }' "$1"; }

# A probe line's field ("p50_ms") for a status, or "n/a".
probed() { # file status field
    awk -v s="status=$2" -v f="$3" '$1 == s { for (i = 2; i <= NF; i++) { split($i, kv, "=");
        if (kv[1] == f) { printf "%s", kv[2]; found = 1 } } } END { if (!found) printf "n/a" }' "$1"
}

MODES=${MODES:-"inline spawn-blocking rayon futurepool futurepool-fifo"}
declare -A HEALTH50 HEALTH99 CPU_RPS INTERACTIVE50 INTERACTIVE99
for mode in $MODES; do
    echo "measuring $mode ..." >&2
    start "$mode" 256
    # /cpu throughput.
    wrk -t1 -c$((2 * CORES)) -d"${SECS}s" --timeout 30s "$URL/cpu?n=$N" >"$TMP/cpu.txt"
    CPU_RPS[$mode]=$(rps "$TMP/cpu.txt")
    # /health while heavy /cpu requests saturate the cores.
    wrk -t1 -c$((4 * CORES)) -d"${SECS}s" --timeout 60s "$URL/cpu?n=$HEAVY" >"$TMP/heavy.txt" &
    LOAD=$!
    sleep 0.5
    wrk -t1 -c1 -d"$((SECS - 1))s" --timeout 60s --latency "$URL/health" >"$TMP/health.txt"
    wait "$LOAD"
    HEALTH50[$mode]=$(percentile "$TMP/health.txt" 50%)
    HEALTH99[$mode]=$(percentile "$TMP/health.txt" 99%)
    # Interactive /cpu while /batch floods.
    wrk -t1 -c16 -d"${SECS}s" --timeout 30s "$URL/batch?n=$N&items=32&inflight=4" >"$TMP/batch.txt" &
    LOAD=$!
    sleep 0.5
    wrk -t1 -c1 -d"$((SECS - 1))s" --timeout 30s --latency "$URL/cpu?n=$N" >"$TMP/interactive.txt"
    wait "$LOAD"
    INTERACTIVE50[$mode]=$(percentile "$TMP/interactive.txt" 50%)
    INTERACTIVE99[$mode]=$(percentile "$TMP/interactive.txt" 99%)
    stop
done

# Load shedding at 4x capacity (futurepool's bounded queue).
CAPACITY=$((CORES + QUEUE))
echo "measuring shedding at 4 x $CAPACITY connections ..." >&2
start futurepool "$QUEUE"
wrk -t2 -c$((4 * CAPACITY)) -d"${SECS}s" --timeout 30s "$URL/cpu?n=$N" >"$TMP/flood.txt" &
LOAD=$!
sleep 0.5
"$BIN" probe "$URL/cpu?n=$N" "$((SECS - 1))" >"$TMP/probe.txt"
wait "$LOAD"
stop
NON2XX=$(awk '/Non-2xx/ { print $5 }' "$TMP/flood.txt")

row() { # label, then one value per mode
    local label=$1
    shift
    printf "| %-58s |" "$label"
    for v in "$@"; do printf " %15s |" "$v"; done
    printf "\n"
}
echo
echo "examples/service.rs under wrk: $CORES cores, ${SECS} s per measurement, /cpu = $N hash rounds (heavy: $HEAVY), pool threads at nice $NICE"
echo
row "measure" $MODES
# shellcheck disable=SC2046
row "---" $(for _ in $MODES; do printf -- "--- "; done)
v() { local -n m=$1; for mode in $MODES; do printf "%s " "${m[$mode]}"; done; }
# shellcheck disable=SC2046
row "/cpu throughput (requests/s)" $(v CPU_RPS)
# shellcheck disable=SC2046
row "/health p50 (ms) while heavy /cpu saturates the cores" $(v HEALTH50)
# shellcheck disable=SC2046
row "/health p99 (ms) while heavy /cpu saturates the cores" $(v HEALTH99)
# shellcheck disable=SC2046
row "interactive /cpu p50 (ms) under a /batch flood" $(v INTERACTIVE50)
# shellcheck disable=SC2046
row "interactive /cpu p99 (ms) under a /batch flood" $(v INTERACTIVE99)
echo
echo "futurepool at 4x capacity ($((4 * CAPACITY)) connections on /cpu; capacity $CORES threads + $QUEUE queued):"
echo "  shed (503): p50 $(probed "$TMP/probe.txt" 503 p50_ms) ms, p99 $(probed "$TMP/probe.txt" 503 p99_ms) ms ($(probed "$TMP/probe.txt" 503 count) probed; wrk saw ${NON2XX:-0} non-2xx)"
echo "  accepted (200): p50 $(probed "$TMP/probe.txt" 200 p50_ms) ms, p99 $(probed "$TMP/probe.txt" 200 p99_ms) ms, max $(probed "$TMP/probe.txt" 200 max_ms) ms ($(probed "$TMP/probe.txt" 200 count) probed)"
FP=${INTERACTIVE99[futurepool]:-}
FIFO=${INTERACTIVE99[futurepool-fifo]:-}
awk -v a="$FP" -v b="$FIFO" -v c="${INTERACTIVE50[futurepool]:-}" -v d="${INTERACTIVE50[futurepool-fifo]:-}" 'BEGIN {
    if (b + 0 > 0 && d + 0 > 0) printf "interactive /cpu under a /batch flood, with priorities / without: p99 %.2f (goal <= 0.20), p50 %.2f\n", a / b, c / d }'
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine moves every latency here)"
