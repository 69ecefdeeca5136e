#!/usr/bin/env python3
"""The Claude checks of tests/clients/run.sh: Claude Code `-p` and the README's Agent SDK snippet,
each running a whole query against the three opsmcp servers, with model_standin.py in the model
API's place. Standard library only (the Agent SDK runs in the venv, as the snippet's own python).

    claude_checks.py code        --claude BIN  ...common
    claude_checks.py snippet     --python VENV_PY ...common
    claude_checks.py root-guard  --claude BIN  ...common

common: --standin-url URL --standin-log FILE --work DIR --repo DIR
        --monitoring URL --workflow URL --log-analytics URL   (server roots, http://127.0.0.1:PORT)

Each prints `PASS <check>: <why>` or `FAIL <check>: <why>` (details in DIR) and exits 0/1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

FINAL_MARK = "OPSMCP-STANDIN-FINAL"
MAIN = ("tool_search", "tool_use", "final")  # the stand-in's replies in the scripted conversation
README_SECTION = "## The same servers for Claude Code and the Agent SDK"
# The README's snippet names the servers on their default ports; the test moves them to the
# ports this run got.
DEFAULT_PORTS = {"monitoring": 9001, "workflow": 9002, "log-analytics": 9003}
TIMEOUT_S = 180


def quiet_env(args: argparse.Namespace, home: Path) -> dict[str, str]:
    """The environment every Claude process gets: the stand-in as the model API, a throwaway
    home, and the documented switches for telemetry and other nonessential traffic."""
    env = dict(os.environ)
    for k in list(env):
        # Whatever this machine's shell carries for Claude/Anthropic must not leak in (a real
        # key, a gateway, a sandbox claim): the test sets what it means to.
        if k.startswith(("ANTHROPIC_", "CLAUDE_", "CLAUDECODE")) or k in ("IS_SANDBOX", "DISABLE_TELEMETRY"):
            del env[k]
    home.mkdir(parents=True, exist_ok=True)
    (home / "tmp").mkdir(exist_ok=True)
    env.update(
        HOME=str(home),
        TMPDIR=str(home / "tmp"),  # Claude Code leaves probe dirs in $TMPDIR/claude-<uid>
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        ANTHROPIC_BASE_URL=args.standin_url,
        ANTHROPIC_API_KEY="sk-ant-dummy-offline-test",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        DISABLE_TELEMETRY="1",
        DISABLE_ERROR_REPORTING="1",
        DISABLE_AUTOUPDATER="1",
        DISABLE_BUG_COMMAND="1",
        NO_COLOR="1",
    )
    return env


def standin_entries(log: Path, start: int) -> list[dict[str, Any]]:
    lines = log.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines[start:] if line.strip()]


def standin_lines(log: Path) -> int:
    return len(log.read_text(encoding="utf-8").splitlines()) if log.exists() else 0


def judge_conversation(entries: list[dict[str, Any]], prefixes: list[str], expect: str) -> tuple[list[str], dict[str, Any]]:
    """What the stand-in saw of one whole query: problems (empty when good) and facts."""
    problems: list[str] = []
    main = [e for e in entries if e.get("path", "").startswith("/v1/messages") and e.get("reply") in MAIN]
    facts: dict[str, Any] = {
        "requests": len(entries),
        "paths": sorted({f"{e.get('method')} {e.get('path', '').split('?')[0]}" for e in entries}),
        "unknown": sorted({f"{e.get('method')} {e.get('path')}" for e in entries if e.get("reply") == "unknown"}),
    }
    if not main:
        problems.append("the stand-in never got a request offering our MCP tools")
        return problems, facts
    tools = main[0]["notes"].get("mcp_tools_seen") or []
    facts["tool_search"] = any(e["reply"] == "tool_search" for e in main)
    facts["mcp_tools_offered"] = {p: sum(1 for t in tools if t.startswith(p)) for p in prefixes}
    for p, n in facts["mcp_tools_offered"].items():
        if n == 0:
            problems.append(f"no {p}* tool was offered to the model (that server did not connect)")
    calls = [e for e in main if e["reply"] == "tool_use"]
    finals = [e for e in main if e["reply"] == "final"]
    facts["tool_called"] = calls[0]["notes"].get("tool") if calls else None
    if not calls:
        problems.append("the stand-in never asked for the tool")
    elif facts["tool_search"] and not calls[0]["notes"].get("tool_search_found"):
        problems.append("ToolSearch did not return the tool's schema")
    if not finals:
        problems.append("no tool_result for the tool came back to the model")
    else:
        n = finals[-1]["notes"]
        facts["tool_result_chars"] = n.get("tool_result_chars")
        facts["quote"] = n.get("quote")
        if n.get("tool_result_is_error"):
            problems.append(f"the tool_result is an error: {n.get('quote')!r}")
        elif not n.get("tool_result_has_expect"):
            problems.append(f"the tool_result does not hold {expect!r} (real data from the server): {n.get('quote')!r}")
    return problems, facts


def mcp_roots(args: argparse.Namespace) -> dict[str, str]:
    return {"monitoring": args.monitoring, "workflow": args.workflow, "log-analytics": args.log_analytics}


def result(check: str, problems: list[str], ok_why: str, facts: dict[str, Any], work: Path) -> int:
    (work / f"{check}.facts.json").write_text(json.dumps(facts, indent=2, default=str))
    if problems:
        print(f"FAIL {check}: " + "; ".join(problems))
        print(f"     facts: {json.dumps(facts, default=str)[:1500]}")
        return 1
    print(f"PASS {check}: {ok_why}")
    print(f"     facts: {json.dumps(facts, default=str)[:800]}")
    return 0


def run(cmd: list[str], env: dict[str, str], cwd: Path, work: Path, name: str) -> tuple[int, str, str, float]:
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S, stdin=subprocess.DEVNULL)
        rc, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        rc, out, err = -9, (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or ""), f"timed out after {TIMEOUT_S}s"
    (work / f"{name}.stdout").write_text(out)
    (work / f"{name}.stderr").write_text(err)
    return rc, out, err, time.monotonic() - t0


# ------------------------------------------------------------------------------ Claude Code -p
def check_code(args: argparse.Namespace) -> int:
    check = "claude-code-p"
    work = Path(args.work)
    roots = mcp_roots(args)
    cfg = {"mcpServers": {name: {"type": "http", "url": root + "/mcp"} for name, root in roots.items()}}
    cfg_path = work / "claude-code.mcp.json"
    cfg_path.write_text(json.dumps(cfg, indent=2))
    env = quiet_env(args, work / "home-code")
    start = standin_lines(Path(args.standin_log))
    cmd = [
        args.claude, "-p", "checkout is throwing 500s since the deploy: check the system metrics",
        "--mcp-config", str(cfg_path), "--strict-mcp-config",
        # Our three servers' tools run without a prompt; everything else stays as -p has it
        # (anything that would prompt is denied).
        "--allowedTools", "mcp__monitoring", "mcp__workflow", "mcp__log-analytics",
        "--model", "claude-sonnet-4-5",
        "--max-turns", "4",
        "--debug-file", str(work / "claude-code.debug.log"),
    ]
    rc, out, err, secs = run(cmd, env, work, work, "claude-code")
    problems: list[str] = []
    if rc != 0:
        problems.append(f"exit {rc}")
    if err.strip():
        problems.append(f"stderr: {err.strip()[:600]!r}")
    finals = [l for l in out.splitlines() if FINAL_MARK in l]
    if not finals:
        problems.append(f"the final text was not printed; stdout: {out.strip()[:600]!r}")
    entries = standin_entries(Path(args.standin_log), start)
    p2, facts = judge_conversation(entries, ["mcp__monitoring__", "mcp__workflow__", "mcp__log-analytics__"], args.expect)
    problems += p2
    mcp_lines, other_lines = debug_problems(work / "claude-code.debug.log")
    debug = (work / "claude-code.debug.log").read_text(encoding="utf-8", errors="replace") if (work / "claude-code.debug.log").exists() else ""
    facts["connected"] = {
        name: (re.search(r'MCP server "' + re.escape(name) + r'": Connection established with capabilities: .*?"negotiatedProtocolVersion":"([^"]+)"', debug) or [None, None])[1]
        for name in roots
    }
    not_connected = [n for n, v in facts["connected"].items() if not v]
    if not_connected:
        problems.append(f"Claude Code's debug log shows no established connection to {', '.join(not_connected)}")
    facts.update(seconds=round(secs, 1), printed=finals[:1], mcp_debug_problems=mcp_lines, other_debug_warnings=other_lines)
    if facts["mcp_debug_problems"]:
        problems.append(f"Claude Code's debug log has MCP warnings/errors: {facts['mcp_debug_problems'][:5]}")
    eras = ", ".join(f"{n} {v}" for n, v in facts["connected"].items())
    return result(check, problems, f"exit 0, final text printed, connected ({eras}), the model got real data from {facts.get('tool_called')} ({secs:.1f}s)", facts, work)


def debug_problems(path: Path) -> tuple[list[str], list[str]]:
    """WARN/ERROR lines of Claude Code's --debug-file: those about MCP or our servers (a failure),
    and the others (Claude Code's own business, e.g. a first run's missing config file; kept
    in the facts)."""
    if not path.exists():
        return ["no debug log was written"], []
    ours, other = [], []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if re.search(r"\[(WARN|ERROR)\]", line):
            # Claude Code's MCP lines read `MCP server "NAME": …` or `[MCP] …`; a schema problem
            # names the schema or the format. (Not a bare "mcp": paths here hold "opsmcp".)
            about_us = re.search(r'MCP server "|\[MCP\]|mcp__|[Ss]chema|unknown format', line)
            (ours if about_us else other).append(line[:300])
    return ours, other


# ------------------------------------------------------------------------------ README snippet
def readme_snippet(repo: Path) -> str:
    text = (repo / "README.md").read_text(encoding="utf-8")
    i = text.find("\n" + README_SECTION + "\n")
    if i < 0:
        raise SystemExit(f"README.md has no section {README_SECTION!r}")
    section = text[i + 1 :]
    j = section.find("\n## ", 3)
    section = section if j < 0 else section[:j]
    m = re.search(r"```python\n(.*?)```", section, re.S)
    if not m:
        raise SystemExit(f"README.md's section {README_SECTION!r} has no ```python block")
    return m.group(1)


def point_at(snippet: str, roots: dict[str, str]) -> str:
    """The snippet, its three servers moved from the default ports to this run's."""
    for name, port in DEFAULT_PORTS.items():
        old = f"http://127.0.0.1:{port}/"
        n = snippet.count(old)
        if n != 1:
            raise SystemExit(f"the README snippet names {old} {n} times (expected once, for {name})")
        snippet = snippet.replace(old, roots[name] + "/")
    return snippet


def check_snippet(args: argparse.Namespace) -> int:
    check = "agent-sdk-readme-snippet"
    work = Path(args.work)
    repo = Path(args.repo)
    original = readme_snippet(repo)
    code = point_at(original, mcp_roots(args))
    script = work / "readme_snippet.py"
    script.write_text(code)
    env = quiet_env(args, work / "home-snippet")
    start = standin_lines(Path(args.standin_log))
    # Run from the checkout's root, where a user of a checkout runs it (prompts/system.md).
    rc, out, err, secs = run([args.python, str(script)], env, repo, work, "agent-sdk-snippet")
    problems: list[str] = []
    if rc != 0:
        problems.append(f"exit {rc}")
    if err.strip():
        problems.append(f"stderr: {err.strip()[-800:]!r}")
    if FINAL_MARK not in out:
        problems.append(f"the final text was not among the printed messages; stdout: {out.strip()[-600:]!r}")
    if "ResultMessage(" not in out or "is_error=False" not in out:
        problems.append("no ResultMessage with is_error=False was printed")
    entries = standin_entries(Path(args.standin_log), start)
    p2, facts = judge_conversation(
        entries, ["mcp__monitoring-analysis__", "mcp__workflow-orchestration__", "mcp__log-analytics__"], args.expect
    )
    problems += p2
    system = next((e["body"].get("system") for e in entries if e.get("reply") in MAIN), None)
    want = (repo / "prompts" / "system.md").read_text(encoding="utf-8").strip()[:200]
    if system is None or want not in json.dumps(system, ensure_ascii=False).replace("\\n", "\n"):
        problems.append("the model was not given prompts/system.md as the system prompt")
    facts.update(seconds=round(secs, 1), snippet_lines=len(original.splitlines()))
    return result(check, problems, f"the README's snippet ran a whole query as root, exit 0, real data from {facts.get('tool_called')} ({secs:.1f}s)", facts, work)


# ------------------------------------------------------------------------------ the root guard
def check_root_guard(args: argparse.Namespace) -> int:
    """What the README says about root: bypassPermissions is refused as root (with a message
    naming a flag the user never passed) and runs with IS_SANDBOX=1. Checked on the CLI the
    Agent SDK bundles, so the README stays true for the pinned version."""
    check = "agent-sdk-root-guard"
    work = Path(args.work)
    problems: list[str] = []
    facts: dict[str, Any] = {"uid": os.getuid()}
    if os.getuid() != 0:
        print(f"PASS {check}: skipped, not root (the guard only applies to root)")
        return 0
    cfg = {"mcpServers": {"monitoring": {"type": "http", "url": args.monitoring + "/mcp"}}}
    cfg_path = work / "root-guard.mcp.json"
    cfg_path.write_text(json.dumps(cfg))
    base = [args.claude, "-p", "check the system metrics", "--permission-mode", "bypassPermissions",
            "--mcp-config", str(cfg_path), "--strict-mcp-config", "--model", "claude-sonnet-4-5", "--max-turns", "4"]
    env = quiet_env(args, work / "home-guard")
    rc, out, err, _ = run(base, env, work, work, "root-guard-refused")
    facts["without_IS_SANDBOX"] = {"exit": rc, "stderr": err.strip()[:200]}
    if rc == 0 or "root/sudo" not in err:
        problems.append(f"bypassPermissions as root was expected to be refused (exit 1, 'root/sudo' on stderr); got exit {rc}, stderr {err.strip()[:200]!r}")
    env["IS_SANDBOX"] = "1"
    start = standin_lines(Path(args.standin_log))
    rc, out, err, _ = run(base, env, work, work, "root-guard-sandbox")
    facts["with_IS_SANDBOX=1"] = {"exit": rc, "stderr": err.strip()[:200], "final": FINAL_MARK in out}
    if rc != 0 or FINAL_MARK not in out:
        problems.append(f"with IS_SANDBOX=1, bypassPermissions as root did not run the query: exit {rc}, stderr {err.strip()[:200]!r}")
    p2, f2 = judge_conversation(standin_entries(Path(args.standin_log), start), ["mcp__monitoring__"], args.expect)
    problems += p2
    return result(check, problems, "as root, bypassPermissions is refused without IS_SANDBOX=1 and runs with it (as the README says)", facts, work)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["code", "snippet", "root-guard"])
    ap.add_argument("--claude")
    ap.add_argument("--python")
    ap.add_argument("--standin-url", required=True)
    ap.add_argument("--standin-log", required=True)
    ap.add_argument("--expect", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--repo", required=True)
    ap.add_argument("--monitoring", required=True)
    ap.add_argument("--workflow", required=True)
    ap.add_argument("--log-analytics", required=True)
    args = ap.parse_args()
    Path(args.work).mkdir(parents=True, exist_ok=True)
    return {"code": check_code, "snippet": check_snippet, "root-guard": check_root_guard}[args.what](args)


if __name__ == "__main__":
    sys.exit(main())
