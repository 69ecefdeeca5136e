#!/usr/bin/env bash
# bench/soak.sh — the production-readiness load test: `opsmcp up` with API-token auth and
# /metrics on, 64 clients calling get_system_metrics for SOAK_SECS (default 600), zero errors
# expected, RSS sampled every 10 s; then the same load for COMPARE_SECS with auth off, so the
# cost of auth is a ratio measured in the same run.
#
#   bash bench/soak.sh                    # 10 minutes with auth + 60 s without
#   SOAK_SECS=60 bash bench/soak.sh       # a shorter run
#
# Writes bench/results/soak-<timestamp>/ (rss.csv, mcpload output, summary.md).
# Server on CPU 0, load on CPU 1 (as bench/run.sh). mcpload (shared/tools/mcpload) sends no
# Authorization header, so its copy here gets a two-line patch reading MCPLOAD_BEARER.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SOAK_SECS="${SOAK_SECS:-600}"
COMPARE_SECS="${COMPARE_SECS:-60}"
CLIENTS="${CLIENTS:-64}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/opsmcp"
LOADDIR="$CACHE/mcpload-auth"
MCPLOAD_SRC="${MCPLOAD_SRC:-$ROOT/../shared/tools/mcpload}"
RUNDIR="$ROOT/bench/results/soak-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$RUNDIR"
log() { printf '[soak] %s\n' "$*" >&2; }

log "building opsmcp (release) and a copy of mcpload that can send a bearer token"
( cd "$ROOT" && cargo build --release -p opsmcp --quiet )
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
OPSMCP="$TARGET_DIR/release/opsmcp"
mkdir -p "$LOADDIR"
rm -rf "$LOADDIR/src"
cp -pR "$MCPLOAD_SRC/src" "$MCPLOAD_SRC/Cargo.toml" "$LOADDIR/"
[[ -f "$MCPLOAD_SRC/Cargo.lock" ]] && cp -p "$MCPLOAD_SRC/Cargo.lock" "$LOADDIR/"
python3 - "$LOADDIR/src/main.rs" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
anchor = 'h.insert(ACCEPT, HeaderValue::from_static("application/json, text/event-stream"));'
assert anchor in s, "mcpload changed: update the patch in bench/soak.sh"
s = s.replace(anchor, anchor + '''
        if let Ok(t) = std::env::var("MCPLOAD_BEARER") {
            h.insert(reqwest::header::AUTHORIZATION, HeaderValue::from_str(&format!("Bearer {t}")).unwrap());
        }''', 1)
open(p, "w").write(s)
PY
( cd "$LOADDIR" && CARGO_TARGET_DIR="$LOADDIR/target" cargo build --release --quiet )
MCPLOAD="$LOADDIR/target/release/mcpload"

TOKEN="$("$OPSMCP" token create --name soak --scopes read 2>"$RUNDIR/token.txt")"
DATA="$(mktemp -d)"
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT
sed -n '/^\[\[auth.tokens\]\]/,/^scopes/p' "$RUNDIR/token.txt" >"$DATA/opsmcp.toml"

# run LABEL SECS [--config FILE]: up on free ports, load for SECS, RSS every 10 s.
run() {
  local label="$1" secs="$2"; shift 2
  taskset -c 0 "$OPSMCP" up --monitoring-port 0 --workflow-port 0 --log-analytics-port 0 \
    --data-dir "$DATA/$label" "$@" >"$RUNDIR/$label-server.out" 2>"$RUNDIR/$label-server.err" &
  SERVER=$!
  local url=""
  for _ in $(seq 100); do
    url="$(sed -n 's/^opsmcp: monitoring listening on \(http[^ ]*\).*/\1/p' "$RUNDIR/$label-server.out")"
    [[ -n "$url" ]] && break
    sleep 0.1
  done
  [[ -n "$url" ]] || { cat "$RUNDIR/$label-server.err" >&2; exit 1; }
  echo "seconds,rss_kb" >"$RUNDIR/$label-rss.csv"
  ( t=0; while kill -0 "$SERVER" 2>/dev/null; do
      echo "$t,$(awk '/VmRSS/{print $2}' /proc/$SERVER/status)" >>"$RUNDIR/$label-rss.csv"
      sleep 10; t=$((t + 10)); done ) &
  local sampler=$!
  log "$label: $CLIENTS clients for $secs s against $url/mcp"
  MCPLOAD_BEARER="${BEARER:-}" taskset -c 1 "$MCPLOAD" --url "$url/mcp" -c "$CLIENTS" -d "$secs" \
    --warmup 2 --label "$label" | tee "$RUNDIR/$label-load.txt"
  curl -fsS "$url/metrics" >"$RUNDIR/$label-metrics.txt" || true
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
  kill "$sampler" 2>/dev/null || true
}

BEARER="" run auth-off "$COMPARE_SECS"
BEARER="$TOKEN" run auth-on "$SOAK_SECS" --config "$DATA/opsmcp.toml"

python3 - "$RUNDIR" <<'PY'
import json, sys, csv
d = sys.argv[1]
def load(label):
    for line in open(f"{d}/{label}-load.txt"):
        line = line.strip()
        if line.startswith("JSON "):
            return json.loads(line[5:])
    raise SystemExit(f"no JSON result in {label}-load.txt")
off, on = load("auth-off"), load("auth-on")
rss = [int(r["rss_kb"]) for r in csv.DictReader(open(f"{d}/auth-on-rss.csv")) if r["rss_kb"]]
key = "ops_per_s"
lines = [
    "| | auth off | auth on (tokens + /metrics) | ratio |",
    "|---|---|---|---|",
    f"| seconds | {off['duration_s']} | {on['duration_s']} | |",
    f"| calls/s | {off[key]:.0f} | {on[key]:.0f} | {on[key] / off[key]:.3f} |",
    f"| p99 ms | {off['p99_ms']:.2f} | {on['p99_ms']:.2f} | |",
    f"| errors | {off['errors']} | {on['errors']} | |",
    f"| RSS first / max / last sample (MB) | | {rss[0]/1024:.1f} / {max(rss)/1024:.1f} / {rss[-1]/1024:.1f} | |",
]
open(f"{d}/summary.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
print(f"RSS curve (KB, every 10 s): {rss}")
PY
log "results in $RUNDIR"
