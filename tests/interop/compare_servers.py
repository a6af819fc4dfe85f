"""Compare what two MCP servers list and answer, with the official Python SDK.

    python tests/interop/compare_servers.py --a CMD... --b CMD... [--call JSON]...

Each server is a stdio command given as a JSON array (`--a '["corral", "serve",
"seed.wasm"]'`). Both are listed (tools, resources, templates, prompts) and
compared field by field, then each `--call` (`["tool", NAME, ARGS]`,
`["resource", URI]` or `["prompt", NAME, ARGS]`) is made on both and the
results compared. `_meta` is left out: it is each server's own business
(FastMCP keeps its tags there).

Prints one line per difference and ends with `N passed, M failed`.
"""

from __future__ import annotations

import argparse
import json
import sys

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters

FIELDS = {
    "tools": ("name", "title", "description", "inputSchema", "outputSchema", "annotations"),
    "resources": ("uri", "name", "title", "description", "mimeType"),
    "resourceTemplates": ("uriTemplate", "name", "title", "description", "mimeType"),
    "prompts": ("name", "title", "description", "arguments"),
}


def dump(model) -> dict:
    return model.model_dump(mode="json", exclude_none=True, by_alias=True)


async def snapshot(command: list[str], calls: list[list]) -> dict:
    params = StdioServerParameters(command=command[0], args=command[1:])
    out: dict = {}
    async with Client(params, mode="legacy") as client:
        for kind, fetch, key in (
            ("tools", client.list_tools, "name"),
            ("resources", client.list_resources, "uri"),
            ("resourceTemplates", client.list_resource_templates, "uriTemplate"),
            ("prompts", client.list_prompts, "name"),
        ):
            listed = dump(await fetch())[kind]
            out[kind] = {item[key]: {f: item.get(f) for f in FIELDS[kind]} for item in listed}
        answers = []
        for call in calls:
            if call[0] == "tool":
                r = dump(await client.call_tool(call[1], call[2]))
                answers.append({k: r.get(k) for k in ("content", "structuredContent", "isError")})
            elif call[0] == "resource":
                answers.append(dump(await client.read_resource(call[1]))["contents"])
            else:
                r = dump(await client.get_prompt(call[1], call[2]))
                answers.append({k: r.get(k) for k in ("description", "messages")})
        out["calls"] = answers
    return out


async def main_async(args) -> int:
    calls = [json.loads(c) for c in args.call]
    a = await snapshot(json.loads(args.a), calls)
    b = await snapshot(json.loads(args.b), calls)
    passed = failed = 0
    for kind in FIELDS:
        names = sorted(set(a[kind]) | set(b[kind]))
        for name in names:
            for field in FIELDS[kind]:
                va = a[kind].get(name, {}).get(field)
                vb = b[kind].get(name, {}).get(field)
                if va == vb:
                    passed += 1
                else:
                    failed += 1
                    print(f"DIFF {kind} {name} {field}:\n  a: {json.dumps(va)}\n  b: {json.dumps(vb)}")
    for call, va, vb in zip(calls, a["calls"], b["calls"]):
        if va == vb:
            passed += 1
        else:
            failed += 1
            print(f"DIFF call {json.dumps(call)}:\n  a: {json.dumps(va)}\n  b: {json.dumps(vb)}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--a", required=True, help="the first server's command, as a JSON array")
    p.add_argument("--b", required=True, help="the second server's command, as a JSON array")
    p.add_argument("--call", action="append", default=[], help="a call to make on both, as JSON")
    return anyio.run(main_async, p.parse_args())


if __name__ == "__main__":
    sys.exit(main())
