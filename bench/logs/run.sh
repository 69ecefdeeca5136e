#!/usr/bin/env bash
# Template mining speed: opsmcp (one thread, all cores) against Drain3 0.9.11 (default settings,
# one thread) on the same input, in one run. See bench/README.md, "Log engine".
#
#   bash bench/logs/run.sh                # 2,000,000 lines (Drain3 on the first 200,000)
#   LOGS_LINES=500000 bash bench/logs/run.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
data=${OPSMCP_LOGHUB_DIR:-$root/../shared/data/loghub-2k}
lines=${LOGS_LINES:-2000000}
drain_lines=${DRAIN_LINES:-200000}
out=$root/bench/results
mkdir -p "$out"
input=$out/logs-input.log

# Input: the ten Loghub-2k raw logs, concatenated and repeated to $lines lines (mixed formats).
if [ ! -s "$input" ] || [ "$(wc -l < "$input")" -ne "$lines" ]; then
  cat "$data"/*/*_2k.log > "$out/logs-one.log"
  : > "$input.tmp"
  while [ "$(wc -l < "$input.tmp")" -lt "$lines" ]; do cat "$out/logs-one.log" >> "$input.tmp"; done
  head -n "$lines" "$input.tmp" > "$input"
  rm -f "$input.tmp" "$out/logs-one.log"
fi
bytes=$(stat -c %s "$input")

# Drain3 in its own venv (made once, remade when requirements change).
venv=${XDG_CACHE_HOME:-$HOME/.cache}/opsmcp/bench-logs-venv
stamp=$(sha256sum "$here/requirements.txt" | cut -c1-16)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q -r "$here/requirements.txt"
  echo "$stamp" > "$venv/.stamp"
fi

(cd "$root" && cargo build --release -q -p opsmcp)
bin=${CARGO_TARGET_DIR:-$root/target}/release/opsmcp

run_ours() { # threads -> "seconds peak_kb templates"
  local t=$1 tf
  tf=$(mktemp)
  /usr/bin/time -f "%e %M" -o "$tf" "$bin" logs templates --threads "$t" "$input" > "$out/logs-templates-$t.txt"
  echo "$(cat "$tf") $(head -1 "$out/logs-templates-$t.txt" | awk '{print $3}')"
  rm -f "$tf"
}
read -r s1 m1 t1 < <(run_ours 1)
read -r sn mn tn < <(run_ours 0)
drain=$("$venv/bin/python" "$here/drain3_bench.py" "$input" "$drain_lines")
cores=$(nproc)

python3 - "$lines" "$bytes" "$s1" "$m1" "$t1" "$sn" "$mn" "$tn" "$cores" "$drain" > "$out/logs-latest.md" <<'PY'
import json, sys
lines, size = int(sys.argv[1]), int(sys.argv[2])
s1, m1, t1, sn, mn, tn, cores = float(sys.argv[3]), int(sys.argv[4]), sys.argv[5], float(sys.argv[6]), int(sys.argv[7]), sys.argv[8], sys.argv[9]
d = json.loads(sys.argv[10])
drain_lps = d["lines"] / d["seconds"]
rows = [
    ("opsmcp, 1 thread", lines, s1, size, m1, t1),
    (f"opsmcp, all cores ({cores})", lines, sn, size, mn, tn),
    ("Drain3 0.9.11, 1 thread", d["lines"], d["seconds"], d["bytes"], d["peak_kb"], d["clusters"]),
]
print(f"input: {lines:,} raw lines, {size/1e6:.0f} MB (Loghub-2k x{lines//20000}, ten formats mixed); Drain3 mines the first {d['lines']:,} of them\n")
print("| miner | lines | seconds | lines/s | MB/s | peak RSS | templates | vs Drain3 |")
print("|---|---|---|---|---|---|---|---|")
for name, n, s, b, m, t in rows:
    lps = n / s
    print(f"| {name} | {n:,} | {s:.2f} | {lps:,.0f} | {b/1e6/s:.1f} | {m/1024:.0f} MB | {t} | {lps/drain_lps:.1f}x |")
PY
cat "$out/logs-latest.md"
