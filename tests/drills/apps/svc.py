#!/usr/bin/env python3
"""A small but real HTTP service for the drills (stdlib only).

It serves /healthz and /api, writes its own log file in one of several formats, and can:
  --dep NAME=URL     call a dependency (background poller every --interval s and on /api)
  --cafile F         trust this CA/cert for https dependencies
  --tls-cert/--tls-key  serve https
  --config F         read a JSON config at start (bad values make every request fail)
  --data-dir D       append a record per request there (ENOSPC makes it unhealthy)
  --pg HOST:PORT:USER:DB  run a query per poll on PostgreSQL (minimal wire client)
  --auth URL         fetch a token from an auth service and check its issue time
  /api?size=KB       caches a KB thumbnail per request (forever, unless --cache-cap-file holds a cap in MB)
  --work-ms N        burn N ms of CPU per unit of work
  --skew-file F      (auth service) add the seconds in F to the clock it stamps tokens with
  --upstream-file F  read the dependency URL from F before every call (failover target)
The process title carries --name so `process` regexes can find it.
"""
import argparse
import datetime as dt
import http.client
import json
import os
import random
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

A = None
LOG_LOCK = threading.Lock()
STATE = {"recent": [], "config_error": None, "disk_error": None, "cache": [], "polls": 0}


def now_iso():
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def log(level, msg, **kv):
    fmt = A.fmt
    if fmt == "json":
        rec = {"ts": now_iso(), "level": level, "service": A.name, "msg": msg}
        rec.update(kv)
        line = json.dumps(rec)
    elif fmt == "logfmt":
        extra = " ".join(f"{k}={json.dumps(v) if isinstance(v, str) and ' ' in v else v}" for k, v in kv.items())
        line = f'ts={now_iso()} level={level} service={A.name} msg={json.dumps(msg)}' + (" " + extra if extra else "")
    else:  # text
        extra = " ".join(f"{k}={v}" for k, v in kv.items())
        line = f"{now_iso()} {level.upper():5} [{A.name}] {msg}" + (" " + extra if extra else "")
    with LOG_LOCK:
        try:
            with open(A.log, "a") as f:
                f.write(line + "\n")
        except OSError as e:
            STATE["disk_error"] = f"cannot write log: {e}"


# ---------------------------------------------------------------- PostgreSQL (wire protocol v3)
class PgError(Exception):
    pass


def pg_msg(sock):
    head = b""
    while len(head) < 5:
        chunk = sock.recv(5 - len(head))
        if not chunk:
            raise PgError("server closed the connection unexpectedly")
        head += chunk
    typ, ln = head[:1], struct.unpack("!I", head[1:])[0]
    body = b""
    while len(body) < ln - 4:
        chunk = sock.recv(ln - 4 - len(body))
        if not chunk:
            raise PgError("server closed the connection unexpectedly")
        body += chunk
    return typ, body


def pg_error_text(body):
    fields = {}
    for part in body.split(b"\0"):
        if part:
            fields[chr(part[0])] = part[1:].decode(errors="replace")
    return f"{fields.get('S', 'ERROR')}: {fields.get('M', '?')}"


def pg_connect(host, port, user, db, appname, timeout=3.0):
    s = socket.create_connection((host, int(port)), timeout=timeout)
    params = b"user\0" + user.encode() + b"\0database\0" + db.encode() + b"\0application_name\0" + appname.encode() + b"\0\0"
    s.sendall(struct.pack("!II", 8 + len(params), 196608) + params)
    while True:
        typ, body = pg_msg(s)
        if typ == b"E":
            s.close()
            raise PgError(pg_error_text(body))
        if typ == b"R" and struct.unpack("!I", body[:4])[0] != 0:
            s.close()
            raise PgError("password authentication required")
        if typ == b"Z":
            return s


def pg_query(s, sql):
    q = sql.encode() + b"\0"
    s.sendall(b"Q" + struct.pack("!I", 4 + len(q)) + q)
    err = None
    rows = []
    while True:
        typ, body = pg_msg(s)
        if typ == b"E":
            err = pg_error_text(body)
        elif typ == b"D":
            rows.append(body)
        elif typ == b"Z":
            if err:
                raise PgError(err)
            return rows


# ---------------------------------------------------------------- dependencies
def dep_url(name, url):
    if A.upstream_file and os.path.exists(A.upstream_file):
        try:
            return open(A.upstream_file).read().strip() or url
        except OSError:
            pass
    return url


def ssl_ctx():
    ctx = ssl.create_default_context(cafile=A.cafile) if A.cafile else ssl.create_default_context()
    return ctx


def call_dep(name, url):
    url = dep_url(name, url)
    t0 = time.monotonic()
    try:
        req = urllib.request.Request(url, headers={"User-Agent": f"{A.name}/1.4"})
        if A.token_from:
            tok = get_token()
            req.add_header("Authorization", f"Bearer {tok}")
        with urllib.request.urlopen(req, timeout=A.timeout, context=ssl_ctx() if url.startswith("https") else None) as r:
            r.read()
            code = r.status
        ms = int((time.monotonic() - t0) * 1000)
        if ms > A.slow_ms:
            log("warn", f"slow response from {name}", upstream=url, duration_ms=ms, status=code)
        else:
            log("info", f"call to {name} ok", upstream=url, duration_ms=ms, status=code)
        return True, ms
    except urllib.error.HTTPError as e:
        ms = int((time.monotonic() - t0) * 1000)
        body = e.read()[:200].decode(errors="replace")
        log("error", f"call to {name} failed: HTTP {e.code} {body}", upstream=url, duration_ms=ms, status=e.code)
    except urllib.error.URLError as e:
        ms = int((time.monotonic() - t0) * 1000)
        reason = e.reason
        if isinstance(reason, ssl.SSLCertVerificationError):
            log("error", f"call to {name} failed: TLS handshake error: {reason.verify_message} ({reason})", upstream=url, duration_ms=ms)
        elif isinstance(reason, (socket.timeout, TimeoutError)):
            log("error", f"call to {name} failed: timed out after {A.timeout}s", upstream=url, duration_ms=ms)
        else:
            log("error", f"call to {name} failed: {reason}", upstream=url, duration_ms=ms)
    except (socket.timeout, TimeoutError):
        ms = int((time.monotonic() - t0) * 1000)
        log("error", f"call to {name} failed: read timed out after {A.timeout}s", upstream=url, duration_ms=ms)
    except Exception as e:  # noqa
        ms = int((time.monotonic() - t0) * 1000)
        log("error", f"call to {name} failed: {type(e).__name__}: {e}", upstream=url, duration_ms=ms)
    return False, int((time.monotonic() - t0) * 1000)


def get_token():
    with urllib.request.urlopen(A.token_from, timeout=A.timeout) as r:
        return json.loads(r.read())["token"]


def pg_poll():
    host, port, user, db = A.pg.split(":")
    t0 = time.monotonic()
    try:
        s = pg_connect(host, port, user, db, A.name)
        try:
            rows = pg_query(s, "select count(*) from pg_stat_activity")
        finally:
            try:
                s.sendall(b"X\0\0\0\4")
            except OSError:
                pass
            s.close()
        ms = int((time.monotonic() - t0) * 1000)
        log("info", "GET /orders 200 db query ok", duration_ms=ms, db=f"{host}:{port}/{db}")
        return True, ms
    except PgError as e:
        ms = int((time.monotonic() - t0) * 1000)
        log("error", f"GET /orders 500 could not get a database connection: {e}", duration_ms=ms, db=f"{host}:{port}/{db}")
    except (socket.timeout, TimeoutError):
        ms = int((time.monotonic() - t0) * 1000)
        log("error", "GET /orders 500 timeout acquiring database connection", duration_ms=ms)
    except OSError as e:
        ms = int((time.monotonic() - t0) * 1000)
        log("error", f"GET /orders 500 database unreachable: {e}", duration_ms=ms)
    return False, int((time.monotonic() - t0) * 1000)


def record(ok, ms):
    STATE["recent"] = (STATE["recent"] + [(ok, ms)])[-8:]


def do_work(leak_kb=0):
    """One unit of the service's own work (what /api does)."""
    if A.work_ms:
        end = time.perf_counter() + A.work_ms / 1000.0
        x = 0
        while time.perf_counter() < end:
            x += 1
    if STATE["config_error"]:
        log("error", f"request failed: {STATE['config_error']}", path="/api", status=500)
        return False, 0
    if A.data_dir:
        try:
            with open(os.path.join(A.data_dir, "orders.jsonl"), "a") as f:
                f.write(json.dumps({"at": now_iso(), "order": random.randint(1, 10**9), "pad": "x" * 512}) + "\n")
            STATE["disk_error"] = None
        except OSError as e:
            STATE["disk_error"] = str(e)
            log("error", f"failed to persist order: {e}", path=A.data_dir, status=500)
            return False, 0
    if leak_kb:
        try:
            buf = bytearray(leak_kb * 1024)
            for i in range(0, len(buf), 4096):
                buf[i] = 1  # touch every page: resident, not just reserved
            STATE["cache"].append(buf)
        except MemoryError:
            log("error", "MemoryError: cannot allocate thumbnail buffer, exiting")
            os._exit(1)
        cap = None
        if A.cache_cap_file and os.path.exists(A.cache_cap_file):
            cap = int(open(A.cache_cap_file).read().strip() or 0)
        mb = sum(len(b) for b in STATE["cache"]) // (1 << 20)
        if cap is not None:
            while STATE["cache"] and mb > cap:
                mb -= len(STATE["cache"].pop(0)) >> 20
        elif mb // 16 != (mb - leak_kb // 1024) // 16:
            log("warn", f"thumbnail cache grew to {mb} MB (entries={len(STATE['cache'])}, no eviction)")
    return True, 0


def poller():
    while True:
        t0 = time.monotonic()
        STATE["polls"] += 1
        ok_all, ms_max = True, 0
        ok, _ = do_work()
        ok_all &= ok
        for name, url in A.dep:
            ok, ms = call_dep(name, url)
            ok_all &= ok
            ms_max = max(ms_max, ms)
        if A.pg:
            ok, ms = pg_poll()
            ok_all &= ok
            ms_max = max(ms_max, ms)
        record(ok_all, ms_max)
        time.sleep(max(0.05, A.interval - (time.monotonic() - t0)))


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        t0 = time.monotonic()
        path = self.path.split("?")[0]
        if path == "/healthz":
            bad = [ok for ok, _ in STATE["recent"][-4:] if not ok]
            problems = []
            if STATE["config_error"]:
                problems.append(STATE["config_error"])
            if STATE["disk_error"]:
                problems.append(STATE["disk_error"])
            if len(bad) >= 2:
                problems.append(f"{len(bad)} of the last 4 calls failed")
            code = 503 if problems else 200
            self.reply(code, {"status": "fail" if problems else "ok", "problems": problems})
        elif path == "/token":
            skew = 0
            if A.skew_file and os.path.exists(A.skew_file):
                skew = int(open(A.skew_file).read().strip() or 0)
            self.reply(200, {"token": f"tok.{int(time.time()) + skew}.{random.randint(0, 1 << 30):x}", "iat": int(time.time()) + skew})
        else:
            if self.headers.get("Authorization", "").startswith("Bearer tok."):
                iat = int(self.headers["Authorization"].split(".")[1])
                drift = iat - int(time.time())
                if drift > 30:
                    log("warn", f"rejected request: token iat is {drift}s in the future (not yet valid)", path=path, status=401)
                    self.reply(401, {"error": "token not yet valid"})
                    return
            leak = 0
            if "size=" in self.path:
                leak = int(self.path.split("size=")[1].split("&")[0] or 0)
            ok, _ = do_work(leak)
            if not ok:
                self.reply(500, {"error": STATE["config_error"] or STATE["disk_error"] or "failed"})
                return
            ms = int((time.monotonic() - t0) * 1000)
            log("info", f'{self.command} {path} 200', status=200, duration_ms=ms, client=self.client_address[0])
            self.reply(200, {"ok": True, "service": A.name})


def load_config():
    if not A.config:
        return
    try:
        cfg = json.load(open(A.config))
        mode = cfg.get("pricing_mode", "standard")
        if mode not in ("standard", "promo"):
            raise ValueError(f"unknown pricing_mode {mode!r} in {A.config}")
        workers = int(cfg.get("workers", 4))
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers} in {A.config}")
        log("info", f"config loaded from {A.config}", pricing_mode=mode, workers=workers)
    except Exception as e:  # noqa
        STATE["config_error"] = f"invalid configuration: {type(e).__name__}: {e}"
        log("error", f"failed to apply configuration: {e}")


def main():
    global A
    p = argparse.ArgumentParser()
    p.add_argument("--name", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--fmt", default="text", choices=["text", "json", "logfmt"])
    p.add_argument("--dep", action="append", default=[], type=lambda s: tuple(s.split("=", 1)))
    p.add_argument("--cafile")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--config")
    p.add_argument("--data-dir")
    p.add_argument("--pg")
    p.add_argument("--token-from")
    p.add_argument("--skew-file")
    p.add_argument("--upstream-file")
    p.add_argument("--cache-cap-file")
    p.add_argument("--work-ms", type=float, default=0)
    p.add_argument("--interval", type=float, default=0.5)
    p.add_argument("--timeout", type=float, default=2.0)
    p.add_argument("--slow-ms", type=int, default=500)
    p.add_argument("--pidfile")
    p.add_argument("--no-poll", action="store_true")
    A = p.parse_args()
    if A.pidfile:
        open(A.pidfile, "w").write(str(os.getpid()))
    signal.signal(signal.SIGTERM, lambda *_: (log("info", "received SIGTERM, shutting down"), os._exit(0)))
    load_config()
    srv = ThreadingHTTPServer(("127.0.0.1", A.port), H)
    srv.daemon_threads = True
    if A.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(A.tls_cert, A.tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    log("info", f"{A.name} listening on 127.0.0.1:{A.port}", pid=os.getpid(), tls=bool(A.tls_cert))
    if not A.no_poll:
        threading.Thread(target=poller, daemon=True).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
