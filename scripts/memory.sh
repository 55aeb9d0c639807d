#!/usr/bin/env bash
# Memory A/B against redis-server: the same data loaded the same way into both servers,
# then INFO memory read from each.
#
# For each data set a fresh pair of servers is started, COUNT keys are bulk-loaded with
# `redis-cli --pipe` from one generated command file, and used_memory (the allocator's
# figure) and used_memory_rss are compared, minus the figure of the empty server, so the
# table shows the cost of the data alone. Bytes per key = that difference / COUNT.
#
# Usage: scripts/memory.sh                 (COUNT=1000000 SETS="string hash set zset")
#        SETS="string string-ttl" scripts/memory.sh   (the cost of a TTL: the difference)
#        COUNT=200000 SETS="hash" scripts/memory.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

COUNT=${COUNT:-1000000}
SETS=${SETS:-string hash set zset}

for tool in redis-server redis-cli python3; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "memory.sh needs $tool (scripts/test.sh installs the redis tools)" >&2
        exit 1
    }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rcs-memory.XXXXXX")
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM



# gen KIND: writes the RESP commands that load COUNT keys of that kind to stdout.
# Names and values are short and varied, as a cache's small objects are: 5 fields or
# members per collection, values of 6-9 bytes, half of them numbers.
gen() {
    python3 - "$1" "$COUNT" <<'PY'
import sys
kind, count = sys.argv[1], int(sys.argv[2])
out = sys.stdout.buffer
def cmd(*args):
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(parts)
buf = []
for i in range(count):
    if kind == "string":
        c = cmd("SET", "key:%d" % i, "value:%d" % i)
    elif kind == "string-ttl":
        # The same strings with TTLs spread over one to two hours, so none expires
        # while the figures are read.
        c = cmd("SET", "key:%d" % i, "value:%d" % i, "PX", 3600000 + i * 7919 % 3600000)
    elif kind == "hash":
        c = cmd("HSET", "hash:%d" % i, "name", "user%d" % i, "age", i % 90,
                "city", "city%d" % (i % 1000), "visits", i * 7 % 100000, "flag", "yes")
    elif kind == "set":
        c = cmd("SADD", "set:%d" % i, *["member:%d" % ((i + k) % 100000) for k in range(5)])
    elif kind == "zset":
        a = ["zadd", "zset:%d" % i]
        for k in range(5):
            a += [(i * 5 + k) % 100000, "member:%d" % ((i + k) % 100000)]
        c = cmd(*a)
    else:
        sys.exit("unknown kind " + kind)
    buf.append(c)
    if len(buf) >= 10000:
        out.write(b"".join(buf))
        buf = []
out.write(b"".join(buf))
PY
}

field() {
    redis-cli -p "$1" INFO memory | tr -d '\r' | awk -F: -v f="$2" '$1 == f { print $2 }'
}

echo "building the release binary..." >&2
cargo build --release --quiet --bin rust-cache-server
BIN=target/release/rust-cache-server

ROWS=()
for kind in $SETS; do
    gen "$kind" >"$WORK/$kind.resp"
    declare -A used rss
    for side in rcs redis; do
        port=$(free_port)
        if [[ $side == rcs ]]; then
            "$BIN" --port "$port" --bind 127.0.0.1 >"$WORK/$side.log" 2>&1 &
        else
            redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
                --dir "$WORK" >"$WORK/$side.log" 2>&1 &
        fi
        pid=$!
        PIDS+=("$pid")
        wait_ready "$port"
        base_used=$(field "$port" used_memory)
        base_rss=$(field "$port" used_memory_rss)
        redis-cli -p "$port" --pipe <"$WORK/$kind.resp" >"$WORK/pipe.out"
        grep -q "errors: 0" "$WORK/pipe.out" || {
            echo "loading $kind into $side failed:" >&2
            cat "$WORK/pipe.out" >&2
            exit 1
        }
        keys=$(redis-cli -p "$port" DBSIZE)
        [[ $keys == "$COUNT" ]] || { echo "$side has $keys keys, expected $COUNT" >&2; exit 1; }
        enc=$(redis-cli -p "$port" OBJECT ENCODING "$(redis-cli -p "$port" RANDOMKEY)")
        # The figures settle once the allocator's stats are refreshed (ours samples them
        # every 100 ms).
        sleep 0.5
        used[$side]=$(($(field "$port" used_memory) - base_used))
        rss[$side]=$(($(field "$port" used_memory_rss) - base_rss))
        echo "  $kind: $side used +${used[$side]} rss +${rss[$side]} ($enc)" >&2
        redis-cli -p "$port" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
        wait "$pid" 2>/dev/null || true
    done
    ROWS+=("$(awk -v k="$kind" -v n="$COUNT" -v ua="${used[rcs]}" -v ub="${used[redis]}" \
        -v ra="${rss[rcs]}" -v rb="${rss[redis]}" 'BEGIN {
        printf "| %s | %d | %.1f | %.1f | %.2f | %.1f | %.1f | %.2f |", k, n,
            ua / n, ub / n, ua / ub, ra / n, rb / n, ra / rb }')")
    unset used rss
    rm -f "$WORK/$kind.resp"
done

echo
echo "| data | keys | rcs used B/key | redis used B/key | ratio | rcs rss B/key | redis rss B/key | ratio |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
