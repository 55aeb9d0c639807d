# Helpers shared by the measuring scripts (bench.sh, memory.sh, expiry.sh, hitratio.sh):
# sourced, not run.

# Prints a TCP port that is free on 127.0.0.1 right now.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_ready PORT [PID LOG]: waits (up to 10 s) until a server answers PING on PORT; with
# PID, stops early with the server's LOG if the process died at startup.
wait_ready() {
    local port=$1 pid=${2:-} log=${3:-} i
    for i in $(seq 1 100); do
        if [[ $(redis-cli -p "$port" PING 2>/dev/null || true) == PONG ]]; then
            return 0
        fi
        if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
            echo "the server on port $port exited at startup; its log:" >&2
            [[ -n $log ]] && cat "$log" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "no server answered PING on port $port" >&2
    exit 1
}
