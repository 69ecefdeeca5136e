#!/usr/bin/env python3
"""Opens N PostgreSQL connections (as USER) and holds them idle in transaction until killed
or until the server terminates them. pghold.py HOST PORT USER DB N APPNAME"""
import sys, time, os
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svc
host, port, user, db, n, app = sys.argv[1:7]
held = []
for i in range(int(n)):
    try:
        s = svc.pg_connect(host, port, user, db, app)
        svc.pg_query(s, "begin; select 1")
        held.append(s)
    except Exception as e:  # noqa
        print(f"connection {i}: {e}", flush=True)
        break
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
