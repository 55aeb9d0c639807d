#!/usr/bin/env bash
# A/B throughput against redis-server on this machine, with redis-benchmark as the client.
#
# Both servers are pinned to core 0 (ours with one worker thread) and the client to core 1,
# so the comparison is per core and the client does not steal the server's CPU. Runs
# alternate A and B, ROUNDS times per test and pipeline depth, and the median of each
# side's requests/s is reported, which damps the noise of a shared machine.
#
# The `publish` test is Pub/Sub fan-out: SUBSCRIBERS subscribers (scripts/
# pubsub_subscriber.py, on the client's core) each receive every message that
# redis-benchmark publishes (`PUBLISH bench <PAYLOAD bytes>`); its figure is the publisher's
# requests/s, and a run in which any subscriber missed a message fails. A second table
# gives each server's CPU time per published message (from /proc), which the other load
# on a shared machine disturbs less than throughput.
#
# Usage: scripts/bench.sh                 (N=200000 ROUNDS=5, every test in TESTS below)
#        N=50000 ROUNDS=3 TESTS="get set" PIPELINES="1 16" CLIENTS=50 scripts/bench.sh
#        TESTS=publish SUBSCRIBERS=8 PAYLOAD=64 scripts/bench.sh
#        TESTS=evalsha scripts/bench.sh     (EVALSHA of `return redis.call('INCR', KEYS[1])`)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

N=${N:-200000}
ROUNDS=${ROUNDS:-5}
TESTS=${TESTS:-set get incr mset lpush lpop sadd hset zadd zpopmin lrange_100 publish evalsha}
PIPELINES=${PIPELINES:-1 16}
CLIENTS=${CLIENTS:-50}
KEYSPACE=${KEYSPACE:-100000}
SUBSCRIBERS=${SUBSCRIBERS:-4}
PAYLOAD=${PAYLOAD:-32}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}

for tool in redis-server redis-benchmark redis-cli taskset python3; do
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
wait_ready "$OURS_PORT" "$OURS_PID" "$WORK/rcs.log"
wait_ready "$REDIS_PORT" "$REDIS_PID" "$WORK/redis.log"

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

# cpu_ticks PID: user + system CPU time of a process so far, in clock ticks.
cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# publish_rps PORT PID DEPTH: one Pub/Sub fan-out run; prints "<publisher req/s> <server
# CPU us per published message>". Fails if a subscriber did not get every message.
publish_rps() {
    local port=$1 pid=$2 depth=$3 payload i subs=() outs=() got before after out rps
    payload=$(head -c "$PAYLOAD" /dev/zero | tr '\0' x)
    for i in $(seq 1 "$SUBSCRIBERS"); do
        outs+=("$WORK/sub.$i")
        taskset -c "$CLIENT_CPU" python3 scripts/pubsub_subscriber.py "$port" bench "$N" 10 \
            >"$WORK/sub.$i" &
        subs+=($!)
    done
    for i in $(seq 1 200); do
        got=$(redis-cli -p "$port" PUBSUB NUMSUB bench | tail -1)
        [[ $got == "$SUBSCRIBERS" ]] && break
        sleep 0.05
    done
    [[ $got == "$SUBSCRIBERS" ]] || { echo "subscribers did not subscribe (port $port)" >&2; return 1; }
    before=$(cpu_ticks "$pid")
    out=$(taskset -c "$CLIENT_CPU" redis-benchmark -h 127.0.0.1 -p "$port" -c "$CLIENTS" \
        -P "$depth" -n "$N" --csv PUBLISH bench "$payload" </dev/null) || {
        echo "redis-benchmark failed against port $port (publish -P $depth): $out" >&2
        return 1
    }
    for i in "${subs[@]}"; do wait "$i"; done
    after=$(cpu_ticks "$pid")
    for i in "${outs[@]}"; do
        got=$(tail -1 "$i")
        [[ $got == "$N" ]] || { echo "a subscriber got $got of $N messages (port $port)" >&2; return 1; }
    done
    rps=$(awk -F'"' 'NR > 1 { print $4; exit }' <<<"$out")
    awk -v r="$rps" -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$N" \
        'BEGIN { printf "%s %.3f\n", r, t * 1e6 / hz / n }'
}

# The `evalsha` test: a small script (issue 6's), loaded once, run by SHA1 on random keys.
# EVAL_SCRIPT and EVAL_ARG (one ARGV value, e.g. a JSON job) replace it for other scripts.
EVAL_SCRIPT=${EVAL_SCRIPT:-"return redis.call('INCR', KEYS[1])"}
EVAL_ARG=${EVAL_ARG:-}

# evalsha_rps PORT DEPTH: one EVALSHA run, prints its requests/s.
evalsha_rps() {
    local port=$1 depth=$2 sha out
    sha=$(redis-cli -p "$port" SCRIPT LOAD "$EVAL_SCRIPT")
    out=$(taskset -c "$CLIENT_CPU" redis-benchmark -h 127.0.0.1 -p "$port" -c "$CLIENTS" \
        -P "$depth" -r "$KEYSPACE" -n "$N" --csv EVALSHA "$sha" 1 key:__rand_int__ \
        ${EVAL_ARG:+"$EVAL_ARG"} </dev/null) || {
        echo "redis-benchmark failed against port $port (evalsha -P $depth): $out" >&2
        return 1
    }
    # Fields counted from the end: an EVAL_ARG in the test name may hold quotes and commas.
    awk -F'","' 'NR > 1 { print $(NF - 6); exit }' <<<"$out"
}

# run_test PORT PID TEST DEPTH: prints "<req/s> [<server CPU us per request>]".
run_test() {
    if [[ $3 == publish ]]; then
        publish_rps "$1" "$2" "$4"
    elif [[ $3 == evalsha ]]; then
        evalsha_rps "$1" "$4"
    else
        rps "$1" "$3" "$4"
    fi
}

median() {
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "nan"; exit }
        if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "rcs $("$BIN" --version 2>/dev/null || echo '?') on :$OURS_PORT, $(redis-server --version | awk '{print $3}') on :$REDIS_PORT;" \
    "servers on cpu $SERVER_CPU, client on cpu $CLIENT_CPU; -c $CLIENTS -r $KEYSPACE -n $N, $ROUNDS rounds" >&2

ratio() {
    awk -v x="$1" -v y="$2" 'BEGIN { if (y > 0) printf "%.2f", x / y; else print "nan" }'
}

ROWS=()
CPU_ROWS=()
for depth in $PIPELINES; do
    for test in $TESTS; do
        a=()
        b=()
        ca=()
        cb=()
        for round in $(seq 1 "$ROUNDS"); do
            # Alternate which side goes first so drift on the machine hits both alike.
            if ((round % 2)); then
                ra=$(run_test "$OURS_PORT" "$OURS_PID" "$test" "$depth")
                rb=$(run_test "$REDIS_PORT" "$REDIS_PID" "$test" "$depth")
            else
                rb=$(run_test "$REDIS_PORT" "$REDIS_PID" "$test" "$depth")
                ra=$(run_test "$OURS_PORT" "$OURS_PID" "$test" "$depth")
            fi
            a+=("${ra%% *}")
            b+=("${rb%% *}")
            if [[ $test == publish ]]; then
                ca+=("${ra#* }")
                cb+=("${rb#* }")
            fi
            echo "  $test -P $depth round $round: rcs $ra redis $rb" >&2
        done
        ma=$(printf '%s\n' "${a[@]}" | median)
        mb=$(printf '%s\n' "${b[@]}" | median)
        name=$test
        [[ $test == publish ]] && name="publish ($SUBSCRIBERS subscribers, $PAYLOAD B)"
        ROWS+=("| $name | $depth | $ma | $mb | $(ratio "$ma" "$mb") |")
        if [[ $test == publish ]]; then
            ma=$(printf '%s\n' "${ca[@]}" | median)
            mb=$(printf '%s\n' "${cb[@]}" | median)
            # Less CPU is better: the ratio is redis/rcs, above 1 when we use less.
            CPU_ROWS+=("| $name | $depth | $ma | $mb | $(ratio "$mb" "$ma") |")
        fi
    done
done

for pid in "$OURS_PID" "$REDIS_PID"; do
    kill -0 "$pid" 2>/dev/null || { echo "a server died during the run" >&2; exit 1; }
done

echo
echo "| test | -P | rcs median req/s | redis median req/s | ratio (rcs/redis) |"
echo "|---|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
if ((${#CPU_ROWS[@]})); then
    echo
    echo "| test | -P | rcs server CPU us/msg | redis server CPU us/msg | ratio (redis/rcs) |"
    echo "|---|---:|---:|---:|---:|"
    printf '%s\n' "${CPU_ROWS[@]}"
fi
