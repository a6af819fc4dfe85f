"""Print, as JSON, what a FastMCP-style module lists and answers.

    python dump.py corral  parity_app.py   # with Corral's SDK (run with the shims and the SDK on PYTHONPATH)
    python dump.py fastmcp parity_app.py   # the same file with its imports pointed at FastMCP

Both modes print the same normalized shape, so the parity test can compare
them field by field.
"""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import json
import sys
import tempfile
from pathlib import Path

CALLS = [
    ("tool", "multiply", {"a": 6, "b": 7}),
    ("tool", "defaults", {"a": 5}),
    ("tool", "defaults", {"a": 5, "b": "y", "c": 1.5, "d": True}),
    ("tool", "constrained", {"n": 3}),
    ("tool", "kinds", {"lit": "b", "color": "green", "pts": [{"x": 1}, {"x": 2, "y": 3}], "counts": {"z": 1, "a": 2}, "opt": 4, "nums": [1.5], "pair": [2, "b"]}),
    ("tool", "model", {"item": {"name": "bolt", "qty": 3}}),
    ("tool", "point", {"x": 1}),
    ("tool", "shout", {"text": "hi"}),
    ("tool", "picture", {}),
    ("tool", "nothing", {}),
    ("tool", "maybe", {"flag": True}),
    ("tool", "maybe", {"flag": False}),
    ("tool", "refuse", {"reason": "no"}),
    ("tool", "numbers", {"values": [1, 2.5], "scale": 2}),
    ("resource", "data://config", None),
    ("resource", "text://hello", None),
    ("resource", "users://42/profile", None),
    ("resource", "items://bolt/7", None),
    ("prompt", "analyze_data", {"data_points": "[1, 2.5]"}),
    ("prompt", "plan", {"topic": "a trip", "steps": "2"}),
    ("prompt", "described", {"topic": "owls"}),
]


def load(path: str, fastmcp: bool):
    source = Path(path).read_text()
    if fastmcp:
        source = source.replace("from corral", "from fastmcp")
        tmp = Path(tempfile.mkdtemp()) / Path(path).name
        tmp.write_text(source)
        path = str(tmp)
    spec = importlib.util.spec_from_file_location(Path(path).stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def clean(value):
    """Drop None fields and `_meta`; recurse."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items() if v is not None and k != "_meta"}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


def block(b: dict) -> dict:
    b = dict(b)
    if isinstance(b.get("data"), bytes):
        b["data"] = base64.b64encode(b["data"]).decode()
    return b


def corral_dump(module) -> dict:
    from corral.context import Rounds
    from corral.exceptions import FastMCPError
    from corral.server import serving

    server = serving()

    class Host:
        def log(self, level, message):
            pass

        def progress(self, *args):
            pass

        def cancelled(self):
            return False

    hints = {"read_only": "readOnlyHint", "destructive": "destructiveHint", "idempotent": "idempotentHint", "open_world": "openWorldHint"}
    out = {
        "tools": {t.name: clean({**t.describe(), "annotations": {hints[k]: v for k, v in t.annotations.items()} or None}) for t in server.tools.values()},
        "resources": {r.uri: clean(r.describe()) for r in server.resources.values()},
        "templates": {r.uri: clean(r.describe()) for r in server.templates.values()},
        "prompts": {p.name: clean(p.describe()) for p in server.prompts.values()},
        "calls": [],
    }
    for kind, name, args in CALLS:
        try:
            if kind == "tool":
                done = server.call_tool(name, json.dumps(args), Rounds(None, None), Host())
                result = {"content": [block(b) for b in done.content], "structuredContent": done.structured, "isError": False}
            elif kind == "resource":
                result = {"contents": [block(c) for c in server.read_resource(name, [], Rounds(None, None), Host())]}
            else:
                description, messages = server.get_prompt(name, list(args.items()), Rounds(None, None), Host())
                result = {"description": description, "messages": messages}
        except FastMCPError as e:  # a ToolError: the host answers isError with the message
            result = {"content": [{"type": "text", "text": str(e)}], "isError": True}
        out["calls"].append([kind, name, clean(result)])
    return out


async def fastmcp_dump(module) -> dict:
    from fastmcp import Client

    def dump(model):
        return model.model_dump(mode="json", exclude_none=True, by_alias=True)

    out: dict = {"calls": []}
    async with Client(module.mcp) as client:
        tools = {}
        for t in (await client.list_tools_mcp()).tools:
            d = dump(t)
            d["tags"] = sorted((d.get("_meta") or {}).get("fastmcp", {}).get("tags", []))
            if d.get("annotations"):
                d["annotations"].pop("title", None)
            tools[t.name] = clean(d)
        out["tools"] = tools
        out["resources"] = {}
        for r in (await client.list_resources_mcp()).resources:
            d = dump(r)
            d["tags"] = sorted((d.get("_meta") or {}).get("fastmcp", {}).get("tags", []))
            out["resources"][d["uri"]] = clean(d)
        out["templates"] = {}
        for r in (await client.list_resource_templates_mcp()).resourceTemplates:
            d = dump(r)
            d["tags"] = sorted((d.get("_meta") or {}).get("fastmcp", {}).get("tags", []))
            out["templates"][d["uriTemplate"]] = clean(d)
        out["prompts"] = {}
        for p in (await client.list_prompts_mcp()).prompts:
            d = dump(p)
            d["tags"] = sorted((d.get("_meta") or {}).get("fastmcp", {}).get("tags", []))
            out["prompts"][d["name"]] = clean(d)
        for kind, name, args in CALLS:
            if kind == "tool":
                d = dump(await client.call_tool_mcp(name, args))
                d = {k: d.get(k) for k in ("content", "structuredContent", "isError")}
            elif kind == "resource":
                d = {"contents": dump(await client.read_resource_mcp(name))["contents"]}
            else:
                d = dump(await client.get_prompt_mcp(name, args))
                d = {k: d.get(k) for k in ("description", "messages")}
            out["calls"].append([kind, name, clean(d)])
    return out


def main() -> None:
    mode, path = sys.argv[1], sys.argv[2]
    module = load(path, mode == "fastmcp")
    result = asyncio.run(fastmcp_dump(module)) if mode == "fastmcp" else corral_dump(module)
    json.dump(result, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
