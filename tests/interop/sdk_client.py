"""The Python SDK's features through Corral, checked with the official client.

Run by tests/integration/sdk_ports.rs against `corral serve sdk-python.wasm`
and `corral serve sdk-js.wasm` (tests/plugins/sdk-python and sdk-js, the same
tools written with each SDK, built by `corral build`), once per protocol era:
an `async def` tool that logs, reports progress and asks the user twice
(mid-call for `--mode legacy`, by input rounds for `--mode 2026-07-28`), a
dataclass argument with constraints, an image, a ToolError, an unexpected
exception, and the Context left out of the input schema. Prints `N passed, 0 failed`.

    python tests/interop/sdk_client.py --mode legacy -- corral serve sdk-python.wasm
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
from typing import Any

import anyio
from mcp import Client, types
from mcp.client.stdio import StdioServerParameters, stdio_client


def text(result: Any) -> str:
    return next(b.text for b in result.content if getattr(b, "type", None) == "text")


class Failed(Exception):
    pass


def expect(ok: bool, what: str) -> None:
    if not ok:
        raise Failed(what)


async def run(args: argparse.Namespace) -> int:
    logs: list[str] = []
    asked: list[str] = []
    progress: list[tuple] = []

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logs.append(str(params.data))

    async def on_elicit(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        value = "Ada" if "name" in params.message else 36
        return types.ElicitResult(action="accept", content={"value": value})

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total, message))

    params = StdioServerParameters(command=args.command[0], args=args.command[1:], env=dict(os.environ))
    checks = 0
    async with Client(stdio_client(params), mode=args.mode, logging_callback=on_log, elicitation_callback=on_elicit, log_level="debug") as client:
        try:
            r = await client.call_tool("introduce", {}, progress_callback=on_progress)
            expect(not r.is_error and text(r) == "Ada is 36", f"introduce: {r}")
            expect(asked == ["What is your name?", "How old are you, Ada?"], f"introduce asked {asked}")
            expect("asking for a name" in logs, f"introduce logged {logs}")
            expect((1.0, 2.0, "name") in progress, f"introduce reported {progress}")
            checks += 1

            r = await client.call_tool("order", {"order": {"item": "bolt", "qty": 3}})
            expect(r.structured_content == {"item": "bolt", "qty": 3, "speed": "normal"}, f"order: {r}")
            checks += 1

            try:
                r = await client.call_tool("order", {"order": {"item": "bolt", "qty": 0}})
                expect(r.is_error and "qty" in text(r), f"order with qty 0: {r}")
            except Exception as e:  # a JSON-RPC invalid-params error is right too
                expect("qty" in str(e) or "minimum" in str(e), f"order with qty 0 raised {e!r}")
            checks += 1

            r = await client.call_tool("pixel", {})
            image = r.content[0]
            expect(image.type == "image" and image.mime_type == "image/png", f"pixel: {r}")
            expect(base64.b64decode(image.data) == bytes.fromhex("89504e470d0a1a0a"), f"pixel data: {image.data}")
            checks += 1

            r = await client.call_tool("refuse", {"reason": "no"})
            expect(r.is_error and text(r) == "refused: no", f"refuse: {r}")
            checks += 1

            r = await client.call_tool("crash", {})
            expect(r.is_error, f"crash: {r}")
            checks += 1

            tools = {t.name: t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in (await client.list_tools()).tools}
            expect("introduce" in tools and "ctx" not in tools["introduce"]["inputSchema"].get("properties", {}), f"introduce schema {tools['introduce']}")
            checks += 1
        except Failed as e:
            print(f"FAIL {e}")
            print(f"{checks} passed, 1 failed")
            return 1
    print(f"{checks} passed, 0 failed")
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mode", default="legacy", choices=["legacy", "2026-07-28"])
    p.add_argument("command", nargs=argparse.REMAINDER)
    args = p.parse_args()
    if args.command[:1] == ["--"]:
        args.command = args.command[1:]
    if not args.command:
        p.error("give the server command after --")
    return anyio.run(run, args)


if __name__ == "__main__":
    sys.exit(main())
