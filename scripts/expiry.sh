#!/usr/bin/env bash
# Expiry at scale, against redis-server: COUNT keys whose deadlines are spread over
# SPREAD_MS, collected while a GET/SET load runs.
#
# For each server (pinned to core 0; every client pinned to core 1):
#   1. baseline: COUNT keys with far deadlines are loaded (redis-cli --pipe), then
#      redis-benchmark GET/SET (db 1, 10k keys) gives p99 latencies without expiry, over
#      as many requests as the wave's run (enough to span the wave, from a first short
#      run);
#   2. the keys are flushed and COUNT keys are loaded with `SET key:N value:N PXAT d`,
#      the deadlines d spread evenly over SPREAD_MS starting a few seconds after the load
#      (PXAT rather than PX so the watcher knows every deadline exactly);
#   3. during the wave the same benchmark runs again while a watcher reads INFO keyspace
#      every ~20 ms: the keys with a TTL still there (`expires`) may never exceed the
#      keys whose deadline is less than 100 ms old. "excess" is the largest overshoot
#      (must be 0); "late" is the worst lateness the counts prove: with R keys left, one
#      of them has a deadline at or before the R-th largest, so it is at least that late;
#   4. afterwards: expired_keys (must be COUNT), used_memory before the wave's load (the
#      benchmark's 10k keys in db 1 included) / loaded / after the wave, and RSS of the
#      fresh server / loaded / right after the wave / after waiting up to RSS_WAIT s for
#      the allocator to return pages.
#
# Usage: scripts/expiry.sh                      (COUNT=1000000 SPREAD_MS=10000)
#        COUNT=200000 SERVERS=rcs scripts/expiry.sh
#        SAME_DEADLINE=1 scripts/expiry.sh      (every key on one deadline: mass expiry)
#        ROUNDS=3 scripts/expiry.sh             (median p99 ratios over alternating rounds)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

COUNT=${COUNT:-1000000}
SPREAD_MS=${SPREAD_MS:-10000}
SERVERS=${SERVERS:-rcs redis}
SAME_DEADLINE=${SAME_DEADLINE:-0}
CLIENTS=${CLIENTS:-50}
RSS_WAIT=${RSS_WAIT:-20}
# Rounds, each a fresh pair of servers, alternating (the p99 figures are noisy).
ROUNDS=${ROUNDS:-1}
# Time between generating the deadlines and the first of them, to cover generating and
# loading: by default twice what the baseline's took, plus 4 s (a busy machine is slow).
LEAD_MS=${LEAD_MS:-}

for tool in redis-server redis-cli redis-benchmark python3 taskset; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "expiry.sh needs $tool (scripts/test.sh installs the redis tools)" >&2
        exit 1
    }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rcs-expiry.XXXXXX")
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

cat >"$WORK/helper.py" <<'PY'
import bisect, socket, sys, time

def now_ms():
    return int(time.time() * 1000)

def cmd(*args):
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(parts)

def gen(count, spread, lead, same, out, deadlines_out):
    """SET key:N value:N PXAT d for N < count; deadlines from now+lead over spread ms."""
    t0 = now_ms() + lead
    ds = []
    with open(out, "wb") as f:
        buf = []
        for i in range(count):
            # A stride coprime with count visits the spread in scrambled key order.
            d = t0 if same else t0 + (i * 7919 % count) * spread // count
            ds.append(d)
            buf.append(cmd("SET", "key:%d" % i, "value:%d" % i, "PXAT", d))
            if len(buf) >= 10000:
                f.write(b"".join(buf))
                buf = []
        f.write(b"".join(buf))
    ds.sort()
    with open(deadlines_out, "w") as f:
        f.write("\n".join(map(str, ds)))

class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def bulk(self, *args):
        self.s.sendall(cmd(*args))
        while b"\r\n" not in self.buf:
            self.buf += self.s.recv(65536)
        head, rest = self.buf.split(b"\r\n", 1)
        n = int(head[1:])
        while len(rest) < n + 2:
            rest += self.s.recv(65536)
        self.buf = rest[n + 2:]
        return rest[:n].decode()

def expires_of(info):
    for line in info.split("\r\n"):
        if line.startswith("db0:"):
            fields = dict(kv.split("=") for kv in line[4:].split(","))
            return int(fields["expires"])
    return 0

def watch(port, deadlines_file, bound_ms, give_up_ms):
    """Samples INFO keyspace every ~20 ms until every key with a TTL is gone."""
    ds = [int(x) for x in open(deadlines_file).read().split()]
    count, last = len(ds), ds[-1]
    c = Conn(port)
    excess = late = 0
    samples = 0
    gone_at = None
    while True:
        sent = now_ms()
        e = expires_of(c.bulk("INFO", "keyspace"))
        samples += 1
        allowed = count - bisect.bisect_right(ds, sent - bound_ms)
        excess = max(excess, e - allowed)
        if 0 < e <= count:
            late = max(late, sent - ds[count - e])
        if e == 0 and sent >= last:
            gone_at = now_ms()
            break
        if sent > last + give_up_ms:
            break
        time.sleep(max(0.0, 0.02 - (now_ms() - sent) / 1000))
    left = "-" if gone_at is None else str(gone_at - last)
    print("excess=%d late=%d gone_after_last=%s samples=%d" % (excess, max(late, 0), left, samples))

if __name__ == "__main__":
    what = sys.argv[1]
    if what == "gen":
        gen(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1",
            sys.argv[6], sys.argv[7])
    elif what == "first":
        print(open(sys.argv[2]).readline().strip())
    elif what == "watch":
        watch(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
PY



info() { # info PORT SECTION FIELD
    redis-cli -p "$1" INFO "$2" | tr -d '\r' | awk -F: -v f="$3" '$1 == f { print $2 }'
}

load() { # load PORT FILE
    taskset -c 1 redis-cli -p "$1" --pipe <"$2" >"$WORK/pipe.out"
    grep -q "errors: 0" "$WORK/pipe.out" || {
        echo "loading $2 failed:" >&2
        cat "$WORK/pipe.out" >&2
        exit 1
    }
}

bench() { # bench PORT N -> "get_p99 set_p99 get_rps set_rps"
    taskset -c 1 redis-benchmark -p "$1" -c "$CLIENTS" -n "$2" -r 10000 --dbnum 1 \
        -t get,set --csv 2>/dev/null | tr -d '"' | awk -F, '
        $1 == "SET" { sp = $7; sr = $2 } $1 == "GET" { gp = $7; gr = $2 }
        END { print gp, sp, gr, sr }'
}

mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

echo "building the release binary..." >&2
cargo build --release --quiet --bin rust-cache-server
BIN=target/release/rust-cache-server

echo "generating the baseline data set (far deadlines)..." >&2
gen_started=$(date +%s%3N)
python3 "$WORK/helper.py" gen "$COUNT" "$SPREAD_MS" 3600000 0 "$WORK/far.resp" "$WORK/far.txt"
gen_ms=$(($(date +%s%3N) - gen_started))

ROWS=()
RATIOS=()
for round in $(seq 1 "$ROUNDS"); do
for side in $SERVERS; do
    port=$(free_port)
    if [[ $side == rcs ]]; then
        taskset -c 0 "$BIN" --port "$port" --bind 127.0.0.1 --threads 1 >"$WORK/$side.log" 2>&1 &
    else
        taskset -c 0 redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
            --dir "$WORK" >"$WORK/$side.log" 2>&1 &
    fi
    pid=$!
    PIDS+=("$pid")
    wait_ready "$port"
    rss_start=$(info "$port" memory used_memory_rss)

    # 1. Baseline latency, the same keys loaded but none expiring.
    started=$(date +%s%3N)
    load "$port" "$WORK/far.resp"
    lead=${LEAD_MS:-$((2 * ($(date +%s%3N) - started) + 2 * gen_ms + 4000))}
    if [[ -z ${n:-} ]]; then
        # Enough requests for GET and SET to span the wave, from a first short run; the
        # same for every run after, so each p99 is over as many requests (a longer run
        # meets more of a shared machine's hiccups).
        read -r gp sp gr sr <<<"$(bench "$port" 100000)"
        n=$(awk -v g="$gr" -v s="$sr" -v ms="$SPREAD_MS" 'BEGIN { printf "%d", (ms / 1000 + 2) / (1 / g + 1 / s) }')
    fi
    read -r gp sp gr sr <<<"$(bench "$port" "$n")"
    base_get=$gp base_set=$sp
    echo "  $side: baseline p99 GET $gp ms SET $sp ms (rps $gr / $sr, -n $n)" >&2
    redis-cli -p "$port" FLUSHDB >/dev/null
    sleep 1
    used_before=$(info "$port" memory used_memory)

    # 2. The wave.
    python3 "$WORK/helper.py" gen "$COUNT" "$SPREAD_MS" "$lead" "$SAME_DEADLINE" \
        "$WORK/wave.resp" "$WORK/wave.txt"
    load "$port" "$WORK/wave.resp"
    first=$(python3 "$WORK/helper.py" first "$WORK/wave.txt")
    now=$(date +%s%3N)
    if ((now > first - 1000)); then
        echo "loading took too long: the wave started already (raise LEAD_MS)" >&2
        exit 1
    fi
    used_loaded=$(info "$port" memory used_memory)
    rss_loaded=$(info "$port" memory used_memory_rss)
    sleep "$(awk -v d=$((first - now - 1000)) 'BEGIN { print d / 1000 }')"

    # 3. Watcher and load side by side through the wave.
    taskset -c 1 python3 "$WORK/helper.py" watch "$port" "$WORK/wave.txt" 100 30000 \
        >"$WORK/watch.out" &
    watcher=$!
    read -r gp sp gr sr <<<"$(bench "$port" "$n")"
    wait "$watcher"
    read -r excess late gone samples <<<"$(sed 's/[a-z_]*=//g' "$WORK/watch.out")"
    echo "  $side: wave p99 GET $gp ms SET $sp ms; excess $excess late $late ms, last key gone $gone ms after the last deadline ($samples samples)" >&2

    # 4. Counters and memory.
    expired=$(info "$port" stats expired_keys)
    sleep 0.5
    used_after=$(info "$port" memory used_memory)
    rss_after=$(info "$port" memory used_memory_rss)
    rss_settled=$rss_after
    for _ in $(seq 1 "$RSS_WAIT"); do
        rss_settled=$(info "$port" memory used_memory_rss)
        ((rss_settled < rss_start + (rss_loaded - rss_start) / 10)) && break
        sleep 1
    done
    ROWS+=("$(awk -v s="$side" -v r="$round" -v c="$COUNT" -v ex="$excess" -v l="$late" -v g="$gone" \
        -v e="$expired" -v ub="$used_before" -v ul="$used_loaded" -v ua="$used_after" \
        -v rb="$rss_start" -v rl="$rss_loaded" -v ra="$rss_after" -v rs="$rss_settled" \
        -v bg="$base_get" -v wg="$gp" -v bs="$base_set" -v ws="$sp" 'BEGIN {
        m = 1048576
        printf "| %s | %s | %d | %s | %s | %s | %d | %.1f / %.1f / %.1f | %.1f / %.1f / %.1f / %.1f | %.3f / %.3f (%.2fx) | %.3f / %.3f (%.2fx) |",
            s, r, c, ex, l, g, e, ub / m, ul / m, ua / m, rb / m, rl / m, ra / m, rs / m,
            bg, wg, wg / bg, bs, ws, ws / bs }')")
    RATIOS+=("$side $(awk -v a="$base_get" -v b="$gp" -v c="$base_set" -v d="$sp" 'BEGIN { print b / a, d / c }')")
    redis-cli -p "$port" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
    wait "$pid" 2>/dev/null || true
done
done

echo
echo "COUNT=$COUNT SPREAD_MS=$SPREAD_MS SAME_DEADLINE=$SAME_DEADLINE CLIENTS=$CLIENTS"
echo "| server | round | keys | excess | worst late ms | last gone ms | expired_keys | used MB before / loaded / after | rss MB start / loaded / after / settled | p99 GET ms base / wave | p99 SET ms base / wave |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
echo
echo "p99 wave / base, median over $ROUNDS round(s):"
for side in $SERVERS; do
    printf '%s\n' "${RATIOS[@]}" | awk -v s="$side" '$1 == s { g[n + 0] = $2 + 0; t[n + 0] = $3 + 0; n++ }
        function med(a, n,   i, j, x) {
            for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (a[j] < a[i]) { x = a[i]; a[i] = a[j]; a[j] = x }
            return n % 2 ? a[int(n / 2)] : (a[n / 2 - 1] + a[n / 2]) / 2 }
        END { if (n) printf "  %s: GET %.2fx SET %.2fx\n", s, med(g, n), med(t, n) }'
done
