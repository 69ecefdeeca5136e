"""get_raw_logs against a real `opsmcp serve log-analytics`, over MCP with the Python `mcp` client.

    PY=$(bash tests/python/setup.sh) && "$PY" bench/scale/raw_logs.py --opsmcp BIN

Starts the server on a free loopback port on a simulated scenario with its log rate multiplied
(`--log-rate`), then:

1. for each timeframe (`--windows`), one `get_raw_logs` call: wall time of the call (the first
   page comes back only after the whole file is written, so this is also the time to the first
   page), entries written, file size, entries/s into the file;
2. on the largest file: rounds of 8 concurrent cursor pages spread over the file, while the
   server's VmRSS is sampled every 5 ms from /proc/PID/status: RSS before, the highest seen and
   after, and each page's latency.

Prints Markdown tables. Every call is a real MCP `tools/call` over streamable HTTP.
"""

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from mcp import Client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Sampler:
    """The highest VmRSS of a process while it runs, sampled every `every` seconds."""

    def __init__(self, pid: int, every: float = 0.005):
        self.pid, self.every, self.peak, self.stop = pid, every, 0, False
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop:
            self.peak = max(self.peak, rss_kb(self.pid))
            time.sleep(self.every)

    def __enter__(self):
        self.peak = rss_kb(self.pid)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop = True
        self.thread.join()


def structured(result) -> dict:
    if getattr(result, "is_error", False) or getattr(result, "isError", False):
        raise RuntimeError(f"tool error: {result}")
    sc = getattr(result, "structured_content", None) or getattr(result, "structuredContent", None)
    if sc is None:
        sc = json.loads(result.content[0].text)
    return sc


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--opsmcp", required=True, help="the release binary")
    ap.add_argument("--scenario", default="db-connection-pool-exhaustion")
    ap.add_argument("--log-rate", default="10")
    ap.add_argument("--windows", default="1m,5m,15m,30m,60m")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()

    port = free_port()
    data = tempfile.mkdtemp(prefix="opsmcp-scale-")
    cmd = [
        args.opsmcp, "serve", "log-analytics", "--port", str(port), "--data-dir", data,
        "--scenario", args.scenario, "--log-rate", args.log_rate,
    ]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(f"{data}/server.log", "w"))
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(500):
            try:
                urllib.request.urlopen(f"{base}/health", timeout=1)
                break
            except Exception:
                time.sleep(0.02)
        print(f"server: `{' '.join(cmd[1:])}` (pid {server.pid}), idle RSS {rss_kb(server.pid) / 1024:.1f} MB\n")
        async with Client(f"{base}/mcp", read_timeout_seconds=600) as client:
            print("| timeframe | entries in the file | truncated | file size | call (= time to first page) | entries/s into the file | server peak RSS during the call |")
            print("|---|---:|---|---:|---:|---:|---:|")
            largest = None
            for w in args.windows.split(","):
                with Sampler(server.pid) as s:
                    t0 = time.perf_counter()
                    out = structured(await client.call_tool("get_raw_logs", {"timeframe": w}))
                    dt = time.perf_counter() - t0
                size = os.path.getsize(out["log_data_path_absolute"])
                n = out["total_entries"]
                print(f"| {w} | {n:,} | {out['truncated']} | {size / 1e6:.1f} MB | {dt:.3f} s | {n / dt:,.0f} | {s.peak / 1024:.1f} MB |")
                if largest is None or size > largest[1]:
                    largest = (out, size)
            out, size = largest
            path, total = out["log_data_path"], out["total_entries"]
            print(f"\ncursor pages over `{path}` ({size / 1e6:.1f} MB, {total:,} entries), 8 at once, limit 200:\n")
            print("| round | offsets | RSS before | highest RSS during | RSS after | page latency min / median / max | entries per page |")
            print("|---|---|---:|---:|---:|---:|---:|")
            for r in range(args.rounds):
                # Spread over the file, shifted each round so no page repeats.
                offsets = [(total * k // 8 + r * 997) % total for k in range(8)]
                before = rss_kb(server.pid)

                async def page(off):
                    t0 = time.perf_counter()
                    res = structured(await client.call_tool("get_raw_logs", {"cursor": f"{path}#{off}"}))
                    return time.perf_counter() - t0, res["page"]["count"]

                with Sampler(server.pid) as s:
                    got = await asyncio.gather(*(page(o) for o in offsets))
                lat = sorted(g[0] * 1000 for g in got)
                counts = sorted({g[1] for g in got})
                print(
                    f"| {r + 1} | {offsets[1]}…{offsets[-1]} | {before / 1024:.1f} MB | {s.peak / 1024:.1f} MB | "
                    f"{rss_kb(server.pid) / 1024:.1f} MB | {lat[0]:.1f} / {statistics.median(lat):.1f} / {lat[-1]:.1f} ms | "
                    f"{','.join(map(str, counts))} |"
                )
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
