#!/usr/bin/env bash
# bench/run.sh — opsmcp vs the seed's Python FastMCP server, side by side, one run.
#
#   bash bench/run.sh                 # full run (BENCH_SECS=10 per load point)
#   BENCH_QUICK=1 bash bench/run.sh   # smoke run (2 s per point, 2 cold-start reps)
#
# Prints a markdown table and writes it to bench/results/latest.md (git-ignored);
# raw numbers and server logs go to bench/results/run-<timestamp>/.
# See bench/README.md for what is measured and why.
#
# Environment (all optional):
#   BENCH_SECS=10           measured seconds per load point
#   BENCH_WARMUP=2          warm-up seconds before each load point (not measured)
#   BENCH_CLIENTS="1 16 64" steady-mode client counts
#   BENCH_SESSION_CLIENTS=16  clients in session mode
#   BENCH_REPS=5            cold-start repetitions
#   BENCH_QUICK=1           short smoke run (overrides the four above)
#   BENCH_TOOL=get_system_metrics   tool called by the load generator
#   BENCH_ONLY=both|ours|peer       which side to run (peer = the Python servers)
#   BENCH_PEERS="sampled percall"   which Python variants (see below); both by default
#   BENCH_SERVER_CPU=0 BENCH_LOAD_CPU=1 BENCH_LOAD_THREADS=1
#   BENCH_PORT_OURS=19101 BENCH_PORT_PEER=19102 BENCH_PORT_SEED=19104 BENCH_PORT_NULL=19103
#                           (the first free port from there, in steps of 10)
#   BENCH_PEER_LOG_LEVEL=INFO  the peer's log level (INFO = FastMCP's default, as the seed ran it)
#   BENCH_PEER_SNAPSHOT=1   sampling interval (s) of the "sampled" Python variant: it walks the host
#                           in a background thread and get_system_metrics returns the latest sample,
#                           as ours does. The "percall" variant is the seed's behaviour: a fresh
#                           psutil walk of the host (and all processes) on every call.
#   BENCH_CEILING=1         also measure mcpload's own ceiling against its trivial nullmcp responder
#   BENCH_RMCP=1            also measure our stack's ceiling: bench/ceiling, a bare rmcp 3.11
#                           streamable-HTTP server (stateless, JSON answers) whose one tool returns
#                           our server's own get_system_metrics answer as a constant
#   OPSMCP_BIN=path         use this binary instead of building with cargo
#   OPSMCP_SERVE_ARGS="serve monitoring"   our server's arguments (--port PORT is appended; by
#                           default also --max-connections-per-address above the client count)
#   MCPLOAD_SRC=path        source of the load generator (default: shared/tools/mcpload beside the repo)
set -euo pipefail

# ------------------------------------------------------------------ settings
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$ROOT/bench"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/opsmcp"
VENV="$CACHE/bench-venv"
LOADDIR="$CACHE/mcpload"

if [[ "${BENCH_QUICK:-0}" == 1 ]]; then
  BENCH_SECS=2 BENCH_WARMUP=0.5 BENCH_REPS=2
fi
SECS="${BENCH_SECS:-10}"
WARMUP="${BENCH_WARMUP:-2}"
CLIENTS="${BENCH_CLIENTS:-1 16 64}"
SESSION_CLIENTS="${BENCH_SESSION_CLIENTS:-16}"
REPS="${BENCH_REPS:-5}"
TOOL="${BENCH_TOOL:-get_system_metrics}"
ONLY="${BENCH_ONLY:-both}"
SCPU="${BENCH_SERVER_CPU:-0}"
LCPU="${BENCH_LOAD_CPU:-1}"
LTHREADS="${BENCH_LOAD_THREADS:-1}"
CEILING="${BENCH_CEILING:-1}"
RMCP="${BENCH_RMCP:-1}"
PEER_LOG_LEVEL="${BENCH_PEER_LOG_LEVEL:-INFO}"
PEER_SNAPSHOT="${BENCH_PEER_SNAPSHOT:-1}"
PEERS="${BENCH_PEERS:-sampled percall}"
# The load generator's clients all come from one address, and our edge caps connections per
# address (64 by default, a defence the peer does not have): lift the cap above the largest
# client count so the run measures calls, not refusals.
MOST_CLIENTS=$(printf '%s\n' $CLIENTS "$SESSION_CLIENTS" | sort -n | tail -1)
read -r -a SERVE_ARGS <<<"${OPSMCP_SERVE_ARGS:-serve monitoring --max-connections-per-address $((MOST_CLIENTS * 2 + 32))}"

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RESULTS="$BENCH/results"
RUNDIR="$RESULTS/run-$STAMP"
RAW="$RUNDIR/raw.tsv"
mkdir -p "$RUNDIR"
: >"$RAW"
# Our server's store (its audit log, incidents) lives with the run, not in the user's own data
# directory: every call is audited, and a run makes hundreds of thousands of them.
export OPSMCP_DATA_DIR="${OPSMCP_DATA_DIR:-$RUNDIR/data}"
mkdir -p "$OPSMCP_DATA_DIR"

log()  { printf '\033[1m[bench]\033[0m %s\n' "$*" >&2; }
warn() { printf '\033[33m[bench] warning:\033[0m %s\n' "$*" >&2; }
die()  { printf '\033[31m[bench] error:\033[0m %s\n' "$*" >&2; exit 1; }
raw()  { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$RAW"; }   # server key value

case "$ONLY" in both|ours|peer) ;; *) die "BENCH_ONLY must be both, ours or peer (got '$ONLY')";; esac
for t in taskset curl jq ss cargo python3 timeout; do
  command -v "$t" >/dev/null || die "'$t' is required but not on PATH"
done
NCPU="$(nproc)"
(( SCPU < NCPU && LCPU < NCPU )) || die "need CPUs $SCPU and $LCPU, this machine has $NCPU"
[[ "$SCPU" != "$LCPU" ]] || warn "server and load share CPU $SCPU: numbers will be pessimistic"

# ------------------------------------------------------------------ cleanup
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]:-}"; do
    [[ -n "$p" ]] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ 1. load generator
if [[ -z "${MCPLOAD_SRC:-}" ]]; then
  for c in "$ROOT/../shared/tools/mcpload" /work/shared/tools/mcpload; do
    if [[ -f "$c/Cargo.toml" ]]; then MCPLOAD_SRC="$(cd "$c" && pwd -P)"; break; fi
  done
fi
[[ -n "${MCPLOAD_SRC:-}" && -f "$MCPLOAD_SRC/Cargo.toml" ]] \
  || die "mcpload source not found (looked in ../shared/tools/mcpload and /work/shared/tools/mcpload); set MCPLOAD_SRC"
log "building mcpload from $MCPLOAD_SRC in $LOADDIR"
mkdir -p "$LOADDIR"
# copy sources only (never build inside shared/); cp -p keeps mtimes so cargo rebuilds only on change
rm -rf "$LOADDIR/src"
cp -pR "$MCPLOAD_SRC/src" "$LOADDIR/src"
cp -p "$MCPLOAD_SRC/Cargo.toml" "$LOADDIR/"
[[ -f "$MCPLOAD_SRC/Cargo.lock" ]] && cp -p "$MCPLOAD_SRC/Cargo.lock" "$LOADDIR/"
( cd "$LOADDIR" && CARGO_TARGET_DIR="$LOADDIR/target" cargo build --release --quiet 2>"$RUNDIR/mcpload-build.log" ) \
  || { tail -n 30 "$RUNDIR/mcpload-build.log" >&2; die "building mcpload failed (log: $RUNDIR/mcpload-build.log)"; }
MCPLOAD="$LOADDIR/target/release/mcpload"
NULLMCP="$LOADDIR/target/release/nullmcp"
[[ -x "$MCPLOAD" ]] || die "mcpload binary missing after build: $MCPLOAD"

# ------------------------------------------------------------------ 2. peer venv
PEER_PY="$BENCH/peers/fastmcp_peer.py"
REQ="$BENCH/peers/requirements.txt"
RUN_PEER=0; RUN_OURS=0
[[ "$ONLY" != ours ]] && RUN_PEER=1
[[ "$ONLY" != peer ]] && RUN_OURS=1
if (( RUN_PEER )); then
  want="$(sha256sum "$REQ" | cut -d' ' -f1)"
  if [[ ! -x "$VENV/bin/python" || "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" != "$want" ]]; then
    log "creating peer venv at $VENV"
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' || die "python3 >= 3.10 is needed for mcp 1.30"
    rm -rf "$VENV"
    python3 -m venv "$VENV" || die "python3 -m venv failed (install python3-venv?)"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQ" >"$RUNDIR/venv.log" 2>&1 \
      || { tail -n 30 "$RUNDIR/venv.log" >&2; die "pip install -r $REQ failed"; }
    echo "$want" >"$VENV/.requirements.sha256"
  else
    log "peer venv up to date ($VENV)"
  fi
  "$VENV/bin/python" -c 'import mcp.server.fastmcp, psutil' || die "peer venv is broken; rm -rf $VENV and rerun"
fi

# ------------------------------------------------------------------ 3. our server
OURS_BIN=""
if (( RUN_OURS )); then
  if [[ -n "${OPSMCP_BIN:-}" ]]; then
    [[ -x "$OPSMCP_BIN" ]] || die "OPSMCP_BIN=$OPSMCP_BIN is not an executable"
    OURS_BIN="$OPSMCP_BIN"
  else
    TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
    [[ "$TARGET_DIR" = /* ]] || TARGET_DIR="$ROOT/$TARGET_DIR"
    log "building ours: cargo build --release -p opsmcp"
    if ( cd "$ROOT" && cargo build --release -p opsmcp ) >"$RUNDIR/opsmcp-build.log" 2>&1 \
       && [[ -x "$TARGET_DIR/release/opsmcp" ]]; then
      OURS_BIN="$TARGET_DIR/release/opsmcp"
    else
      warn "opsmcp not built (cargo build --release -p opsmcp failed or produced no binary at $TARGET_DIR/release/opsmcp);"
      warn "skipping ours — last lines of $RUNDIR/opsmcp-build.log:"
      tail -n 5 "$RUNDIR/opsmcp-build.log" | sed 's/^/    /' >&2
      RUN_OURS=0
    fi
  fi
fi
RMCP_BIN=""
if (( RUN_OURS )) && [[ "$RMCP" == 1 ]]; then
  CEIL_TARGET="${CARGO_TARGET_DIR:-$BENCH/ceiling/target}"
  [[ "$CEIL_TARGET" = /* ]] || CEIL_TARGET="$ROOT/$CEIL_TARGET"
  log "building the bare-rmcp ceiling: cargo build --release --manifest-path bench/ceiling/Cargo.toml"
  if ( cd "$BENCH/ceiling" && CARGO_TARGET_DIR="$CEIL_TARGET" cargo build --release ) >"$RUNDIR/ceiling-build.log" 2>&1 \
     && [[ -x "$CEIL_TARGET/release/rmcp-ceiling" ]]; then
    RMCP_BIN="$CEIL_TARGET/release/rmcp-ceiling"
  else
    warn "bench/ceiling not built; no rmcp column (log: $RUNDIR/ceiling-build.log)"
  fi
fi
(( RUN_OURS || RUN_PEER )) || die "nothing to run"

# ------------------------------------------------------------------ helpers
port_free() { ! ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }
pick_port() {
  local p="$1" n=0
  while ! port_free "$p"; do p=$((p + 10)); n=$((n + 1)); (( n < 50 )) || die "no free port near $1"; done
  echo "$p"
}
# server_cmd NAME PORT -> prints the command, one word per line (into an array with mapfile)
server_cmd() {
  case "$1" in
    ours) printf '%s\n' "$OURS_BIN" "${SERVE_ARGS[@]}" --port "$2" ;;
    peer) printf '%s\n' "$VENV/bin/python" "$PEER_PY" --port "$2" --log-level "$PEER_LOG_LEVEL" \
            --snapshot-interval "$PEER_SNAPSHOT" ;;
    seed) printf '%s\n' "$VENV/bin/python" "$PEER_PY" --port "$2" --log-level "$PEER_LOG_LEVEL" \
            --snapshot-interval 0 ;;
    null) printf '%s\n' "$NULLMCP" "$2" ;;
    # our own answer as its constant when one was saved (payload_bytes), else one of its size
    rmcp) printf '%s\n' "$RMCP_BIN" "$2"; [[ -s "$RUNDIR/ours-result.json" ]] && printf '%s\n' "$RUNDIR/ours-result.json" ;;
  esac
}
# start NAME PORT -> sets STARTED_PID, returns 1 (with the reason on stderr) if the server
# exits or never answers /health; pinned to $SCPU (taskset execs, so the pid is the server's)
start() {
  local name="$1" port="$2" cmd i rc
  mapfile -t cmd < <(server_cmd "$name" "$port")
  port_free "$port" || die "port $port is taken"
  taskset -c "$SCPU" "${cmd[@]}" >"$RUNDIR/$name.log" 2>&1 &
  STARTED_PID=$!
  PIDS+=("$STARTED_PID")
  for i in $(seq 1 300); do   # up to 30 s
    if ! kill -0 "$STARTED_PID" 2>/dev/null; then
      wait "$STARTED_PID" 2>/dev/null && rc=0 || rc=$?
      warn "$name exited during start-up with status $rc: ${cmd[*]}"
      tail -n 20 "$RUNDIR/$name.log" | sed 's/^/    /' >&2
      return 1
    fi
    if [[ "$name" == null ]]; then
      port_free "$port" || return 0
    elif curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$port/health" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  warn "$name did not answer http://127.0.0.1:$port/health within 30 s (log: $RUNDIR/$name.log)"
  stop "$STARTED_PID"
  return 1
}
stop() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  local p keep=()
  for p in "${PIDS[@]:-}"; do [[ -n "$p" && "$p" != "$1" ]] && keep+=("$p"); done
  PIDS=("${keep[@]:-}")
}
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# one tools/call by hand, to record the payload size (and prove the tool answers)
payload_bytes() {
  local port="$1" url="http://127.0.0.1:$1/mcp" hdr sid out
  local -a H=(-H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2025-06-18')
  hdr="$(curl -sS -D - -o /dev/null --max-time 10 "${H[@]}" \
    -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"0"}}}' "$url")"
  sid="$(printf '%s' "$hdr" | awk -F': *' 'tolower($1)=="mcp-session-id" { gsub("\r", "", $2); print $2 }')"
  [[ -n "$sid" ]] && H+=(-H "Mcp-Session-Id: $sid")
  curl -sS -o /dev/null --max-time 10 "${H[@]}" -d '{"jsonrpc":"2.0","method":"notifications/initialized"}' "$url"
  out="$(curl -sS --max-time 30 "${H[@]}" -d "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"$TOOL\",\"arguments\":{}}}" "$url")"
  [[ -n "$sid" ]] && curl -sS -o /dev/null --max-time 10 -X DELETE "${H[@]}" "$url" || true
  # SSE framing or plain JSON: keep the JSON-RPC message itself
  if [[ "$out" == *"data:"* ]]; then out="$(printf '%s\n' "$out" | sed -n 's/^data: \{0,1\}//p' | tail -n 1)"; fi
  printf '%s' "$out" | jq -e '.result.content[0].text' >/dev/null 2>&1 || { warn "tools/call $TOOL on :$port returned no text: ${out:0:300}"; echo 0; return; }
  [[ -n "${2:-}" ]] && printf '%s' "$out" | jq -c .result >"$2"
  printf '%s' "$out" | jq -r '[(.result.content[0].text | length), (tostring | length)] | @tsv'
}

# load NAME PORT MODE CLIENTS -> records ops/s, p50, p99, errors
load() {
  local name="$1" port="$2" mode="$3" c="$4" key line
  key="$mode.c$c"
  log "  $name: $mode, $c client(s), ${SECS}s (+${WARMUP}s warm-up)"
  local out="$RUNDIR/load-$name-$key.txt"
  if ! timeout "$(awk -v s="$SECS" -v w="$WARMUP" 'BEGIN { printf "%d", s + w + 90 }')" \
       taskset -c "$LCPU" "$MCPLOAD" --url "http://127.0.0.1:$port/mcp" -c "$c" -d "$SECS" --warmup "$WARMUP" \
       --mode "$mode" --tool "$TOOL" --threads "$LTHREADS" --label "$name" >"$out" 2>&1; then
    tail -n 5 "$out" >&2; die "mcpload failed against $name ($out)"
  fi
  line="$(sed -n 's/^JSON //p' "$out")"
  [[ -n "$line" ]] || { cat "$out" >&2; die "no JSON line from mcpload ($out)"; }
  raw "$name" "$key.ops" "$(jq -r .ops_per_s <<<"$line")"
  raw "$name" "$key.p50" "$(jq -r .p50_ms <<<"$line")"
  raw "$name" "$key.p99" "$(jq -r .p99_ms <<<"$line")"
  raw "$name" "$key.errors" "$(jq -r .errors <<<"$line")"
  if [[ "$(jq -r .errors <<<"$line")" != 0 ]]; then
    warn "$name $key: $(jq -c .error_kinds <<<"$line") — $(grep -m1 '^first error' "$out" || true)"
  fi
}

coldstart() {
  local name="$1" port="$2" cmd out
  mapfile -t cmd < <(server_cmd "$name" "$port")
  out="$RUNDIR/coldstart-$name.txt"
  log "  $name: cold start x$REPS"
  port_free "$port" || die "port $port is taken"
  # mcpload coldstart panics after 60 s without /health and retries initialize forever: bound it
  if ! timeout $(( REPS * 70 + 30 )) taskset -c "$LCPU" "$MCPLOAD" coldstart --threads "$LTHREADS" \
       --url "http://127.0.0.1:$port/mcp" --health "http://127.0.0.1:$port/health" --reps "$REPS" --tool "$TOOL" \
       -- taskset -c "$SCPU" "${cmd[@]}" >"$out" 2>&1; then
    tail -n 5 "$out" >&2; die "mcpload coldstart failed for $name ($out)"
  fi
  local s
  s="$(grep '^coldstart summary' "$out")" || { cat "$out" >&2; die "no coldstart summary ($out)"; }
  raw "$name" cold.health.min    "$(sed -E 's/.*health_ms min=([0-9.]+).*/\1/' <<<"$s")"
  raw "$name" cold.health.median "$(sed -E 's/.*health_ms min=[0-9.]+ median=([0-9.]+).*/\1/' <<<"$s")"
  raw "$name" cold.init.median   "$(sed -E 's/.*initialize_ms min=[0-9.]+ median=([0-9.]+).*/\1/' <<<"$s")"
  raw "$name" cold.rss1.kb       "$(grep -o 'rss_after_1_session_kb=Some([0-9]*)' "$out" | grep -o '[0-9]*' | sort -n | tail -n 1)"
}

# ------------------------------------------------------------------ 4. measure
# server keys: ours | peer (Python, sampled) | seed (Python, psutil per call, as the seed)
SERVERS=()
if (( RUN_OURS )); then SERVERS+=(ours); fi
if (( RUN_PEER )); then
  for v in $PEERS; do
    case "$v" in
      sampled) SERVERS+=(peer) ;;
      percall) SERVERS+=(seed) ;;
      *) die "BENCH_PEERS takes 'sampled' and/or 'percall' (got '$v')" ;;
    esac
  done
fi
declare -A PORT PID
declare -A PORT0=([ours]="${BENCH_PORT_OURS:-19101}" [peer]="${BENCH_PORT_PEER:-19102}"
                  [seed]="${BENCH_PORT_SEED:-19104}" [null]="${BENCH_PORT_NULL:-19103}"
                  [rmcp]="${BENCH_PORT_RMCP:-19105}")
TAKEN=" "
for s in ours peer seed null rmcp; do
  p="$(pick_port "${PORT0[$s]}")"
  while [[ "$TAKEN" == *" $p "* ]]; do p="$(pick_port $(( p + 10 )))"; done
  PORT[$s]="$p"; TAKEN+="$p "
done

{
  echo "date=$STAMP"
  echo "host=$(uname -n)"
  echo "kernel=$(uname -r)"
  echo "cpus=$NCPU"
  echo "cpu_model=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
  echo "loadavg_before=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "secs=$SECS"
  echo "warmup=$WARMUP"
  echo "clients=$CLIENTS"
  echo "session_clients=$SESSION_CLIENTS"
  echo "reps=$REPS"
  echo "tool=$TOOL"
  echo "server_cpu=$SCPU"
  echo "load_cpu=$LCPU"
  echo "load_threads=$LTHREADS"
  echo "peer_snapshot=$PEER_SNAPSHOT"
  [[ -n "$RMCP_BIN" ]] && echo "rmcp=$RMCP_BIN (bench/ceiling, rmcp 3.11)"
  if [[ -n "$OURS_BIN" ]]; then echo "ours=$OURS_BIN ${SERVE_ARGS[*]}"
  elif [[ "$ONLY" == peer ]]; then echo "ours=not requested (BENCH_ONLY=peer)"
  else echo "ours=skipped (cargo build --release -p opsmcp gave no binary)"; fi
  if (( RUN_PEER )); then
    echo "peer=$("$VENV/bin/python" -c 'import importlib.metadata as m; print("mcp", m.version("mcp"), "+ psutil", m.version("psutil"))'), log level $PEER_LOG_LEVEL, variants: $PEERS (sampled every ${PEER_SNAPSHOT}s)"
  fi
  echo "mcpload=$MCPLOAD_SRC"
} >"$RUNDIR/meta.txt"
# how busy is the machine without us? (CPU use over 3 s, all cores; the load average would
# still count the cargo builds this script just ran)
cpu_busy() {
  local a b
  read -r -a a < <(head -n 1 /proc/stat); sleep "$1"; read -r -a b < <(head -n 1 /proc/stat)
  awk -v u="$(( b[1]+b[2]+b[3]+b[6]+b[7]+b[8] - a[1]-a[2]-a[3]-a[6]-a[7]-a[8] ))" \
      -v t="$(( b[1]+b[2]+b[3]+b[4]+b[5]+b[6]+b[7]+b[8] - a[1]-a[2]-a[3]-a[4]-a[5]-a[6]-a[7]-a[8] ))" \
      'BEGIN { printf "%.0f", (t > 0 ? 100 * u / t : 0) }'
}
BUSY="$(cpu_busy 3)"
echo "busy_before=$BUSY" >>"$RUNDIR/meta.txt"
log "machine busy before the run: ${BUSY}% of all CPUs over 3 s (loadavg $(cut -d' ' -f1-3 /proc/loadavg))"
if (( BUSY > 10 )); then warn "other work is running on this machine (${BUSY}% busy): numbers will be noisy"; fi

log "starting servers: ${SERVERS[*]} (all on CPU $SCPU; idle ones cost nothing), load on CPU $LCPU"
UP=()
for s in "${SERVERS[@]}"; do
  if start "$s" "${PORT[$s]}"; then
    PID[$s]="$STARTED_PID"
    UP+=("$s")
    log "  $s: pid ${PID[$s]} on :${PORT[$s]}"
  elif [[ "$s" == ours ]]; then
    warn "skipping ours: it did not come up (is 'opsmcp ${SERVE_ARGS[*]} --port N' implemented yet?)"
    sed -i "s|^ours=.*|ours=skipped: ${OURS_BIN} ${SERVE_ARGS[*]} did not start|" "$RUNDIR/meta.txt"
  else
    die "$s (Python peer) did not come up (log: $RUNDIR/$s.log)"
  fi
done
SERVERS=("${UP[@]}")
(( ${#SERVERS[@]} > 0 )) || die "no server came up; nothing to measure"
sleep 1   # settle before the idle reading
idle_and_payload() {
  local s="$1" save=""
  raw "$s" rss.idle.kb "$(status_kb "${PID[$s]}" VmRSS)"
  [[ "$s" == ours ]] && save="$RUNDIR/ours-result.json"
  read -r text_len msg_len < <(payload_bytes "${PORT[$s]}" "$save" | tr '\t' ' ') || true
  raw "$s" payload.text.bytes "${text_len:-0}"
  raw "$s" payload.msg.bytes "${msg_len:-0}"
}
for s in "${SERVERS[@]}"; do idle_and_payload "$s"; done
# The ceiling starts once ours has answered, so it can serve ours' answer as its constant.
if [[ -n "$RMCP_BIN" && " ${SERVERS[*]} " == *" ours "* ]]; then
  if start rmcp "${PORT[rmcp]}"; then
    PID[rmcp]="$STARTED_PID"
    log "  rmcp: pid ${PID[rmcp]} on :${PORT[rmcp]}"
    sleep 1
    idle_and_payload rmcp
    SERVERS=(ours rmcp "${SERVERS[@]:1}")
  else
    warn "the bare-rmcp ceiling did not start; no rmcp column"
  fi
fi

# interleave servers at each load point, so drifting background load hits both alike
for c in $CLIENTS; do
  for s in "${SERVERS[@]}"; do load "$s" "${PORT[$s]}" steady "$c"; done
done
for s in "${SERVERS[@]}"; do load "$s" "${PORT[$s]}" session "$SESSION_CLIENTS"; done
for s in "${SERVERS[@]}"; do
  raw "$s" rss.peak.kb "$(status_kb "${PID[$s]}" VmHWM)"
  raw "$s" rss.after.kb "$(status_kb "${PID[$s]}" VmRSS)"
  raw "$s" threads "$(status_kb "${PID[$s]}" Threads)"
  stop "${PID[$s]}"
done

log "cold start (server on CPU $SCPU, probe on CPU $LCPU)"
for s in "${SERVERS[@]}"; do coldstart "$s" "${PORT[$s]}"; done

if [[ "$CEILING" == 1 && -x "$NULLMCP" ]]; then
  log "load generator ceiling (nullmcp, a canned responder)"
  if start null "${PORT[null]}"; then
    PID[null]="$STARTED_PID"
    maxc=0
    for c in $CLIENTS; do if (( c > maxc )); then maxc=$c; fi; done
    load null "${PORT[null]}" steady "$maxc"
    stop "${PID[null]}"
  else
    warn "nullmcp did not start; no ceiling measured"
  fi
fi
echo "loadavg_after=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$RUNDIR/meta.txt"

# ------------------------------------------------------------------ 5. report
python3 "$BENCH/report.py" "$RAW" "$RUNDIR/meta.txt" >"$RUNDIR/table.md"
cp "$RUNDIR/table.md" "$RESULTS/latest.md"
cat "$RUNDIR/table.md"
log "written: $RESULTS/latest.md (raw numbers and logs: $RUNDIR)"
