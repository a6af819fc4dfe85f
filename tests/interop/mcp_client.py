"""Interop check: drive an MCP server with the official Python SDK (mcp 2.3.0).

Starts the server command given after `--` (or connects to `--url`), then runs
the seed-workload checks: calculator and stats tools, the config/users
resources and the analyze_data prompt.

    python tests/interop/mcp_client.py --mode legacy  -- target/release/corral serve plugins/dist
    python tests/interop/mcp_client.py --mode default -- python bench/fastmcp_server.py
    python tests/interop/mcp_client.py --url http://127.0.0.1:8000/mcp
    python tests/interop/mcp_client.py --only tools,prompts -- ...

Modes:
  legacy   Client(mode="legacy"): the `initialize` handshake (protocol <= 2025-11-25).
  default  Client(mode="auto"), the SDK's default: probes `server/discover` at
           2026-07-28 and falls back to `initialize`. This mode also checks that
           the modern protocol was negotiated (skip with --allow-fallback).
  2026-07-28  Client(mode="2026-07-28"): adopt the modern protocol without a probe.

Stops at the first failed check with a message and exit status 1; on success the
last line is `N passed, 0 failed`. An error while disconnecting fails too, and so
does a server command that does not exit with status 0 once its stdin closes.
Needs `pip install -r tests/interop/requirements.txt`.
"""

from __future__ import annotations

import argparse
import json
import os
import math
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from typing import Any

import anyio
import mcp.client.stdio as sdk_stdio
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS


class CheckFailed(Exception):
    pass


def expect(ok: bool, message: str) -> None:
    if not ok:
        raise CheckFailed(message)


def text_of(blocks: list[Any], what: str) -> str:
    texts = [b.text for b in blocks if getattr(b, "type", None) == "text"]
    expect(len(texts) >= 1, f"{what}: no text content in {blocks!r}")
    return texts[0]


def number_in_text(text: str, want: float, what: str) -> None:
    """Accept "42", "42.0", "4.2e1" - any text that parses as a number equal to `want`."""
    try:
        got = float(text.strip())
    except ValueError:
        raise CheckFailed(f"{what}: text content {text!r} is not a number") from None
    expect(math.isclose(got, want), f"{what}: text content {text!r} != {want}")


def json_equal(text: str, want: Any, what: str) -> None:
    try:
        got = json.loads(text)
    except ValueError:
        raise CheckFailed(f"{what}: not JSON: {text!r}") from None
    expect(got == want, f"{what}: got {got!r}, want {want!r}")


async def list_all(fetch: Callable[..., Awaitable[Any]], field: str) -> list[Any]:
    """Walk every page of a paginated list call."""
    items: list[Any] = []
    cursor = None
    for _ in range(100):
        page = await fetch(cursor=cursor)
        items.extend(getattr(page, field))
        cursor = page.next_cursor
        if not cursor:
            return items
    raise CheckFailed(f"{field}: more than 100 pages")


# --- checks -----------------------------------------------------------------
# Each check is an async callable taking the connected Client; it raises
# CheckFailed (or anything else) on a mismatch.


#: The tools the server must list (`--tools`): by default the calculator's
#: and the stats plugin's; the FastMCP seed file has only multiply and divide.
EXPECTED_TOOLS = ["multiply", "divide", "add", "mean", "median", "describe"]


async def check_tools_list(client: Client) -> None:
    tools = {t.name: t for t in await list_all(client.list_tools, "tools")}
    for name in EXPECTED_TOOLS:
        expect(name in tools, f"tool {name!r} missing from tools/list (have {sorted(tools)})")
    schema = tools["multiply"].input_schema
    props = schema.get("properties", {})
    for arg in ("a", "b"):
        expect(arg in props, f"multiply inputSchema has no property {arg!r}: {schema}")
        expect(props[arg].get("type") == "number", f"multiply.{arg} is not type number: {props[arg]}")
    expect(set(schema.get("required", [])) >= {"a", "b"}, f"multiply requires {schema.get('required')}, want a and b")


async def check_multiply(client: Client) -> None:
    r = await client.call_tool("multiply", {"a": 6, "b": 7})
    expect(not r.is_error, f"multiply returned isError: {r.content!r}")
    number_in_text(text_of(r.content, "multiply"), 42, "multiply")
    expect(r.structured_content == {"result": 42}, f"multiply structuredContent {r.structured_content!r}, want {{'result': 42}}")


async def check_divide_by_zero(client: Client) -> None:
    r = await client.call_tool("divide", {"a": 1, "b": 0})
    expect(r.is_error, f"divide by zero: isError is false: {r!r}")
    text = text_of(r.content, "divide")
    expect("Division by zero is not allowed" in text, f"divide by zero: text {text!r}")


async def check_mean(client: Client) -> None:
    if "mean" not in EXPECTED_TOOLS:
        return
    r = await client.call_tool("mean", {"numbers": [1, 2, 3, 4]})
    expect(not r.is_error, f"mean returned isError: {r.content!r}")
    expect(r.structured_content == {"result": 2.5}, f"mean structuredContent {r.structured_content!r}, want {{'result': 2.5}}")
    number_in_text(text_of(r.content, "mean"), 2.5, "mean")


async def check_resources_list(client: Client) -> None:
    uris = [str(r.uri) for r in await list_all(client.list_resources, "resources")]
    expect("data://config" in uris, f"data://config missing from resources/list: {uris}")


async def check_read_config(client: Client) -> None:
    r = await client.read_resource("data://config")
    expect(len(r.contents) == 1, f"data://config: {len(r.contents)} contents, want 1")
    json_equal(getattr(r.contents[0], "text", ""), {"theme": "dark", "version": "1.0", "features": ["analytics", "reporting"]}, "data://config")


async def check_templates_list(client: Client) -> None:
    templates = [t.uri_template for t in await list_all(client.list_resource_templates, "resource_templates")]
    expect("users://{user_id}/profile" in templates, f"users://{{user_id}}/profile missing: {templates}")


async def check_read_profile(client: Client) -> None:
    r = await client.read_resource("users://42/profile")
    expect(len(r.contents) == 1, f"users://42/profile: {len(r.contents)} contents, want 1")
    json_equal(getattr(r.contents[0], "text", ""), {"id": 42, "name": "User 42", "status": "active"}, "users://42/profile")


async def check_prompts_list(client: Client) -> None:
    names = [p.name for p in await list_all(client.list_prompts, "prompts")]
    expect("analyze_data" in names, f"analyze_data missing from prompts/list: {names}")


async def check_get_prompt(client: Client) -> None:
    r = await client.get_prompt("analyze_data", {"data_points": "[1.5, 2.5, 3]"})
    expect(len(r.messages) == 1, f"analyze_data: {len(r.messages)} messages, want 1")
    m = r.messages[0]
    expect(m.role == "user", f"analyze_data: role {m.role!r}, want 'user'")
    text = text_of([m.content], "analyze_data")
    expect("1.5, 2.5, 3" in text, f"analyze_data: text {text!r} lacks '1.5, 2.5, 3'")


CASES: list[tuple[str, str, Callable[[Client], Awaitable[None]]]] = [
    ("tools", "tools/list", check_tools_list),
    ("tools", "call multiply", check_multiply),
    ("tools", "call divide by zero", check_divide_by_zero),
    ("tools", "call mean", check_mean),
    ("resources", "resources/list", check_resources_list),
    ("resources", "read data://config", check_read_config),
    ("resources", "resources/templates/list", check_templates_list),
    ("resources", "read users://42/profile", check_read_profile),
    ("prompts", "prompts/list", check_prompts_list),
    ("prompts", "get analyze_data", check_get_prompt),
]
GROUPS = sorted({g for g, _, _ in CASES})


# --- running ----------------------------------------------------------------


def sdk_mode(mode: str) -> str:
    return {"legacy": "legacy", "default": "auto"}.get(mode, mode)


async def run(args: argparse.Namespace) -> int:
    only = set(args.only.split(",")) if args.only else set(GROUPS)
    unknown = only - set(GROUPS)
    if unknown:
        print(f"--only: unknown group(s) {sorted(unknown)}; choose from {GROUPS}", file=sys.stderr)
        return 2

    status_file = None
    if args.url:
        server: Any = args.url
        target = args.url
    elif args.sse:
        server = sse_client(args.sse)
        target = args.sse
    else:
        # The command runs under a small proxy that records its exit status.
        status_file = os.path.join(tempfile.mkdtemp(prefix="mcp-client-"), "exit-status")
        command = server_command(args.command, status_file, args.trace)
        # The SDK passes only a minimal environment by default; keep ours
        # (CORRAL_CACHE_DIR, RUST_LOG, ...).
        params = StdioServerParameters(command=command[0], args=command[1:], env=dict(os.environ))
        errlog = open(args.server_stderr, "w") if args.server_stderr else sys.stderr
        server = stdio_client(params, errlog=errlog)
        target = " ".join(args.command)

    print(f"connecting (mode={args.mode}, SDK mode={sdk_mode(args.mode)!r}) to {target}")
    state: dict[str, Any] = {"passed": 0, "rc": None}  # rc: set once the checks are done
    try:
        rc = await run_cases(args, server, only, state)
    except Exception as e:  # noqa: BLE001 - connection setup or teardown failed
        if state["rc"] == 0:  # every check passed; the session did not end cleanly
            print(f"FAIL disconnect: {leaf(e)}")
        elif state["rc"] is None:
            print(f"FAIL connection: {leaf(e)}")
        else:  # a failed check was reported already
            return state["rc"]
        print(f"{state['passed']} passed, 1 failed")
        return 1
    if rc != 0:
        return rc
    if status_file is not None and (failure := server_exit_failure(status_file)):
        print(f"FAIL server exit: {failure}")
        print(f"{state['passed']} passed, 1 failed")
        return 1
    print(f"{state['passed']} passed, 0 failed")
    return 0


# The SDK gives a server this long to exit once its stdin closes, then kills
# it; a busy machine can need more than its 2 s, and a kill is a failure here.
sdk_stdio.PROCESS_TERMINATION_TIMEOUT = 30.0


def server_command(command: list[str], status_file: str, trace: str | None) -> list[str]:
    """`command` run under this script's proxy, which writes its exit status
    to `status_file` (and logs every line to `trace`, if given)."""
    return [sys.executable, os.path.abspath(__file__), "--_proxy", trace or "-", status_file, "--", *command]


def server_exit_failure(status_file: str) -> str | None:
    """Why the server command did not end well, or None if it exited 0."""
    try:
        with open(status_file) as f:
            status = int(f.read())
    except (OSError, ValueError):
        return "the server did not exit after its stdin closed (it was killed)"
    if status < 0:
        return f"the server was killed by signal {-status}"
    if status != 0:
        return f"the server exited with status {status}"
    return None


def leaf(e: BaseException) -> str:
    """The first innermost exception of an (anyio) exception group, as text."""
    while isinstance(e, BaseExceptionGroup) and e.exceptions:
        e = e.exceptions[0]
    return f"{type(e).__name__}: {e}"


async def run_cases(args: argparse.Namespace, server: Any, only: set[str], state: dict[str, Any]) -> int:
    started = time.perf_counter()
    async with Client(server, mode=sdk_mode(args.mode), read_timeout_seconds=args.timeout) as client:
        proto = client.protocol_version
        info = client.server_info
        print(f"connected in {time.perf_counter() - started:.2f}s: protocol {proto}, "
              f"server {info.name + ' ' + info.version if info else '(anonymous)'}")
        want = HANDSHAKE_PROTOCOL_VERSIONS if args.mode == "legacy" else MODERN_PROTOCOL_VERSIONS
        if not (args.mode == "default" and args.allow_fallback) and proto not in want:
            print(f"FAIL protocol: negotiated {proto}, want one of {list(want)}")
            print(f"{state['passed']} passed, 1 failed")
            state["rc"] = 1
            return 1
        for group, name, check in CASES:
            if group not in only:
                continue
            t0 = time.perf_counter()
            try:
                with anyio.fail_after(args.timeout):
                    await check(client)
            except Exception as e:  # noqa: BLE001 - any error is a failed check
                msg = str(e) if isinstance(e, CheckFailed) else leaf(e)
                print(f"FAIL {group}: {name}: {msg}")
                print(f"{state['passed']} passed, 1 failed")
                state["rc"] = 1
                return 1
            state["passed"] += 1
            print(f"ok   {group}: {name} ({(time.perf_counter() - t0) * 1000:.1f} ms)")
        state["rc"] = 0
    return 0


def proxy(trace_path: str, status_file: str, command: list[str]) -> int:
    """Run `command` on this process's stdio, logging every line to
    `trace_path` unless it is `-`; write its exit status to `status_file`."""
    if trace_path == "-":
        status = subprocess.call(command)
    else:
        status = relay(trace_path, command)
    with open(status_file, "w") as f:
        f.write(str(status))
    return 0 if status == 0 else 1


def relay(trace_path: str, command: list[str]) -> int:
    """Run `command`, relaying stdio and logging every line to `trace_path`."""
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    lock = threading.Lock()
    log = open(trace_path, "w", buffering=1)

    def pump(src: Any, dst: Any, arrow: str) -> None:
        for line in iter(src.readline, b""):
            with lock:
                log.write(f"{arrow} {line.decode(errors='replace').rstrip()}\n")
            dst.write(line)
            dst.flush()
        if arrow == "->":
            dst.close()

    up = threading.Thread(target=pump, args=(sys.stdin.buffer, child.stdin, "->"), daemon=True)
    up.start()
    pump(child.stdout, sys.stdout.buffer, "<-")
    return child.wait()


def main() -> int:
    argv = sys.argv[1:]
    if argv[:1] == ["--_proxy"]:  # --_proxy TRACE STATUS -- COMMAND...
        return proxy(argv[1], argv[2], argv[4:])
    command: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, command = argv[:i], argv[i + 1:]
    p = argparse.ArgumentParser(
        description="Check an MCP server against Corral's seed examples with the official Python SDK.",
        usage="%(prog)s [options] (--url URL | --sse URL | -- COMMAND [ARGS...])",
    )
    p.add_argument("--mode", default="default", choices=["legacy", "default", *MODERN_PROTOCOL_VERSIONS],
                   help="legacy: initialize handshake; default: the SDK's auto mode, expecting 2026-07-28")
    p.add_argument("--only", help=f"comma-separated groups to run: {','.join(GROUPS)}")
    p.add_argument("--tools", help=f"comma-separated tools the server must list (default {','.join(EXPECTED_TOOLS)})")
    p.add_argument("--url", help="connect over streamable HTTP instead of launching a command")
    p.add_argument("--sse", metavar="URL", help="connect over the legacy HTTP+SSE transport (GET URL, e.g. http://127.0.0.1:8000/sse)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per request (default 30)")
    p.add_argument("--allow-fallback", action="store_true",
                   help="in default mode, accept a server that only speaks the initialize handshake")
    p.add_argument("--server-stderr", metavar="FILE", help="send the server's stderr here instead of ours")
    p.add_argument("--trace", metavar="FILE", help="log every JSON-RPC line exchanged over stdio to FILE")
    args = p.parse_args(argv)
    args.command = command
    if args.tools:
        EXPECTED_TOOLS[:] = args.tools.split(",")
    if [bool(args.url), bool(args.sse), bool(command)].count(True) != 1:
        p.error("give exactly one of --url, --sse or a server command after --")
    return anyio.run(run, args)


if __name__ == "__main__":
    sys.exit(main())
