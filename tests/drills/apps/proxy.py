#!/usr/bin/env python3
"""A TCP proxy that adds latency read from a file (milliseconds) to every chunk going back to the
client. Usage: proxy.py LISTEN_PORT TARGET_HOST:PORT DELAY_FILE LOG"""
import os, socket, sys, threading, time, datetime as dt

listen, target, delay_file, logf = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
th, tp = target.rsplit(":", 1)


def delay():
    try:
        return int(open(delay_file).read().strip() or 0) / 1000.0
    except (OSError, ValueError):
        return 0.0


def log(msg):
    with open(logf, "a") as f:
        f.write(f"{dt.datetime.now(dt.timezone.utc).isoformat(timespec='milliseconds')} INFO [catalog-lb] {msg}\n")


def pump(src, dst, slow):
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            if slow:
                d = delay()
                if d:
                    time.sleep(d)
            dst.sendall(b)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def handle(c):
    try:
        u = socket.create_connection((th, int(tp)), timeout=5)
        u.settimeout(None)
    except OSError as e:
        log(f"upstream {target} unreachable: {e}")
        c.close()
        return
    threading.Thread(target=pump, args=(c, u, False), daemon=True).start()
    pump(u, c, True)
    c.close(); u.close()


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", listen))
s.listen(128)
log(f"proxy listening on {listen} -> {target}")
while True:
    c, _ = s.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
