"""FastMCP-style server features through the official Python MCP SDK (mcp 2.3.0).

Runs against `corral serve --config corral.toml` as the integration test writes it
(tests/integration/features.rs), over stdio with
`-- COMMAND`, or Streamable HTTP with `--url`) and checks: pagination, prefixes,
tag filtering, disabled components, host-side validation, error masking (ToolError
still shown), template forms, and cancellation. Prints `N passed, 0 failed` on
success; exits 1 at the first failed check, or if a server command does not exit
with status 0 once its stdin closes.

    python tests/interop/features_client.py --mode legacy -- corral serve --config corral.toml
    python tests/interop/features_client.py --mode default --url http://127.0.0.1:8000/mcp
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from typing import Any

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mcp_client import server_command, server_exit_failure  # noqa: E402


class CheckFailed(Exception):
    pass


def expect(ok: bool, message: str) -> None:
    if not ok:
        raise CheckFailed(message)


def text(result: Any) -> str:
    return next(b.text for b in result.content if getattr(b, "type", None) == "text")


async def pagination(client: Client) -> None:
    names, cursor, pages = [], None, 0
    while True:
        page = await client.list_tools(cursor=cursor)
        expect(len(page.tools) <= 2, f"page of {len(page.tools)} tools, page size is 2")
        names += [t.name for t in page.tools]
        pages += 1
        cursor = page.next_cursor
        if not cursor:
            break
    timing = ["slow", "fast", "log_and_progress", "hold"]
    want = ["calc_add", "calc_multiply", "calc_divide", "greet", "stats", *timing, *[f"w_{t}" for t in timing]]
    expect(names == want, f"tools {names}, want {want}")
    expect(pages == 7, f"{pages} pages, want 7")


async def prefixes(client: Client) -> None:
    result = await client.call_tool("calc_multiply", {"a": 6, "b": 7})
    expect(not result.is_error and result.structured_content == {"result": 42.0}, f"calc_multiply: {result}")
    resources = [str(r.uri) for r in (await client.list_resources()).resources]
    expect("data://prof/config" in resources, f"resources {resources}")
    profile = await client.read_resource("users://prof/5/profile")
    expect(json.loads(profile.contents[0].text)["id"] == 5, f"profile: {profile}")


async def unknown_tool(client: Client, name: str) -> None:
    try:
        result = await client.call_tool(name, {})
    except Exception as e:  # noqa: BLE001 - the SDK raises on a JSON-RPC error
        expect("Unknown tool" in str(e) or "-32602" in str(e), f"{name}: {e}")
        return
    raise CheckFailed(f"{name} should be unknown, got {result}")


async def filters(client: Client) -> None:
    await unknown_tool(client, "echo")       # the hostile plugin is tagged `hidden`, excluded
    await unknown_tool(client, "red_pixel")  # disabled component
    await unknown_tool(client, "multiply")   # only served with its prefix


async def validation(client: Client) -> None:
    result = await client.call_tool("calc_multiply", {"a": "six", "c": 1})
    expect(result.is_error, f"bad arguments accepted: {result}")
    message = text(result)
    for part in ("/a: ", '"b" is a required property', "c"):
        expect(part in message, f"{part!r} missing from {message!r}")


async def masking(client: Client) -> None:
    divide = await client.call_tool("calc_divide", {"a": 1, "b": 0})
    expect(divide.is_error and text(divide) == "Division by zero is not allowed", f"ToolError: {divide}")
    slow = await client.call_tool("slow", {"ms": 5000})  # past the plugin's 1s timeout
    expect(slow.is_error, f"slow: {slow}")
    expect("details are in the server log" in text(slow), f"not masked: {text(slow)!r}")
    expect("timeout" not in text(slow), f"details leaked: {text(slow)!r}")


async def templates(client: Client) -> None:
    file = await client.read_resource("files://a%20b.txt")
    expect(file.contents[0].text == "contents of a b.txt", f"files: {file}")
    readme = await client.read_resource("memo://readme")
    expect("exports tools" in readme.contents[0].text, f"readme: {readme}")
    # {+path} spans segments; {?lang,limit} are optional query parameters.
    for uri, want in [
        ("docs://guide/intro.md", "guide/intro.md [en]"),
        ("docs://a/b?limit=3&lang=de", "a/b [de] first 3 lines"),
    ]:
        doc = await client.read_resource(uri)
        expect(doc.contents[0].text == want, f"{uri}: {doc}")


async def cancellation(client: Client) -> None:
    """Cancelling a call makes the server stop it. The `waiter` plugin runs one
    call at a time with none waiting (every other call is refused), and
    `w_slow` would hold that slot for an hour: only the server stopping the
    guest frees it within the check's 30 s."""
    started = anyio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        started.set()  # w_slow reports progress 0 once it runs

    async with anyio.create_task_group() as tg:
        async def hold_the_slot() -> None:
            await client.call_tool("w_slow", {"ms": 3_600_000}, progress_callback=on_progress)
            raise CheckFailed("the cancelled call was answered")

        tg.start_soon(hold_the_slot)
        await started.wait()
        busy = await client.call_tool("w_fast", {})
        expect(busy.is_error, f"a second call ran beside the first: {busy}")
        tg.cancel_scope.cancel()  # the client gives up on w_slow
    with anyio.move_on_after(20):
        while (after := await client.call_tool("w_fast", {})).is_error:
            await anyio.sleep(0.01)  # the server stops the guest asynchronously
        expect(text(after) == "fast done", f"after cancelling: {after}")
        return
    raise CheckFailed("the server did not stop the cancelled call: its slot was still taken after 20 s")


CASES = [pagination, prefixes, filters, validation, masking, templates, cancellation]


async def run(args: argparse.Namespace) -> int:
    status_file = None
    if args.url:
        server: Any = args.url
    else:
        # Under mcp_client.py's proxy, which records the server's exit status.
        status_file = os.path.join(tempfile.mkdtemp(prefix="features-client-"), "exit-status")
        command = server_command(args.command, status_file, None)
        # The SDK passes only a minimal environment by default; keep ours.
        params = StdioServerParameters(command=command[0], args=command[1:], env=dict(os.environ))
        server = stdio_client(params)
    mode = {"legacy": "legacy", "default": "auto"}[args.mode]
    passed = 0
    async with Client(server, mode=mode, read_timeout_seconds=30) as client:
        print(f"connected: protocol {client.protocol_version}")
        for case in CASES:
            try:
                with anyio.fail_after(30):
                    await case(client)
            except Exception as e:  # noqa: BLE001 - any error is a failed check
                print(f"FAIL {case.__name__}: {e}")
                print(f"{passed} passed, 1 failed")
                return 1
            passed += 1
            print(f"ok   {case.__name__}")
    if status_file is not None and (failure := server_exit_failure(status_file)):
        print(f"FAIL server exit: {failure}")
        print(f"{passed} passed, 1 failed")
        return 1
    print(f"{passed} passed, 0 failed")
    return 0


def main() -> int:
    argv = sys.argv[1:]
    command: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, command = argv[:i], argv[i + 1:]
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mode", choices=["legacy", "default"], default="default")
    p.add_argument("--url")
    args = p.parse_args(argv)
    args.command = command
    if bool(args.url) == bool(command):
        p.error("give exactly one of --url or a server command after --")
    return anyio.run(run, args)


if __name__ == "__main__":
    sys.exit(main())
