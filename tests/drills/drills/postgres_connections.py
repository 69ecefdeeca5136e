"""PostgreSQL connections exhausted: orders-api talks to the real PostgreSQL on 127.0.0.1:5432
as a role of its own (created here with CONNECTION LIMIT 12, dropped at the end; PostgreSQL's
config is not touched and other users keep their slots). A `nightly-export` process opens every
connection the role may have and holds them idle in a transaction; orders-api logs
"too many connections". The fix: terminate the role's idle sessions other than orders-api's."""
import os
import random
import subprocess

NAME = "postgres_connections"
TITLE = "the real PostgreSQL: the app role's connections held by a leaking export job"
PROMPT = "orders-api is failing, looks like database errors"
EXPECT = dict(component="postgres", action="kill-idle-db-sessions",
              cause=r"connection|pool|exhaust|too.many|slots|saturat|max.conn")
LIMIT = 12


def psql(sql):
    return subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
                          capture_output=True, text=True, timeout=20)


def setup(d):
    role = f"drill_orders_{random.randint(0, 1 << 30):x}"
    d.role = role
    r = psql(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT {LIMIT}")
    if r.returncode != 0:
        raise RuntimeError(f"cannot create role: {r.stderr}")

    def drop():
        for _ in range(10):
            psql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'")
            r = psql(f"DROP ROLE IF EXISTS {role}")
            if r.returncode == 0:
                return
            import time
            time.sleep(0.5)
        raise RuntimeError(f"could not drop role {role}: {r.stderr}")
    d.on_late_cleanup(drop, f"drop role {role} (and its sessions)")
    api, web = d.port("orders-api"), d.port("shop-web")
    d.start_svc("orders-api", api, fmt="logfmt", pg=f"127.0.0.1:5432:{role}:test", interval=0.5)
    d.start_svc("shop-web", web, fmt="json", dep=[f"orders-api=http://127.0.0.1:{api}/api/orders"], interval=1.0)
    d.service("postgres", process=r"^postgres|postgres:")
    d.service("orders-api", depends_on=["postgres"], process=r"svc\.py --name orders-api\b")
    d.service("shop-web", depends_on=["orders-api"], process=r"svc\.py --name shop-web\b")
    d.probe("postgres", address="127.0.0.1:5432")
    d.probe("orders-api", url=f"http://127.0.0.1:{api}/healthz")
    d.probe("shop-web", url=f"http://127.0.0.1:{web}/healthz")
    pglogs = [p for p in ("/var/log/postgresql/postgresql-15-main.log",) if os.access(p, os.R_OK)]
    if pglogs:
        d.logs("postgres", *pglogs)
    d.logs("orders-api")
    d.logs("shop-web")
    kill = d.script("kill-idle-db-sessions.sh", f"""#!/bin/bash
# terminate {role}'s sessions that are idle (in a transaction) and not orders-api's own
psql -h 127.0.0.1 -U postgres -d test -qAtc "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = '{role}' AND application_name <> 'orders-api' AND state LIKE 'idle%'"
""")
    d.action("kill-idle-db-sessions", "postgres", f"terminate idle database sessions of the application role {role} (frees connection slots)",
             "/bin/bash", [kill])
    d.action("restart-orders-api", "orders-api", "restart orders-api", "/bin/bash", [d.restart_script("orders-api")])


def inject(d):
    from run import APPS, PY
    d.spawn("nightly-export", [PY, os.path.join(APPS, "pghold.py"), "127.0.0.1", "5432", d.role, "test", str(LIMIT), "nightly-export"])


def fault_visible(d):
    r = psql(f"SELECT count(*) FROM pg_stat_activity WHERE usename = '{d.role}' AND application_name = 'nightly-export'")
    return r.stdout.strip() == str(LIMIT)


def fixed(d):
    import time
    time.sleep(2)
    from run import http_status
    return http_status(f"http://127.0.0.1:{d.port('orders-api')}/healthz") == 200
