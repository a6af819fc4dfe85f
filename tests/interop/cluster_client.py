"""Several Corral processes behind nginx, with the official Python SDK (mcp 2.3.0).

    python cluster_client.py --url URL --kill PID
        Clients of both protocol eras (2025-11-25 sessions, "legacy" to the SDK,
        and 2026-07-28) call `multiply` through URL, which spreads requests
        over the processes without affinity. Once every client has made a few
        calls the process PID is killed (SIGKILL); every client then goes on
        with more. Every call must succeed: a 2025 session continues on the
        surviving process, a 2026 client never notices.

    python cluster_client.py --url URL --resume
        A 2025-11-25 session calls `sleep_forever`, which the plugins'
        `[limits] timeout` (3s) ends, through a URL whose proxy cuts a response
        stream after 1s of silence. The SDK reconnects with `Last-Event-ID`,
        which the proxy may send to either process; the shared event store
        hands it the call's answer (the timeout) all the same. Then a call
        succeeds in the same session.

Prints one line per check; exits 1 at the first failure.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

CLIENTS_PER_ERA = 3
CALLS_BEFORE = 10
CALLS_AFTER = 20
PASSED = 0


class CheckFailed(Exception):
    pass


def check(ok: bool, what: str) -> None:
    global PASSED
    if not ok:
        raise CheckFailed(what)
    PASSED += 1
    print(f"ok {what}")


async def client(url: str, mode: str, n: int, ready: anyio.Event, killed: anyio.Event,
                 started: list[int]) -> None:
    async with httpx2.AsyncClient(timeout=30) as http:
        transport = streamable_http_client(url, http_client=http)
        async with Client(transport, mode=mode, read_timeout_seconds=30) as sdk:
            for i in range(CALLS_BEFORE):
                result = await sdk.call_tool("multiply", {"a": 6, "b": i})
                check(result.structured_content["result"] == 6 * i,
                      f"[{mode} #{n}] call {i} before the kill")
            started[0] += 1
            if started[0] == 2 * CLIENTS_PER_ERA:
                ready.set()
            await killed.wait()
            for i in range(CALLS_AFTER):
                result = await sdk.call_tool("multiply", {"a": 7, "b": i})
                check(result.structured_content["result"] == 7 * i,
                      f"[{mode} #{n}] call {i} after the kill")


async def run(url: str, pid: int) -> None:
    ready, killed = anyio.Event(), anyio.Event()
    started = [0]
    async with anyio.create_task_group() as group:
        for mode in ("legacy", "2026-07-28"):
            for n in range(CLIENTS_PER_ERA):
                group.start_soon(client, url, mode, n, ready, killed, started)
        await ready.wait()
        os.kill(pid, signal.SIGKILL)
        check(True, f"process {pid} killed while every client has its session open")
        killed.set()


async def resume(url: str) -> None:
    async with httpx2.AsyncClient(timeout=30) as http:
        transport = streamable_http_client(url, http_client=http)
        async with Client(transport, mode="legacy", read_timeout_seconds=30) as sdk:
            started = time.monotonic()
            result = await sdk.call_tool("sleep_forever", {})
            waited = time.monotonic() - started
            text = result.content[0].text if result.content else ""
            check(result.is_error and "timeout of 3s exceeded" in text,
                  f"the call's answer arrives over a resumed stream: {text!r}")
            check(waited >= 2.5, f"the call outlived its first stream ({waited:.1f}s)")
            result = await sdk.call_tool("multiply", {"a": 6, "b": 7})
            check(result.structured_content["result"] == 42, "the session goes on")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--kill", type=int)
    p.add_argument("--resume", action="store_true")
    args = p.parse_args()
    try:
        if args.resume:
            anyio.run(resume, args.url)
        else:
            anyio.run(run, args.url, args.kill)
    except CheckFailed as e:
        print(f"FAIL {e}")
        print(f"{PASSED} passed, 1 failed")
        return 1
    except BaseException as e:  # noqa: BLE001 - an SDK error is a failure too
        print(f"FAIL {e!r}")
        print(f"{PASSED} passed, 1 failed")
        return 1
    print(f"{PASSED} passed, 0 failed")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
