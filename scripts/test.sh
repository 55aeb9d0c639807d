#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian machine with Rust: installs redis-server and
# redis-tools (the differential oracle and the CLI smoke tests need them) when missing,
# makes sure no system redis service is left running, then formatting, lints and tests.
# Usage: scripts/test.sh [extra cargo test args]   (CI: .ci/run)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export DEBIAN_FRONTEND=noninteractive

declare -a STEP_NAMES=() STEP_RESULTS=() STEP_TIMES=()
START_ALL=$SECONDS

summary() {
    local rc=$?
    echo
    echo "==================== test.sh summary ===================="
    local i
    for i in "${!STEP_NAMES[@]}"; do
        printf '  %-34s %-6s %4ss\n' "${STEP_NAMES[$i]}" "${STEP_RESULTS[$i]}" "${STEP_TIMES[$i]}"
    done
    printf '  %-34s %-6s %4ss\n' "total" "$([[ $rc -eq 0 ]] && echo PASS || echo FAIL)" "$((SECONDS - START_ALL))"
    echo "========================================================="
    # The closing line: totals over every test binary, for readers of the last line.
    if [[ -n ${TEST_LOG:-} && -f $TEST_LOG ]]; then
        totals
    fi
    exit "$rc"
}
trap summary EXIT

# step NAME CMD...: runs CMD, records the result and the time it took; stops at a failure.
step() {
    local name=$1
    shift
    echo
    echo "---- $name: $*"
    local t0=$SECONDS rc=0
    "$@" || rc=$?
    STEP_NAMES+=("$name")
    STEP_TIMES+=("$((SECONDS - t0))")
    if [[ $rc -eq 0 ]]; then
        STEP_RESULTS+=("ok")
    else
        STEP_RESULTS+=("FAIL")
        echo "---- $name failed (exit $rc)" >&2
        exit "$rc"
    fi
}

as_root() {
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        echo "need root (or sudo) to run: $*" >&2
        return 1
    fi
}

install_redis() {
    local missing=() tool
    for tool in redis-server redis-cli redis-benchmark; do
        command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
    done
    if [[ ${#missing[@]} -gt 0 ]]; then
        echo "missing: ${missing[*]}: installing redis-server redis-tools"
        as_root apt-get update || return 1
        as_root apt-get install -y --no-install-recommends redis-server redis-tools || return 1
    fi
    for tool in redis-server redis-cli redis-benchmark; do
        command -v "$tool" >/dev/null 2>&1 || {
            echo "$tool still missing after apt-get install" >&2
            return 1
        }
    done
    redis-server --version
}

# Debian's package starts a redis-server on 6379 (through systemd, or its init script,
# which writes /run/redis/redis-server.pid). The tests start their own on ephemeral ports;
# a stray system one would only skew benchmarks. Only that service is touched: other
# redis-server processes on the machine (someone's oracle) are left alone.
stop_system_redis() {
    if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
        if systemctl is-active --quiet redis-server 2>/dev/null; then
            echo "stopping the redis-server systemd service"
            as_root systemctl stop redis-server || true
        fi
    fi
    local pidfile pid
    for pidfile in /run/redis/redis-server.pid /var/run/redis/redis-server.pid; do
        [[ -s $pidfile ]] || continue
        pid=$(cat "$pidfile" 2>/dev/null || true)
        [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || continue
        echo "stopping the system redis-server (pid $pid from $pidfile)"
        if command -v service >/dev/null 2>&1; then
            as_root service redis-server stop >/dev/null 2>&1 || true
        fi
        local waited=0
        while kill -0 "$pid" 2>/dev/null && [[ $waited -lt 50 ]]; do
            [[ $waited -eq 10 ]] && { as_root kill "$pid" 2>/dev/null || true; }
            sleep 0.1
            waited=$((waited + 1))
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "system redis-server (pid $pid) did not stop" >&2
            return 1
        fi
    done
    echo "no system redis service running"
}

step "install redis-server/redis-tools" install_redis
step "stop system redis service" stop_system_redis
step "cargo fmt --check" cargo fmt --all -- --check
step "cargo clippy -D warnings" cargo clippy --all-targets -- -D warnings
# --no-fail-fast: one failing test binary should not hide the others' results. The output
# is also kept so the totals over every test binary can be printed as the closing line.
TEST_LOG=$(mktemp "${TMPDIR:-/tmp}/rcs-test.XXXXXX")
run_tests() {
    cargo test --no-fail-fast "$@" 2>&1 | tee "$TEST_LOG"
    return "${PIPESTATUS[0]}"
}
totals() {
    awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
         END { printf "tests: %d passed, %d failed\n", p, f }' "$TEST_LOG"
    rm -f "$TEST_LOG"
}
step "cargo test" run_tests "$@"
