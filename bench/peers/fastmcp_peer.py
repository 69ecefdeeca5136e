#!/usr/bin/env python3
"""Benchmark peer: the seed's monitoring server, rebuilt on its original stack.

This is the Python original that opsmcp replaces, kept only so `bench/run.sh`
can measure both side by side on the same machine with the same load generator.
It follows the seed's FastMCP pattern exactly:

    from mcp.server.fastmcp import FastMCP
    @mcp.tool() ... return json.dumps(result)
    mcp.run(transport="streamable-http")

with `mcp==1.30.*` (the seed's `mcp<2`) and psutil for the host data. Differences
from the seed, all needed to benchmark it:
  * host is 127.0.0.1 (the seed bound 0.0.0.0); port comes from `--port`.
    With a loopback host FastMCP 1.30 turns on its DNS-rebinding guard
    (Host must be 127.0.0.1:*/localhost:*/[::1]:*), which our load generator
    satisfies.
  * a `GET /health` custom route, so cold start can be timed to first health.

Everything a tool returns is read from this host at call time; nothing is faked.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import threading
import time
from collections import Counter, deque

import psutil
from mcp.server.fastmcp import FastMCP
from starlette.requests import Request
from starlette.responses import JSONResponse

# Thresholds used by verify_health / root_cause_analysis (percent).
CPU_WARN, CPU_CRIT = 80.0, 95.0
MEM_WARN, MEM_CRIT = 85.0, 95.0
DISK_WARN, DISK_CRIT = 85.0, 95.0
SWAP_WARN = 50.0

DEFAULT_LOGS = ("/var/log/syslog", "/var/log/messages", "/var/log/dpkg.log")
LEVEL_RE = re.compile(r"\b(FATAL|CRITICAL|ERROR|WARN(?:ING)?|INFO|DEBUG)\b", re.IGNORECASE)
NUM_RE = re.compile(r"\b(?:0x[0-9a-f]+|\d+(?:\.\d+)*)\b", re.IGNORECASE)

STARTED = time.time()


def _parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=9001)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--log-level", default="INFO",
                   help="FastMCP/uvicorn log level (the seed ran with the default, INFO)")
    p.add_argument("--snapshot-interval", type=float, default=0.0,
                   help="if > 0, a background thread samples the host every N seconds and "
                        "get_system_metrics returns the latest sample (not the seed's behaviour, "
                        "which reads the host on every call; this is for a like-for-like "
                        "comparison with a server that samples in the background)")
    return p.parse_args()


ARGS = _parse_args()
mcp = FastMCP("monitoring-analysis", host=ARGS.host, port=ARGS.port, log_level=ARGS.log_level)


# --------------------------------------------------------------------------- host data

def _collect_metrics(with_processes: bool = True) -> dict:
    """Read this host's metrics with psutil (non-blocking: CPU percentages are
    measured since the previous call, as psutil does with interval=None).
    The process table is most of the cost (~10 ms for ~100 processes here);
    `with_processes=False` skips it for callers that only need host totals."""
    vm = psutil.virtual_memory()
    sw = psutil.swap_memory()

    disks = []
    for part in psutil.disk_partitions(all=False):
        try:
            u = psutil.disk_usage(part.mountpoint)
        except (PermissionError, OSError):
            continue
        disks.append({
            "mount": part.mountpoint, "device": part.device, "fstype": part.fstype,
            "total_bytes": u.total, "used_bytes": u.used, "free_bytes": u.free,
            "percent": u.percent,
        })

    nets = {}
    for name, c in psutil.net_io_counters(pernic=True).items():
        nets[name] = {
            "bytes_sent": c.bytes_sent, "bytes_recv": c.bytes_recv,
            "packets_sent": c.packets_sent, "packets_recv": c.packets_recv,
            "errin": c.errin, "errout": c.errout, "dropin": c.dropin, "dropout": c.dropout,
        }

    procs = []
    for p in (psutil.process_iter(["pid", "name", "username", "cpu_percent",
                                  "memory_percent", "memory_info", "status"]) if with_processes else ()):
        info = p.info
        mi = info.get("memory_info")
        procs.append({
            "pid": info["pid"], "name": info.get("name"), "user": info.get("username"),
            "status": info.get("status"),
            "cpu_percent": info.get("cpu_percent") or 0.0,
            "memory_percent": round(info.get("memory_percent") or 0.0, 3),
            "rss_bytes": mi.rss if mi else 0,
        })
    top_cpu = sorted(procs, key=lambda x: x["cpu_percent"], reverse=True)[:10]
    top_mem = sorted(procs, key=lambda x: x["rss_bytes"], reverse=True)[:10]

    load1, load5, load15 = os.getloadavg()
    out = {
        "timestamp": time.time(),
        "hostname": os.uname().nodename,
        "uptime_s": time.time() - psutil.boot_time(),
        "cpu": {
            "percent": psutil.cpu_percent(interval=None),
            "per_core": psutil.cpu_percent(interval=None, percpu=True),
            "count_logical": psutil.cpu_count(logical=True),
        },
        "load_avg": {"1m": load1, "5m": load5, "15m": load15},
        "memory": {
            "total_bytes": vm.total, "available_bytes": vm.available, "used_bytes": vm.used,
            "percent": vm.percent,
        },
        "swap": {"total_bytes": sw.total, "used_bytes": sw.used, "percent": sw.percent},
        "disks": disks,
        "network": nets,
    }
    if with_processes:
        out["process_count"] = len(procs)
        out["top_processes_by_cpu"] = top_cpu
        out["top_processes_by_memory"] = top_mem
    return out


def _health_checks(m: dict) -> dict:
    checks = []

    def check(name: str, value: float, warn: float, crit: float | None) -> None:
        status = "ok"
        if crit is not None and value >= crit:
            status = "critical"
        elif value >= warn:
            status = "warning"
        checks.append({"check": name, "value": value, "warn": warn, "crit": crit, "status": status})

    check("cpu_percent", m["cpu"]["percent"], CPU_WARN, CPU_CRIT)
    check("memory_percent", m["memory"]["percent"], MEM_WARN, MEM_CRIT)
    check("swap_percent", m["swap"]["percent"], SWAP_WARN, None)
    ncpu = m["cpu"]["count_logical"] or 1
    check("load_1m_per_core", round(m["load_avg"]["1m"] / ncpu, 3), 1.0, 2.0)
    for d in m["disks"]:
        check(f"disk_percent:{d['mount']}", d["percent"], DISK_WARN, DISK_CRIT)

    worst = "ok"
    for c in checks:
        if c["status"] == "critical":
            worst = "critical"
            break
        if c["status"] == "warning":
            worst = "warning"
    overall = {"ok": "healthy", "warning": "degraded", "critical": "unhealthy"}[worst]
    return {"status": overall, "checks": checks}


def _tail(path: str, lines: int) -> list[str]:
    with open(path, "r", errors="replace") as f:
        return list(deque(f, maxlen=lines))


def _analyze(path: str | None, lines: int) -> dict:
    if path is None:
        path = next((p for p in DEFAULT_LOGS if os.path.isfile(p)), None)
        if path is None:
            return {"status": "no_log", "searched": list(DEFAULT_LOGS)}
    if not os.path.isfile(path):
        return {"status": "no_log", "path": path, "error": "not a regular file"}
    try:
        tail = _tail(path, max(1, min(lines, 10_000)))
    except OSError as e:
        return {"status": "unreadable", "path": path, "error": str(e)}
    levels: Counter[str] = Counter()
    patterns: Counter[str] = Counter()
    for line in tail:
        m = LEVEL_RE.search(line)
        level = m.group(1).upper() if m else "UNKNOWN"
        if level == "WARNING":
            level = "WARN"
        levels[level] += 1
        if level in ("FATAL", "CRITICAL", "ERROR", "WARN"):
            # pattern = the message after the level with numbers masked
            msg = line[m.end():].strip() if m else line.strip()
            patterns[NUM_RE.sub("<n>", msg)[:160]] += 1
    return {
        "status": "ok",
        "path": path,
        "lines_analyzed": len(tail),
        "levels": dict(levels),
        "top_error_patterns": [{"pattern": p, "count": c} for p, c in patterns.most_common(10)],
    }


_snapshot: dict | None = None


def _sampler(interval: float) -> None:
    global _snapshot
    while True:
        _snapshot = _collect_metrics()
        time.sleep(interval)


if ARGS.snapshot_interval > 0:
    _snapshot = _collect_metrics()
    threading.Thread(target=_sampler, args=(ARGS.snapshot_interval,), daemon=True).start()


# --------------------------------------------------------------------------- tools

@mcp.tool()
async def get_system_metrics() -> str:
    """Retrieve current system metrics of this host: CPU (total and per core),
    memory, swap, disk per mount, load average, network per interface and the
    top 10 processes by CPU and by memory."""
    return json.dumps(_snapshot if _snapshot is not None else _collect_metrics())


@mcp.tool()
async def analyze_logs(log_path: str | None = None, lines: int = 500) -> str:
    """Analyze the last `lines` lines of a log file on this host: counts by
    level and the most frequent error/warning patterns (numbers masked).
    Without `log_path` the first existing of /var/log/syslog, /var/log/messages,
    /var/log/dpkg.log is used; if none exists the result says so (status no_log)."""
    return json.dumps(_analyze(log_path, lines))


@mcp.tool()
async def root_cause_analysis(log_path: str | None = None) -> str:
    """Heuristic RCA over live host data: runs the health checks, names the
    processes that top CPU and memory, and adds the most frequent error
    patterns from the log (see analyze_logs). It only correlates what it reads;
    it does not guess causes it has no data for."""
    m = _collect_metrics()
    h = _health_checks(m)
    logs = _analyze(log_path, 500)
    findings = []
    for c in h["checks"]:
        if c["status"] != "ok":
            finding = {"signal": c["check"], "value": c["value"], "severity": c["status"]}
            if c["check"] == "cpu_percent" and m["top_processes_by_cpu"]:
                finding["suspects"] = m["top_processes_by_cpu"][:3]
            elif c["check"] == "memory_percent" and m["top_processes_by_memory"]:
                finding["suspects"] = m["top_processes_by_memory"][:3]
            findings.append(finding)
    if logs.get("top_error_patterns"):
        findings.append({"signal": "log_errors", "severity": "info",
                         "patterns": logs["top_error_patterns"][:3], "path": logs.get("path")})
    return json.dumps({
        "status": h["status"],
        "findings": findings,
        "summary": ("no anomaly in host metrics" if not any(f["severity"] != "info" for f in findings)
                    else f"{sum(f['severity'] != 'info' for f in findings)} threshold(s) crossed"),
        "timestamp": m["timestamp"],
    })


@mcp.tool()
async def verify_health() -> str:
    """Verify this host's health: CPU, memory, swap, load per core and disk
    usage per mount against fixed warn/critical thresholds (no process table,
    so this is the cheap tool: `BENCH_TOOL=verify_health` measures mostly the
    MCP stack itself)."""
    m = _collect_metrics(with_processes=False)
    out = _health_checks(m)
    out["timestamp"] = m["timestamp"]
    return json.dumps(out)


@mcp.custom_route("/health", methods=["GET"])
async def health(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "healthy", "server": "monitoring-analysis",
                         "impl": "python-fastmcp", "uptime_s": round(time.time() - STARTED, 3)})


if __name__ == "__main__":
    mcp.run(transport="streamable-http")
