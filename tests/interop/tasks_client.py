"""MCP tasks (the io.modelcontextprotocol/tasks extension) through the official
Python MCP SDK (mcp 2.3.0), at 2026-07-28 over stdio.

The SDK has no tasks client of its own; it has client extensions (SEP-2133).
`Tasks` below is one: it advertises the extension, claims the `resultType:
"task"` answer of `tools/call`, and resolves it by polling `tasks/get`. Runs
against `corral serve --config corral.toml` as tests/integration/tasks.rs writes
it (the timing plugin, `concurrency = 1`, `queue = 0`, `task_timeout = "2s"`,
`[server] task_after = "0s"`) and checks:

- a long call comes back as a task and is polled to completion, transparently
  (`Client.call_tool`) and by hand (`tasks/get`);
- a task cancelled mid-run ends `cancelled`, and its guest is interrupted: the
  plugin's one slot is free at once for the next call;
- a task past `task_timeout` fails, naming the limit;
- a client without the extension gets ordinary results from the same tools.

Prints `N passed, 0 failed`.

    python tests/interop/tasks_client.py SYNC_DIR -- corral serve --config corral.toml
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any, Literal

import anyio
from pydantic import TypeAdapter
from mcp import Client
from mcp.client.extension import ClaimContext, ClientExtension, ResultClaim
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp_types import CallToolResult, Request, Result

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mcp_client import server_command, server_exit_failure  # noqa: E402

TASKS = "io.modelcontextprotocol/tasks"
TERMINAL = ("completed", "failed", "cancelled")
ANY_RESULT = TypeAdapter(dict[str, Any])


class CheckFailed(Exception):
    pass


def expect(ok: bool, message: str) -> None:
    if not ok:
        raise CheckFailed(message)


class TaskHandle(Result):
    """A `CreateTaskResult`: the task's id and where it is."""

    result_type: Literal["task"] = "task"
    task_id: str
    status: str
    ttl_ms: int | None = None
    poll_interval_ms: int | None = None


class Tasks(ClientExtension):
    """The tasks extension: a task answer is polled to its end."""

    identifier = TASKS

    def claims(self) -> list[ResultClaim[Any]]:
        return [ResultClaim(result_type="task", model=TaskHandle, resolve=self.resolve)]

    async def resolve(self, handle: TaskHandle, ctx: ClaimContext) -> CallToolResult:
        done = await poll(ctx.session, handle.task_id)
        if done["status"] != "completed":
            raise CheckFailed(f"task {handle.task_id} ended {done['status']}: {done}")
        return CallToolResult.model_validate(done["result"])


async def task_request(session: Any, method: str, params: dict[str, Any]) -> dict[str, Any]:
    return await session.send_request(Request[dict[str, Any], str](method=method, params=params), ANY_RESULT)


async def poll(session: Any, task_id: str, until: tuple[str, ...] = TERMINAL) -> dict[str, Any]:
    while True:
        task = await task_request(session, "tasks/get", {"taskId": task_id})
        if task["status"] in until:
            return task
        await anyio.sleep(min(task.get("pollIntervalMs") or 100, 100) / 1000)


async def start(client: Client, name: str, arguments: dict[str, Any]) -> TaskHandle:
    handle = await client.session.call_tool(name, arguments, allow_claimed=True)
    expect(isinstance(handle, TaskHandle), f"{name}: want a task, got {handle}")
    expect(handle.status == "working", f"{name}: a new task is working, got {handle.status}")
    expect(handle.ttl_ms and handle.ttl_ms > 0, f"{name}: ttlMs {handle.ttl_ms}")
    return handle


def text(result: CallToolResult) -> str:
    return next(b.text for b in result.content if getattr(b, "type", None) == "text")


async def polled_to_completion(client: Client, sync: str) -> None:
    # Transparently: the extension's resolver polls.
    result = await client.call_tool("slow", {"ms": 300})
    expect(not result.is_error and text(result) == "slow done", f"slow through the extension: {result}")
    # By hand: the task is visible while it works, then carries the result.
    handle = await start(client, "slow", {"ms": 400})
    seen = await task_request(client.session, "tasks/get", {"taskId": handle.task_id})
    expect(seen["taskId"] == handle.task_id and seen["status"] in ("working", "completed"), f"{seen}")
    done = await poll(client.session, handle.task_id)
    expect(done["status"] == "completed", f"{done}")
    expect(done["result"]["content"][0]["text"] == "slow done", f"{done}")


async def cancelled_mid_run(client: Client, sync: str) -> None:
    handle = await start(client, "hold", {"id": 1})
    # The guest is running (it marked itself started) and holds the plugin's one slot.
    with anyio.fail_after(30):
        while not os.path.exists(os.path.join(sync, "started-1")):
            await anyio.sleep(0.02)
    ack = await task_request(client.session, "tasks/cancel", {"taskId": handle.task_id})
    expect(ack.get("resultType") == "complete" and "status" not in ack, f"cancel ack {ack}")
    done = await poll(client.session, handle.task_id)
    expect(done["status"] == "cancelled", f"cancelled task: {done}")
    # Interrupted, not left running: with concurrency 1 and no queue, the next
    # call would be refused as busy while the held guest lived.
    deadline = time.monotonic() + 10
    while True:
        plain = await client.call_tool("fast", {})
        if not plain.is_error or time.monotonic() > deadline:
            break
        await anyio.sleep(0.02)  # the slot is given back as the guest unwinds
    expect(not plain.is_error and text(plain) == "fast done", f"fast after the cancel: {plain}")
    # Cancelling a finished task is an empty ack too, and changes nothing.
    again = await task_request(client.session, "tasks/cancel", {"taskId": handle.task_id})
    expect(again.get("resultType") == "complete", f"{again}")


async def past_task_timeout(client: Client, sync: str) -> None:
    handle = await start(client, "slow", {"ms": 5000})
    done = await poll(client.session, handle.task_id)
    expect(done["status"] == "failed", f"want failed, got {done}")
    message = done["error"]["message"]
    expect("task_timeout of 2s exceeded" in message, f"error {message!r} does not name the limit")
    expect("result" not in done, f"a failed task carries no result: {done}")


async def without_the_extension(server: Any) -> None:
    async with Client(server, mode="2026-07-28", read_timeout_seconds=30) as plain:
        result = await plain.call_tool("slow", {"ms": 50})
        expect(isinstance(result, CallToolResult) and text(result) == "slow done", f"{result}")


CASES = [
    ("polled to completion", polled_to_completion),
    ("cancelled mid-run", cancelled_mid_run),
    ("past task_timeout", past_task_timeout),
]


def stdio_server(command: list[str], status_file: str, stderr: str | None) -> Any:
    params = StdioServerParameters(
        command=sys.executable,
        args=server_command(command, status_file, None)[1:],
        env=dict(os.environ),
    )
    return stdio_client(params, errlog=open(stderr, "w") if stderr else sys.stderr)


async def run(args: argparse.Namespace) -> int:
    import tempfile

    status_file = os.path.join(tempfile.mkdtemp(prefix="tasks-client-"), "exit-status")
    passed = 0
    server = stdio_server(args.command, status_file, args.server_stderr)
    async with Client(server, mode="2026-07-28", read_timeout_seconds=30, extensions=[Tasks()]) as client:
        for name, check in CASES:
            try:
                with anyio.fail_after(60):
                    await check(client, args.sync)
            except Exception as e:  # noqa: BLE001 - any error is a failed check
                print(f"FAIL {name}: {e!r}")
                print(f"{passed} passed, 1 failed")
                return 1
            passed += 1
            print(f"ok   {name}")
    try:
        plain_status = status_file + ".plain"
        await without_the_extension(stdio_server(args.command, plain_status, args.server_stderr))
    except Exception as e:  # noqa: BLE001
        print(f"FAIL without the extension: {e!r}")
        print(f"{passed} passed, 1 failed")
        return 1
    passed += 1
    print("ok   without the extension")
    if failure := server_exit_failure(status_file):
        print(f"FAIL server exit: {failure}")
        print(f"{passed} passed, 1 failed")
        return 1
    print(f"{passed} passed, 0 failed")
    return 0


def main() -> int:
    argv = sys.argv[1:]
    if "--" not in argv:
        print("usage: tasks_client.py SYNC_DIR [--server-stderr FILE] -- COMMAND...", file=sys.stderr)
        return 2
    split = argv.index("--")
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sync", help="the directory granted to the timing plugin as /sync")
    p.add_argument("--server-stderr", metavar="FILE", help="send the servers' stderr here")
    args = p.parse_args(argv[:split])
    args.command = argv[split + 1 :]
    return anyio.run(run, args)


if __name__ == "__main__":
    sys.exit(main())
