#!/usr/bin/env python3
"""End-to-end check of an opsmcp monitoring server with the official Python MCP client (mcp 2.3.0).

    python clients.py BASE_URL [--mode auto|legacy|sse] [--allow-fallback] [--timeout S]

BASE_URL is the server root, e.g. http://127.0.0.1:9001. Three ways of connecting are tried, each
independently (one failing does not stop the others):

  auto    Client(BASE_URL/mcp): probes `server/discover` and adopts 2026-07-28 (stateless era).
          A silent fall back to `initialize` counts as a failure unless --allow-fallback.
  legacy  Client(BASE_URL/mcp, mode="legacy"): `initialize` handshake at 2025-11-25.
  sse     sse_client(BASE_URL/sse) + ClientSession: the HTTP+SSE transport of 2024-11-05.

In each: list tools, check `get_system_metrics` is listed, call it with no arguments, check the
result is not an error and carries structuredContent with the reading's `source` (`live` or
`simulated`), `sampled_at` and `summary`, against a live host or a simulated incident alike. Prints
`ok <mode> <n tools> <ms>` per passing mode on stdout and `FAIL <mode>: <reason>` for the others
(details on stderr); exits 1 if any mode failed, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from typing import Any

import anyio
from mcp import Client, ClientSession
from mcp.client.sse import sse_client
from mcp_types import PaginatedRequestParams
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

TOOL = "get_system_metrics"
MODES = ("auto", "legacy", "sse")
LEGACY_VERSION = "2025-11-25"  # what ClientSession.initialize() asks for in mcp 2.3.0
MAX_PAGES = 50


class CheckFailed(Exception):
    """A protocol exchange succeeded but its content was not what a client needs."""


def note(msg: str) -> None:
    print(f"# {msg}", file=sys.stderr, flush=True)


async def list_all_tools(lister: Any) -> list[Any]:
    """Walk tools/list pagination; `lister(cursor)` returns a ListToolsResult."""
    tools: list[Any] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = await lister(cursor)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if cursor is None:
            return tools
    raise CheckFailed(f"tools/list still paginating after {MAX_PAGES} pages")


def check_tools(tools: list[Any]) -> None:
    names = [t.name for t in tools]
    if TOOL not in names:
        raise CheckFailed(f"{TOOL} not in tools/list: {names}")


def check_result(result: Any) -> None:
    dump = result.model_dump(by_alias=True, mode="json", exclude_none=True)
    if result.is_error:
        raise CheckFailed(f"{TOOL} returned isError=true: {json.dumps(dump)[:2000]}")
    sc = result.structured_content
    if not isinstance(sc, dict):
        raise CheckFailed(f"{TOOL} result has no structuredContent object: {json.dumps(dump)[:2000]}")
    missing = [k for k in ("source", "sampled_at", "summary") if k not in sc]
    if missing or sc.get("source") not in ("live", "simulated"):
        raise CheckFailed(
            f"{TOOL} structuredContent lacks {missing} or has an unknown source "
            f"(keys: {sorted(sc)}): {json.dumps(sc)[:2000]}"
        )


async def run_client(url: str, mode: str, allow_fallback: bool, timeout: float) -> int:
    async with Client(url, mode=mode, read_timeout_seconds=timeout) as client:
        version = client.protocol_version
        info = client.server_info
        note(f"{mode}: negotiated {version}, server {info.name if info else '?'} {info.version if info else ''}")
        if mode == "auto" and version not in MODERN_PROTOCOL_VERSIONS and not allow_fallback:
            raise CheckFailed(
                f"auto mode fell back to initialize (negotiated {version}): the server did not accept "
                f"server/discover at {MODERN_PROTOCOL_VERSIONS[-1]}; pass --allow-fallback to accept that"
            )
        if mode == "legacy" and version != LEGACY_VERSION:
            note(f"legacy: server answered initialize({LEGACY_VERSION}) with {version}")
        tools = await list_all_tools(lambda c: client.list_tools(cursor=c))
        check_tools(tools)
        result = await client.call_tool(TOOL, {})
        check_result(result)
        return len(tools)


async def run_sse(url: str, timeout: float) -> int:
    async with sse_client(url, timeout=timeout) as (read, write):
        async with ClientSession(read, write, read_timeout_seconds=timeout) as session:
            init = await session.initialize()
            note(f"sse: negotiated {init.protocol_version}, server {init.server_info.name} {init.server_info.version}")
            tools = await list_all_tools(lambda c: session.list_tools(params=PaginatedRequestParams(cursor=c)))
            check_tools(tools)
            result = await session.call_tool(TOOL, {})
            check_result(result)
            return len(tools)


def describe(exc: BaseException) -> str:
    """One line naming the innermost real errors (anyio wraps them in ExceptionGroups)."""
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(describe(e) for e in exc.exceptions)
    if isinstance(exc, CheckFailed):
        return str(exc)
    text = f"{type(exc).__module__}.{type(exc).__qualname__}: " + " ".join(str(exc).split())
    return text if exc.__cause__ is None else f"{text} (caused by {describe(exc.__cause__)})"


async def run_mode(base: str, mode: str, allow_fallback: bool, timeout: float) -> bool:
    start = time.perf_counter()
    try:
        # One overall bound per mode so a hung stream cannot hang CI.
        with anyio.fail_after(timeout * 3):
            if mode == "sse":
                n = await run_sse(base + "/sse", timeout)
            else:
                n = await run_client(base + "/mcp", mode, allow_fallback, timeout)
    except BaseException as exc:  # noqa: BLE001 - report every failure, keep going with the next mode
        if isinstance(exc, KeyboardInterrupt):
            raise
        if isinstance(exc, TimeoutError):
            exc = CheckFailed(f"no answer within {timeout * 3:g}s")
        if not isinstance(exc, CheckFailed):
            traceback.print_exception(exc, file=sys.stderr)
        print(f"FAIL {mode}: {' '.join(describe(exc).split())}", flush=True)
        return False
    ms = (time.perf_counter() - start) * 1000
    print(f"ok {mode} {n} {ms:.0f}", flush=True)
    return True


async def main_async(args: argparse.Namespace) -> int:
    base = args.base_url.rstrip("/")
    modes = [args.mode] if args.mode else list(MODES)
    results = [await run_mode(base, m, args.allow_fallback, args.timeout) for m in modes]
    failed = [m for m, ok in zip(modes, results) if not ok]
    if failed:
        print(f"python mcp client check failed for: {' '.join(failed)} (against {base})", file=sys.stderr)
        return 1
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("base_url", help="server root, e.g. http://127.0.0.1:9001")
    p.add_argument("--mode", choices=MODES, help="run one mode only (default: all three)")
    p.add_argument("--allow-fallback", action="store_true", help="accept auto mode negotiating a legacy version")
    p.add_argument("--timeout", type=float, default=10.0, help="per-request timeout in seconds (default 10)")
    args = p.parse_args()
    if not args.base_url.startswith(("http://", "https://")):
        p.error(f"BASE_URL must start with http:// or https://, got {args.base_url!r}")
    return anyio.run(main_async, args)


if __name__ == "__main__":
    sys.exit(main())
