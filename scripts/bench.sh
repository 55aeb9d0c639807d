#!/usr/bin/env bash
# A/B throughput against redis-server on this machine, with redis-benchmark as the client.
#
# Both servers are pinned to core 0 (ours with one worker thread) and the client to core 1,
# so the comparison is per core and the client does not steal the server's CPU. Runs
# alternate A and B, ROUNDS times per test and pipeline depth, and the median of each
# side's requests/s is reported, which damps the noise of a shared machine.
#
# Usage: scripts/bench.sh                 (N=200000 ROUNDS=5, every test in TESTS below)
#        N=50000 ROUNDS=3 TESTS="get set" PIPELINES="1 16" CLIENTS=50 scripts/bench.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

N=${N:-200000}
ROUNDS=${ROUNDS:-5}
TESTS=${TESTS:-set get incr mset lpush lpop sadd hset zadd zpopmin lrange_100}
PIPELINES=${PIPELINES:-1 16}
CLIENTS=${CLIENTS:-50}
KEYSPACE=${KEYSPACE:-100000}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}

for tool in redis-server redis-benchmark redis-cli taskset; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "bench.sh needs $tool (scripts/test.sh installs the redis tools)" >&2
        exit 1
    }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rcs-bench.XXXXXX")
OURS_PID=""
REDIS_PID=""
cleanup() {
    local pid
    for pid in "$OURS_PID" "$REDIS_PID"; do
        if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_ready() {
    local port=$1 pid=$2 name=$3 i
    for i in $(seq 1 100); do
        if [[ $(redis-cli -p "$port" PING 2>/dev/null || true) == PONG ]]; then
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || {
            echo "$name exited at startup; its log:" >&2
            cat "$WORK/$name.log" >&2 || true
            exit 1
        }
        sleep 0.1
    done
    echo "$name did not answer PING on port $port" >&2
    exit 1
}

echo "building the release binary..." >&2
cargo build --release --quiet --bin rust-cache-server
BIN=target/release/rust-cache-server

OURS_PORT=$(free_port)
taskset -c "$SERVER_CPU" "$BIN" --port "$OURS_PORT" --bind 127.0.0.1 --threads 1 \
    >"$WORK/rcs.log" 2>&1 &
OURS_PID=$!
REDIS_PORT=$(free_port)
while [[ $REDIS_PORT == "$OURS_PORT" ]]; do REDIS_PORT=$(free_port); done
taskset -c "$SERVER_CPU" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 \
    --save '' --appendonly no --dir "$WORK" >"$WORK/redis.log" 2>&1 &
REDIS_PID=$!
wait_ready "$OURS_PORT" "$OURS_PID" rcs
wait_ready "$REDIS_PORT" "$REDIS_PID" redis

# rps PORT TEST DEPTH: one redis-benchmark run, prints its requests/s.
rps() {
    local port=$1 test=$2 depth=$3 out
    out=$(taskset -c "$CLIENT_CPU" redis-benchmark -h 127.0.0.1 -p "$port" -t "$test" \
        -c "$CLIENTS" -P "$depth" -r "$KEYSPACE" -n "$N" --csv </dev/null) || {
        echo "redis-benchmark failed against port $port ($test -P $depth): $out" >&2
        return 1
    }
    # CSV: header line, then "TEST","rps",... Some tests run a fill step first (LRANGE
    # runs "LPUSH (needed to benchmark LRANGE)"), so pick the line named after the test:
    # "LRANGE_100 (first 100 elements)", "MSET (10 keys)", "SET".
    awk -F'"' -v t="$(tr '[:lower:]' '[:upper:]' <<<"$test")" \
        'NR > 1 && ($2 == t || index($2, t " ") == 1) { print $4; exit }' <<<"$out"
}

median() {
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "nan"; exit }
        if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "rcs $("$BIN" --version 2>/dev/null || echo '?') on :$OURS_PORT, $(redis-server --version | awk '{print $3}') on :$REDIS_PORT;" \
    "servers on cpu $SERVER_CPU, client on cpu $CLIENT_CPU; -c $CLIENTS -r $KEYSPACE -n $N, $ROUNDS rounds" >&2

ROWS=()
for depth in $PIPELINES; do
    for test in $TESTS; do
        a=()
        b=()
        for round in $(seq 1 "$ROUNDS"); do
            # Alternate which side goes first so drift on the machine hits both alike.
            if ((round % 2)); then
                a+=("$(rps "$OURS_PORT" "$test" "$depth")")
                b+=("$(rps "$REDIS_PORT" "$test" "$depth")")
            else
                b+=("$(rps "$REDIS_PORT" "$test" "$depth")")
                a+=("$(rps "$OURS_PORT" "$test" "$depth")")
            fi
            echo "  $test -P $depth round $round: rcs ${a[-1]} redis ${b[-1]}" >&2
        done
        ma=$(printf '%s\n' "${a[@]}" | median)
        mb=$(printf '%s\n' "${b[@]}" | median)
        ratio=$(awk -v x="$ma" -v y="$mb" 'BEGIN { if (y > 0) printf "%.2f", x / y; else print "nan" }')
        ROWS+=("| $test | $depth | $ma | $mb | $ratio |")
    done
done

for pid in "$OURS_PID" "$REDIS_PID"; do
    kill -0 "$pid" 2>/dev/null || { echo "a server died during the run" >&2; exit 1; }
done

echo
echo "| test | -P | rcs median req/s | redis median req/s | ratio (rcs/redis) |"
echo "|---|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
