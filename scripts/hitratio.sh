#!/usr/bin/env bash
# Hit ratio per eviction policy, this server against redis-server at the same maxmemory.
#
# Replays the same seeded Zipf trace (examples/cacheload.rs) against both servers, the way a
# cache is used: GET the key, and on a miss SET it with a fixed-size value. Each policy runs
# on a fresh server of each kind. The allkeys-* policies run on keys without TTL; the
# volatile-* ones on keys written with a long TTL (`SET .. EX`), so they have candidates.
# allkeys-tinylfu is this server's own (Redis rejects it) and runs on ours only; its row
# also gives its miss ratio relative to Redis's allkeys-lru.
#
# Usage: scripts/hitratio.sh
#        ALPHAS="0.99" POLICIES="allkeys-lru allkeys-tinylfu" REQUESTS=200000 scripts/hitratio.sh
# Defaults: KEYS=200000 keys, REQUESTS=1000000, VALUE=1000 bytes, MAXMEMORY=20mb (about
# 18k keys fit in either server, a tenth of the key space), WINDOW=64 pipelined requests.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

ALPHAS=${ALPHAS:-0.99 0.8}
POLICIES=${POLICIES:-allkeys-lru allkeys-lfu allkeys-random volatile-lru volatile-lfu volatile-random volatile-ttl allkeys-tinylfu}
KEYS=${KEYS:-200000}
REQUESTS=${REQUESTS:-1000000}
VALUE=${VALUE:-1000}
MAXMEMORY=${MAXMEMORY:-20mb}
WINDOW=${WINDOW:-64}
SEED=${SEED:-7}
# TTL of the volatile variants' keys: far longer than a run, so nothing expires.
TTL=${TTL:-100000}
THREADS=${THREADS:-1}

for tool in redis-server redis-cli python3; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "hitratio.sh needs $tool (scripts/test.sh installs the redis tools)" >&2
        exit 1
    }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rcs-hitratio.XXXXXX")
PID=""
cleanup() {
    if [[ -n $PID ]] && kill -0 "$PID" 2>/dev/null; then
        kill "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM



echo "building the release binaries..." >&2
cargo build --release --quiet --bin rust-cache-server --example cacheload
BIN=target/release/rust-cache-server
LOAD=target/release/examples/cacheload

# run SERVER POLICY ALPHA: starts a fresh server, replays the trace, prints the hit ratio.
run() {
    local server=$1 policy=$2 alpha=$3 port ttl=0 out
    port=$(free_port)
    if [[ $server == rcs ]]; then
        "$BIN" --port "$port" --bind 127.0.0.1 --threads "$THREADS" --maxmemory "$MAXMEMORY" \
            --maxmemory-policy "$policy" >"$WORK/server.log" 2>&1 &
    else
        redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" \
            --maxmemory "$MAXMEMORY" --maxmemory-policy "$policy" >"$WORK/server.log" 2>&1 &
    fi
    PID=$!
    wait_ready "$port" "$PID" "$WORK/server.log"
    [[ $policy == volatile-* ]] && ttl=$TTL
    out=$("$LOAD" hitratio --port "$port" --keys "$KEYS" --requests "$REQUESTS" \
        --alpha "$alpha" --seed "$SEED" --value-size "$VALUE" --ttl "$ttl" --window "$WINDOW")
    local keys
    keys=$(redis-cli -p "$port" DBSIZE)
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    PID=""
    echo "  $server $policy alpha $alpha: $out keys_held $keys" >&2
    if grep -q 'errors [1-9]' <<<"$out"; then
        echo "error replies during the run: $out" >&2
        exit 1
    fi
    awk '{ for (i = 1; i < NF; i++) if ($i == "hit_ratio") print $(i + 1) }' <<<"$out"
}

echo "key space $KEYS, $REQUESTS requests, $VALUE-byte values, maxmemory $MAXMEMORY, seed $SEED" >&2
ROWS=()
for alpha in $ALPHAS; do
    lru_redis=""
    for policy in $POLICIES; do
        ours=$(run rcs "$policy" "$alpha")
        if [[ $policy == allkeys-tinylfu ]]; then
            theirs="-"
            diff="-"
        else
            theirs=$(run redis "$policy" "$alpha")
            diff=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%+.2f", (a - b) * 100 }')
        fi
        [[ $policy == allkeys-lru ]] && lru_redis=$theirs
        rel="-"
        if [[ -n $lru_redis && $lru_redis != "-" ]]; then
            rel=$(awk -v a="$ours" -v b="$lru_redis" 'BEGIN { if (b < 1) printf "%.3f", (1 - a) / (1 - b); else print "nan" }')
        fi
        ROWS+=("| $alpha | $policy | $ours | $theirs | $diff | $rel |")
    done
done

echo
echo "| Zipf alpha | policy | rcs hit ratio | redis hit ratio | difference (points) | rcs miss ratio / redis allkeys-lru miss ratio |"
echo "|---:|---|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
