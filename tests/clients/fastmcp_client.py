#!/usr/bin/env python3
"""fastmcp 2.x (pinned in requirements.txt) as a client of one opsmcp server over /mcp.

    python fastmcp_client.py URL/mcp TOOL

initialize, tools/list, resources/list and resources/templates/list (when the server declares
resources), prompts/list (when it declares prompts), then:

  * for every tool with an outputSchema, the model fastmcp builds from it to fill `.data`
    (json_schema_to_type + a pydantic TypeAdapter: the path that broke on a field named `from`)
    must build;
  * one call of TOOL (no arguments): not an error, structuredContent an object, and
    `.data` not None (fastmcp parsed the structured result into its generated model).

Any warning (Python's warnings module) or log record at WARNING or above (fastmcp logs
"Error parsing structured content" there instead of raising) fails the check, except the
warnings `import fastmcp` itself gives before any server is involved (reported as
import_warnings). Prints one JSON
line on stdout; exit 0 when ok.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import logging
import sys
import warnings
from typing import Any

problems: list[str] = []


class Collect(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        problems.append(f"log {record.levelname} {record.name}: {record.getMessage()}")


def showwarning(message, category, filename, lineno, file=None, line=None):  # noqa: ANN001
    problems.append(f"warning {category.__name__}: {message} ({filename}:{lineno})")


async def check(url: str, tool_name: str) -> dict[str, Any]:
    from fastmcp import Client
    from fastmcp.utilities.json_schema_type import json_schema_to_type
    from fastmcp.utilities.types import get_cached_typeadapter

    report: dict[str, Any] = {"ok": False, "fastmcp": importlib.metadata.version("fastmcp"), "url": url, "tool": tool_name}
    async with Client(url) as client:
        init = client.initialize_result
        caps = init.capabilities
        report["server"] = init.serverInfo.name
        report["protocol"] = init.protocolVersion
        tools = await client.list_tools()
        report["tools"] = len(tools)
        if not tools:
            raise RuntimeError("tools/list returned no tools")
        models, bad = 0, []
        for t in tools:
            if t.outputSchema:
                try:
                    get_cached_typeadapter(json_schema_to_type(t.outputSchema))
                    models += 1
                except Exception as e:  # noqa: BLE001
                    bad.append(f"{t.name}: {type(e).__name__}: {e}"[:300])
        report["output_models"] = models
        if bad:
            raise RuntimeError("fastmcp cannot build the .data model of: " + "; ".join(bad))
        tool = next((t for t in tools if t.name == tool_name), None)
        if tool is None:
            raise RuntimeError(f"{tool_name} is not in tools/list")
        if not tool.outputSchema:
            raise RuntimeError(f"{tool_name} has no outputSchema")
        if caps.resources:
            report["resources"] = len(await client.list_resources())
            report["templates"] = len(await client.list_resource_templates())
        else:
            report["resources"] = report["templates"] = "not declared"
        if caps.prompts:
            report["prompts"] = len(await client.list_prompts())
        else:
            report["prompts"] = "not declared"
        result = await client.call_tool(tool_name, {}, raise_on_error=False)
        if result.is_error:
            raise RuntimeError(f"{tool_name} returned isError: {result.content!r}"[:500])
        if not isinstance(result.structured_content, dict):
            raise RuntimeError(f"{tool_name} has no structuredContent object")
        if result.data is None:
            raise RuntimeError(f"{tool_name}: .data is None although the tool has an outputSchema")
        report["data_type"] = type(result.data).__name__
        report["ok"] = True
    return report


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: fastmcp_client.py URL TOOL", file=sys.stderr)
        return 2
    url, tool = sys.argv[1], sys.argv[2]
    # Importing fastmcp 2.14.7 warns by itself (Authlib deprecates the authlib.jose module that
    # fastmcp's JWT provider imports), before any server is involved: kept as a note, not a
    # failure. Everything from here on counts.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import fastmcp  # noqa: F401  (configures its own non-propagating "fastmcp" logger)
    import_warnings = [f"{w.category.__name__}: {str(w.message).splitlines()[0]}" for w in caught]

    for name in ("", "fastmcp"):
        logging.getLogger(name).addHandler(Collect(level=logging.WARNING))
    warnings.simplefilter("always")
    warnings.showwarning = showwarning
    try:
        report = asyncio.run(check(url, tool))
    except BaseException as e:  # noqa: BLE001
        report = {"ok": False, "url": url, "tool": tool, "error": f"{type(e).__name__}: {e}"[:1000]}
    report["problems"] = problems
    report["import_warnings"] = import_warnings
    if problems:
        report["ok"] = False
    print(json.dumps(report, default=str))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
