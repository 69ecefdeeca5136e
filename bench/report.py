#!/usr/bin/env python3
"""Render bench/run.sh's raw numbers (server<TAB>key<TAB>value) as a markdown table.

usage: report.py RAW.tsv META.txt > table.md

Columns: metric | opsmcp | [bare rmcp | share] | Python FastMCP | ratio | target. The ratio is
always "times better for opsmcp" (ours/peer for throughput, peer/ours for latency,
memory and start-up), so > 1× means opsmcp wins. The bare-rmcp ceiling (bench/ceiling, when
measured) gets the same ratio as a percentage: 100 % = as good as rmcp with nothing on top.
Targets are DESIGN.md §9's.
"""
import math
import sys

raw_path, meta_path = sys.argv[1], sys.argv[2]
data: dict[str, dict[str, str]] = {}
with open(raw_path) as f:
    for line in f:
        parts = line.rstrip("\n").split("\t")
        if len(parts) == 3:
            data.setdefault(parts[0], {})[parts[1]] = parts[2]
meta = dict(l.rstrip("\n").split("=", 1) for l in open(meta_path) if "=" in l)


def num(server: str, key: str):
    v = data.get(server, {}).get(key)
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def fmt(x, unit=""):
    if x is None:
        return "—"
    if float(x).is_integer() and abs(x) < 1000 and not unit.strip().startswith(("ms", "MB")):
        return f"{int(x)}{unit}"
    if abs(x) >= 1000:
        s = f"{x:,.0f}"
    elif abs(x) >= 100:
        s = f"{x:.0f}"
    elif abs(x) >= 10:
        s = f"{x:.1f}"
    else:
        s = f"{x:.2f}"
    return s + unit


def ratio(ours, peer, higher_better):
    if higher_better is None or ours is None or peer is None or ours == 0 or peer == 0:
        return None
    return ours / peer if higher_better else peer / ours


def fmt_ratio(r):
    return "—" if r is None else (f"{r:,.0f}×" if r >= 100 else f"{r:.1f}×")


def verdict(ok):
    return "" if ok is None else (" ✅" if ok else " ❌")


clients = [int(c) for c in meta.get("clients", "1 16 64").split()]
maxc = max(clients)
tool = meta.get("tool", "get_system_metrics")
sc = meta.get("session_clients", "16")
rows = []


PEERS = [(k, n) for k, n in (("peer", "Python FastMCP, sampled"), ("seed", "Python FastMCP, per call (seed)"))
         if k in data]
# targets are judged against the first peer present: the sampled one (like-for-like, stricter)
TARGET_PEER = PEERS[0][0] if PEERS else None
HAS_RMCP = "rmcp" in data


def row(label, key, unit, higher_better, target=None, scale=1.0):
    def get(s):
        v = num(s, key)
        return None if v is None else v * scale

    o = get("ours")
    cells = [label, fmt(o, unit)]
    if HAS_RMCP:
        c = get("rmcp")
        r = ratio(o, c, higher_better)
        cells += [fmt(c, unit), "—" if r is None else f"{100 * r:.0f}%"]
    tr = None
    for k, _ in PEERS:
        p = get(k)
        r = ratio(o, p, higher_better)
        if k == TARGET_PEER:
            tr = r
        cells += [fmt(p, unit), fmt_ratio(r)]
    t = ""
    if target:
        kind, bound, text = target
        ok = None
        if kind == "ratio" and tr is not None:
            ok = tr >= bound
        elif kind == "max" and o is not None:
            ok = o < bound
        t = text + verdict(ok)
    rows.append(tuple(cells + [t]))


for c in clients:
    n = f"{c} client" + ("s" if c != 1 else "")
    tgt = ("ratio", 25.0, "≥ 25×") if c == maxc else None
    row(f"`{tool}` calls/s, {n}", f"steady.c{c}.ops", "", True, tgt)
    row(f"p50 latency, {n}", f"steady.c{c}.p50", " ms", False)
    row(f"p99 latency, {n}", f"steady.c{c}.p99", " ms", False,
        ("max", 5.0, "< 5 ms") if c == maxc else None)
row(f"full sessions/s (initialize → call → close), {sc} clients", f"session.c{sc}.ops", "", True)
row(f"session p99, {sc} clients", f"session.c{sc}.p99", " ms", False)
row("RSS idle after start", "rss.idle.kb", " MB", False, ("max", 16.0, "< 16 MB"), 1 / 1024)
row("peak RSS under load (VmHWM)", "rss.peak.kb", " MB", False, ("max", 16.0, "< 16 MB"), 1 / 1024)
row("cold start to `/health`, median", "cold.health.median", " ms", False, ("max", 15.0, "< 15 ms"))
row("cold start to `/health`, best", "cold.health.min", " ms", False)
row("cold start to `initialize` answered, median", "cold.init.median", " ms", False)
row("RSS after one session (cold start)", "cold.rss1.kb", " MB", False, None, 1 / 1024)
row("OS threads after load", "threads", "", None)

out = []
out.append(f"## opsmcp vs Python FastMCP — {meta.get('date', '')}\n")
out.append(f"Tool `{tool}`; server on CPU {meta.get('server_cpu')}, load (mcpload, "
           f"{meta.get('load_threads')} thread) on CPU {meta.get('load_cpu')}; "
           f"{meta.get('secs')} s per load point after {meta.get('warmup')} s warm-up; "
           f"{meta.get('reps')} cold-start reps. Ratio = times better for opsmcp. "
           "*Sampled*: the Python server walks the host in a background thread every "
           f"{meta.get('peer_snapshot', '1')} s and the tool returns the latest sample, as ours does "
           "(like-for-like; targets are judged against it). *Per call (seed)*: a fresh psutil walk of "
           "the host and all processes on every call, as the seed did.\n")
rm_head = "bare rmcp (ceiling) | opsmcp of it | " if HAS_RMCP else ""
out.append("| metric | opsmcp | " + rm_head + " | ".join(f"{n} | ratio" for _, n in PEERS) + " | target |")
out.append("|---|---:|" + "---:|---:|" * (len(PEERS) + HAS_RMCP) + "---|")
for r in rows:
    out.append("| " + " | ".join(r) + " |")
out.append("")

notes = []
if "ours" not in data:
    notes.append(f"- opsmcp: not measured — {meta.get('ours', '?')}.")
if not PEERS:
    notes.append("- Python FastMCP: not measured.")
for s, name in [("ours", "opsmcp")] + ([("rmcp", "bare rmcp")] if HAS_RMCP else []) + PEERS:
    if s not in data:
        continue
    errs = sum(int(float(v)) for k, v in data[s].items() if k.endswith(".errors"))
    t, m = num(s, "payload.text.bytes"), num(s, "payload.msg.bytes")
    notes.append(f"- {name}: `{tool}` result text {fmt(t)} bytes (whole JSON-RPC message {fmt(m)} bytes); "
                 f"load errors: {errs}.")
ceil = num("null", f"steady.c{maxc}.ops")
if ceil is not None:
    o = num("ours", f"steady.c{maxc}.ops")
    share = f"; opsmcp reached {100 * o / ceil:.0f}% of it" if o else ""
    notes.append(f"- load generator ceiling (mcpload vs its canned `nullmcp` responder, {maxc} clients): "
                 f"{fmt(ceil)} calls/s, p99 {fmt(num('null', f'steady.c{maxc}.p99'), ' ms')}{share}.")
notes.append(f"- machine: {meta.get('cpu_model', '?')}, {meta.get('cpus', '?')} CPUs, "
             f"kernel {meta.get('kernel', '?')}; CPU busy before the run (3 s, all cores, without the "
             f"benchmark): {meta.get('busy_before', '?')}%; load average before {meta.get('loadavg_before', '?')}, "
             f"after {meta.get('loadavg_after', '?')}.")
notes.append(f"- peer: {meta.get('peer', '?')}; ours: {meta.get('ours', '?')}"
             + (f"; ceiling: {meta['rmcp']}" if "rmcp" in meta else "") + ".")
out.append("\n".join(notes))
print("\n".join(out))
