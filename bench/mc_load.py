#!/usr/bin/env python3
"""Pipe memcached text-protocol commands from stdin to a server on loopback.

Usage: mc_load.py PORT < commands   (each "set KEY 0 0 LEN noreply" + value)
Sends everything, then waits for the reply to a final "version" so that
every command has been processed; prints the server's item count, bytes and evictions.
"""
import socket
import sys

port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port))
while True:
    chunk = sys.stdin.buffer.read(1 << 20)
    if not chunk:
        break
    s.sendall(chunk)
s.sendall(b"stats\r\n")
buf = b""
while not buf.endswith(b"END\r\n"):
    data = s.recv(65536)
    if not data:
        break
    buf += data
for line in buf.decode().splitlines():
    f = line.split()
    if len(f) == 3 and f[1] in ("curr_items", "evictions", "bytes"):
        print(f"{f[1]}={f[2]}", end=" ")
print()
s.close()
