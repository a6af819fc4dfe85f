"""A 2025-11-25 upstream's mid-call requests and log messages, relayed by Corral.

Run by tests/integration/upstream.rs against `corral serve --config corral.toml`
whose upstream `old` is reached over the legacy HTTP+SSE transport (so it speaks
2025-11-25 and asks for input in the middle of a call). With `--mode legacy` the
client is asked through the proxy and answers; with `--mode 2026-07-28` the
client cannot be asked mid-call, and the call fails saying so. Log messages reach
the client in both. With `--nag`, against the upstream `nag`
(tests/interop/nagging_server.py), one call may ask 8 times and the 9th ask fails
it, naming the input round limit. Prints `N passed, 0 failed` on success.

    python tests/interop/relay_client.py --mode legacy -- corral serve --config corral.toml
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import anyio
from mcp import Client, types
from mcp.client.stdio import StdioServerParameters, stdio_client


def text(result: Any) -> str:
    return next(b.text for b in result.content if getattr(b, "type", None) == "text")


async def run(args: argparse.Namespace) -> int:
    logs: list[str] = []
    asked: list[str] = []

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logs.append(str(params.data))

    async def on_elicit(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        # A string for every field the schema asks for.
        fields = (params.requested_schema or {}).get("properties", {})
        content = {name: "ann@example.com" if name == "email" else "ann" for name in fields}
        return types.ElicitResult(action="accept", content=content)

    params = StdioServerParameters(command=args.command[0], args=args.command[1:], env=dict(os.environ))
    passed = 0
    async with Client(
        stdio_client(params),
        mode=args.mode,
        logging_callback=on_log,
        elicitation_callback=on_elicit,
        log_level="debug",
    ) as client:
        if args.nag:
            # One call may ask 8 times (MAX_INPUT_ROUNDS); the 9th ask fails the call.
            result = await client.call_tool("nag_nag", {"times": 8})
            if result.is_error or text(result) != "answered 8 of 8" or len(asked) != 8:
                print(f"FAIL eight asks answered: {result} (asked: {len(asked)})")
                return 1
            result = await client.call_tool("nag_nag", {"times": 9})
            if not result.is_error or "input round limit" not in text(result) or len(asked) != 16:
                print(f"FAIL the ninth ask refused: {result} (asked: {len(asked)})")
                return 1
            print("2 passed, 0 failed")
            return 0
        result = await client.call_tool("old_test_elicitation", {"message": "Who are you?"})
        if args.mode == "legacy":
            want = 'User response: action=accept, content={"email":"ann@example.com","username":"ann"}'
            if result.is_error or text(result) != want or asked != ["Who are you?"]:
                print(f"FAIL elicitation relayed: {result} (asked: {asked})")
                return 1
        else:
            if not result.is_error or "cannot be asked in the middle of a call" not in text(result):
                print(f"FAIL elicitation refused for a 2026-07-28 client: {result}")
                return 1
        passed += 1
        result = await client.call_tool("old_test_tool_with_logging", {})
        if result.is_error or not any("Tool execution completed" in line for line in logs):
            print(f"FAIL log messages relayed: {result} (logs: {logs})")
            return 1
        passed += 1
    print(f"{passed} passed, 0 failed")
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mode", default="legacy", choices=["legacy", "2026-07-28"])
    p.add_argument("--nag", action="store_true", help="check the input round limit against `nag` (nagging_server.py)")
    p.add_argument("command", nargs=argparse.REMAINDER)
    args = p.parse_args()
    if args.command[:1] == ["--"]:
        args.command = args.command[1:]
    if not args.command:
        p.error("give the server command after --")
    return anyio.run(run, args)


if __name__ == "__main__":
    sys.exit(main())
