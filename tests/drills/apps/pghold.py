#!/usr/bin/env python3
"""Opens N PostgreSQL connections (as USER) and holds them idle in transaction until killed
or until the server terminates them. pghold.py HOST PORT USER DB N APPNAME"""
import sys, time, os
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svc
host, port, user, db, n, app = sys.argv[1:7]
held = []
end = time.time() + 20
while len(held) < int(n) and time.time() < end:
    try:
        s = svc.pg_connect(host, port, user, db, app)
        svc.pg_query(s, "begin; select 1")
        held.append(s)
    except Exception as e:  # noqa
        print(f"connection {len(held)}: {e}", flush=True)
        time.sleep(0.05)
print(f"holding {len(held)} connections", flush=True)
while held:
    time.sleep(1)
    alive = []
    for s in held:
        try:
            svc.pg_query(s, "select 1")
            alive.append(s)
        except Exception:  # noqa
            pass
    held = alive
print("all connections gone, exiting", flush=True)
