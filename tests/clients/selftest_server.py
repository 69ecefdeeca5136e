#!/usr/bin/env python3
"""A deliberately bad MCP server for run.sh's harness self-test: proves the ts-sdk and fastmcp
checks fail on exactly the faults issue 20 found in our servers. Its one tool, `bad_window`
(annotated read-only, no arguments), has an output schema with `format: "uint64"` (the TS SDK's
Ajv prints `unknown format "uint64" ignored`) and a field named `from` (fastmcp 2.x cannot build
its `.data` model: "Field names must not be keywords").

    python selftest_server.py PORT_FILE      (serves streamable HTTP on 127.0.0.1:<free port>/mcp)
"""

import socket
import sys

from fastmcp import FastMCP
from fastmcp.tools import Tool


def bad_window() -> dict:
    return {"from": "2026-01-01T00:00:00Z", "count": 3}


def main() -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    mcp = FastMCP("opsmcp-clients-selftest")
    mcp.add_tool(
        Tool.from_function(
            bad_window,
            name="bad_window",
            output_schema={
                "type": "object",
                "properties": {"from": {"type": "string"}, "count": {"type": "integer", "format": "uint64"}},
                "required": ["from", "count"],
            },
            annotations={"readOnlyHint": True},
        )
    )
    with open(sys.argv[1], "w") as f:
        f.write(str(port))
    mcp.run(transport="http", host="127.0.0.1", port=port, show_banner=False, log_level="ERROR")


if __name__ == "__main__":
    main()
