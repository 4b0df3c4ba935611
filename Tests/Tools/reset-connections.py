#!/usr/bin/env python3
"""Connects to a coordinator COUNT times and resets each connection (SO_LINGER 0), as a port
scanner, `ssl.get_server_certificate` in a loop, or a worker killed mid-write does.

    reset-connections.py HOST PORT COUNT tls|h2

tls: completes a TLS handshake (ALPN h2), then resets: the server's next write (its HTTP/2
     settings, a session ticket) meets a reset socket.
h2:  sends the plain-text HTTP/2 preface and an empty SETTINGS frame, then resets.

Prints "reset N connections" and exits 0 if every connection was accepted; exits 1 at the first
connection that cannot be made (the server is gone).
"""
import socket
import ssl
import struct
import sys

host, port, count, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
context.set_alpn_protocols(["h2"])
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
RESET = struct.pack("ii", 1, 0)

for attempt in range(count):
    try:
        raw = socket.create_connection((host, port), timeout=30)
    except OSError as error:
        print(f"connection {attempt + 1} of {count} failed: {error}")
        sys.exit(1)
    try:
        if mode == "tls":
            sock = context.wrap_socket(raw, server_hostname="localhost")
        else:
            raw.sendall(PREFACE)
            sock = raw
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET)
        sock.close()
    except OSError:
        # The server may close a connection first (a limit, a deadline): still a connection made.
        raw.close()
print(f"reset {count} connections")
