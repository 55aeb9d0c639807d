#!/usr/bin/env python3
"""A pub/sub subscriber for scripts/bench.sh: subscribes to CHANNEL on 127.0.0.1:PORT,
prints "ready" once the subscription is confirmed, then counts `message` frames until it
has seen EXPECT of them or IDLE seconds pass without data, and prints the count.

Frames are counted by their `$7\r\nmessage\r\n` header in the raw stream (the payload the
bench publishes cannot contain it), so the reader does no RESP parsing and keeps up with a
server pushing millions of messages a second.
Usage: pubsub_subscriber.py PORT CHANNEL EXPECT [IDLE]"""
import socket
import sys


def main():
    port, channel, expect = int(sys.argv[1]), sys.argv[2].encode(), int(sys.argv[3])
    idle = float(sys.argv[4]) if len(sys.argv) > 4 else 10.0
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.sendall(b"*2\r\n$9\r\nSUBSCRIBE\r\n$%d\r\n%s\r\n" % (len(channel), channel))
    confirm = b"*3\r\n$9\r\nsubscribe\r\n"
    buf = b""
    while confirm not in buf:
        chunk = s.recv(65536)
        if not chunk:
            sys.exit("connection closed before the subscription was confirmed")
        buf += chunk
    print("ready", flush=True)
    marker = b"$7\r\nmessage\r\n"
    keep = len(marker) - 1
    tail = buf[buf.index(confirm) + len(confirm):]
    count = tail.count(marker)
    tail = tail[-keep:]
    s.settimeout(idle)
    while count < expect:
        try:
            chunk = s.recv(1 << 20)
        except socket.timeout:
            break
        if not chunk:
            break
        data = tail + chunk
        count += data.count(marker)
        tail = data[-keep:]
    print(count, flush=True)


if __name__ == "__main__":
    main()
