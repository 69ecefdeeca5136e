#!/usr/bin/env python3
"""A local stand-in for the Anthropic Messages API, scripted to drive one MCP tool call.

    python3 model_standin.py --port-file F --log F.jsonl --tool get_system_metrics --expect orders-db

Speaks the documented wire format of POST /v1/messages, streamed (server-sent events
message_start, content_block_start, content_block_delta with text_delta or input_json_delta,
content_block_stop, message_delta, message_stop) and not streamed (one JSON message). The script
is decided from each request alone, so any number of conversations can share one stand-in:

  * a request whose `tools` array holds an MCP tool named `mcp__<server>__<--tool>` and whose
    last user message carries no tool_result for it  ->  a tool_use of that tool with `{}`;
    when the tool is only named as a deferred tool (Claude Code loads MCP tools on demand
    through its ToolSearch tool)  ->  first a tool_use of ToolSearch `select:<name>`;
  * the same conversation once the tool_result has arrived  ->  a final text that quotes the
    result around the first occurrence of --expect:  FINAL_MARK «…quote…»;
  * any other request (Claude Code's side requests: titles, quota probes, summaries)  ->  a
    short harmless text.

POST /v1/messages/count_tokens answers a token estimate; any other path or method is logged as
unknown and answered with an empty 200 JSON object (GET /v1/models with an empty model list).
Every request is appended to --log as one JSON line: method, path, chosen reply, the tool names
offered, and the body. The port it listens on (127.0.0.1, chosen by the OS) is written to
--port-file once it accepts connections.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FINAL_MARK = "OPSMCP-STANDIN-FINAL"
SIDE_TEXT = "ok"


def tool_result_text(block: dict[str, Any]) -> str:
    content = block.get("content")
    if isinstance(content, str):
        return content
    parts = []
    for item in content or []:
        if isinstance(item, dict) and item.get("type") == "text":
            parts.append(item.get("text", ""))
    return "\n".join(parts)


def last_user_tool_results(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not messages or messages[-1].get("role") != "user":
        return []
    content = messages[-1].get("content")
    if not isinstance(content, list):
        return []
    return [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]


def tool_uses(messages: list[dict[str, Any]]) -> dict[str, str]:
    """tool_use id -> tool name, over every assistant turn."""
    out = {}
    for m in messages:
        if m.get("role") == "assistant" and isinstance(m.get("content"), list):
            for b in m["content"]:
                if isinstance(b, dict) and b.get("type") == "tool_use":
                    out[b.get("id")] = b.get("name")
    return out


MCP_NAME = re.compile(r"mcp__[A-Za-z0-9_-]+?__[A-Za-z0-9_-]+")


def all_text(messages: list[dict[str, Any]]) -> str:
    """Every text of the conversation (where Claude Code lists deferred tools by name)."""
    parts: list[str] = []
    for m in messages:
        content = m.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            for b in content:
                if isinstance(b, dict) and b.get("type") == "text":
                    parts.append(b.get("text", ""))
                elif isinstance(b, dict) and b.get("type") == "tool_result":
                    parts.append(tool_result_text(b))
    return "\n".join(parts)


class Script:
    def __init__(self, tool: str, expect: str) -> None:
        self.tool = tool
        self.expect = expect
        self.pattern = re.compile(r"^mcp__(.+)__" + re.escape(tool) + r"$")

    def decide(self, body: dict[str, Any]) -> tuple[str, list[dict[str, Any]], str, dict[str, Any]]:
        """-> (kind, content blocks, stop_reason, notes)

        Claude Code may not put MCP tools in `tools` at all: it lists them by name as deferred
        tools in a system reminder and offers ToolSearch to load their schemas. Then the
        script first asks ToolSearch for the tool (`select:<name>`), as a model would, and calls
        the tool once ToolSearch has answered."""
        names = [t.get("name", "") for t in body.get("tools") or [] if isinstance(t, dict)]
        messages = body.get("messages") or []
        text = all_text(messages)
        mcp_seen = sorted(set(n for n in names if n.startswith("mcp__")) | set(MCP_NAME.findall(text)))
        notes: dict[str, Any] = {"mcp_tools_seen": mcp_seen}
        loaded = [n for n in names if self.pattern.match(n)]
        deferred = [n for n in mcp_seen if self.pattern.match(n)]
        if not loaded and not (deferred and "ToolSearch" in names):
            return "side", [{"type": "text", "text": SIDE_TEXT}], "end_turn", notes
        target = (loaded or deferred)[0]
        called = tool_uses(messages)
        results = last_user_tool_results(messages)
        ours = [r for r in results if called.get(r.get("tool_use_id")) == target]
        if ours:
            return self.final(target, ours[0], notes)
        searched = any(called.get(r.get("tool_use_id")) == "ToolSearch" for r in results)
        if not loaded and not searched:
            block = {"type": "tool_use", "id": "toolu_" + uuid.uuid4().hex[:24], "name": "ToolSearch",
                     "input": {"query": f"select:{target}", "max_results": 5}}
            notes["tool"] = "ToolSearch"
            notes["deferred"] = True
            return "tool_search", [block], "tool_use", notes
        if searched:
            r = next(r for r in results if called.get(r.get("tool_use_id")) == "ToolSearch")
            notes["tool_search_result"] = tool_result_text(r)[:4000]
            notes["tool_search_found"] = target in tool_result_text(r) or target in names
        block = {"type": "tool_use", "id": "toolu_" + uuid.uuid4().hex[:24], "name": target, "input": {}}
        notes["tool"] = target
        return "tool_use", [block], "tool_use", notes

    def final(self, target: str, result: dict[str, Any], notes: dict[str, Any]):
        text = tool_result_text(result)
        notes["tool"] = target
        notes["tool_result_is_error"] = bool(result.get("is_error"))
        notes["tool_result_chars"] = len(text)
        i = text.find(self.expect) if self.expect else -1
        notes["tool_result_has_expect"] = i >= 0
        if i >= 0:
            quote = text[max(0, i - 40) : i + len(self.expect) + 40]
        else:
            quote = text[:120]
        quote = " ".join(quote.split())
        notes["quote"] = quote
        final = f"{FINAL_MARK} {target} said: «{quote}»"
        return "final", [{"type": "text", "text": final}], "end_turn", notes


def sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


class Handler(BaseHTTPRequestHandler):
    server_version = "opsmcp-model-standin/1"
    protocol_version = "HTTP/1.1"

    # set on the class by main()
    script: Script
    log_path: str
    lock = threading.Lock()

    def log_message(self, fmt: str, *args: Any) -> None:  # quiet; the JSONL log is the record
        pass

    def record(self, entry: dict[str, Any]) -> None:
        with self.lock, open(self.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")

    def read_body(self) -> bytes:
        n = int(self.headers.get("content-length") or 0)
        return self.rfile.read(n) if n else b""

    def send_json(self, status: int, obj: Any) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("request-id", "req_standin_" + uuid.uuid4().hex[:12])
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802
        raw = self.read_body()
        path = self.path.split("?", 1)[0]
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {"_unparsed": raw[:2000].decode("utf-8", "replace")}
        entry: dict[str, Any] = {
            "method": "POST",
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items() if k.lower() in ("anthropic-version", "anthropic-beta", "user-agent", "x-app")},
        }
        if path == "/v1/messages":
            self.messages(body, entry)
        elif path == "/v1/messages/count_tokens":
            entry["reply"] = "count_tokens"
            entry["body"] = body
            self.record(entry)
            self.send_json(200, {"input_tokens": max(1, len(raw) // 4)})
        else:
            entry["reply"] = "unknown"
            entry["body"] = body
            self.record(entry)
            self.send_json(200, {})

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.split("?", 1)[0]
        self.record({"method": "GET", "path": self.path, "reply": "models" if path == "/v1/models" else "unknown"})
        if path == "/v1/models":
            self.send_json(200, {"data": [], "has_more": False, "first_id": None, "last_id": None})
        else:
            self.send_json(200, {})

    def do_HEAD(self) -> None:  # noqa: N802
        self.record({"method": "HEAD", "path": self.path, "reply": "unknown"})
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def messages(self, body: dict[str, Any], entry: dict[str, Any]) -> None:
        kind, content, stop, notes = self.script.decide(body)
        model = body.get("model") or "standin"
        entry.update(
            reply=kind,
            stream=bool(body.get("stream")),
            model=model,
            tools=[t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)],
            notes=notes,
            body=body,
        )
        self.record(entry)
        msg_id = "msg_standin_" + uuid.uuid4().hex[:16]
        usage = {"input_tokens": 10, "output_tokens": 10, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
        if not body.get("stream"):
            self.send_json(
                200,
                {"id": msg_id, "type": "message", "role": "assistant", "model": model, "content": content,
                 "stop_reason": stop, "stop_sequence": None, "usage": usage},
            )
            return
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("request-id", "req_standin_" + uuid.uuid4().hex[:12])
        self.send_header("connection", "close")
        self.end_headers()
        self.close_connection = True
        out = [sse("message_start", {"type": "message_start", "message": {
            "id": msg_id, "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": {**usage, "output_tokens": 1}}})]
        for i, block in enumerate(content):
            if block["type"] == "text":
                out.append(sse("content_block_start", {"type": "content_block_start", "index": i,
                                                       "content_block": {"type": "text", "text": ""}}))
                text = block["text"]
                for j in range(0, len(text), 40):
                    out.append(sse("content_block_delta", {"type": "content_block_delta", "index": i,
                                                           "delta": {"type": "text_delta", "text": text[j:j + 40]}}))
            else:
                out.append(sse("content_block_start", {"type": "content_block_start", "index": i, "content_block": {
                    "type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}}))
                args = json.dumps(block["input"])
                out.append(sse("content_block_delta", {"type": "content_block_delta", "index": i,
                                                       "delta": {"type": "input_json_delta", "partial_json": ""}}))
                for j in range(0, len(args), 8):
                    out.append(sse("content_block_delta", {"type": "content_block_delta", "index": i,
                                                           "delta": {"type": "input_json_delta", "partial_json": args[j:j + 8]}}))
            out.append(sse("content_block_stop", {"type": "content_block_stop", "index": i}))
        out.append(sse("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                                         "usage": {"output_tokens": 10}}))
        out.append(sse("message_stop", {"type": "message_stop"}))
        for chunk in out:
            self.wfile.write(chunk)
            self.wfile.flush()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--tool", required=True, help="the MCP tool to call, without the mcp__<server>__ prefix")
    ap.add_argument("--expect", default="", help="text to quote from the tool result")
    args = ap.parse_args()
    Handler.script = Script(args.tool, args.expect)
    Handler.log_path = args.log
    open(args.log, "w").close()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os

    os.replace(args.port_file + ".tmp", args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
