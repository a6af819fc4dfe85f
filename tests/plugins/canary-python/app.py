"""canary-python: a test plugin that tries to leave state for the next call.

`leave` hides a marker made from the canary everywhere a Python program can keep state
between calls of one instance: a module global, a list, a large bytearray
spread over many heap pages, `os.environ`, a class attribute, an interned
string and a module planted in `sys.modules`. `look` then searches every
object the garbage collector can reach, and those places by name, and says
where it found the canary. In a fresh instance per call it must find
nothing; with `instance_reuse` it finds it (which shows the search works).
"""

import gc
import json
import os
import sys
import types as pytypes

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports import tools
from wit_world.imports import types

SCHEMA = json.dumps(
    {
        "type": "object",
        "properties": {"canary": {"type": "string", "minLength": 8}},
        "required": ["canary"],
        "additionalProperties": False,
    }
)

LEFT = None
KEPT = []
HEAP = []


class Holder:
    secret = None


def marker(canary: str) -> str:
    """What `leave` hides: text no call's arguments contain."""
    return "left:" + canary


def leave(canary: str) -> list:
    global LEFT
    hidden = marker(canary)
    LEFT = hidden
    KEPT.append(hidden)
    # Many pages of heap, each holding the marker.
    blob = bytearray(hidden.encode()) * (2 * 1024 * 1024 // len(hidden))
    HEAP.append(blob)
    HEAP.extend(hidden + str(i) for i in range(2000))
    os.environ["CORRAL_CANARY"] = hidden
    Holder.secret = hidden
    sys.intern(hidden + "-interned")
    planted = pytypes.ModuleType("corral_canary")
    planted.secret = hidden
    sys.modules["corral_canary"] = planted
    return ["left"]


def look(canary: str) -> list:
    needle = marker(canary)
    needle_bytes = needle.encode()
    found = []
    if LEFT == needle or needle in KEPT:
        found.append("module global")
    if HEAP:
        found.append("heap list")
    if os.environ.get("CORRAL_CANARY") == needle:
        found.append("environ")
    if Holder.secret == needle:
        found.append("class attribute")
    if "corral_canary" in sys.modules:
        found.append("sys.modules")
    # Strings and bytes are not tracked by the collector: look at what
    # every tracked object refers to.
    mine = {id(needle), id(needle_bytes)}
    for holder in gc.get_objects():
        for obj in gc.get_referents(holder):
            if id(obj) in mine:
                continue
            if isinstance(obj, (bytes, bytearray)) and needle_bytes in obj:
                kind = "a bytes object"
            elif isinstance(obj, str) and needle in obj:
                kind = "a string object"
            else:
                continue
            if kind not in found:
                found.append(kind)
    return found


class Tools(exports.Tools):
    def list_tools(self) -> list:
        return [
            tools.Tool(
                name=name,
                title=None,
                description=description,
                input_schema=SCHEMA,
                output_schema=None,
                annotations=None,
                tags=[],
                icons=[],
            )
            for name, description in (
                ("leave", "Hide the canary in this instance's state"),
                ("look", "Where the canary is found in this instance's state"),
            )
        ]

    def call_tool(self, name: str, arguments: str, input) -> tools.Outcome:
        canary = json.loads(arguments)["canary"]
        if name == "leave":
            places = leave(canary)
        elif name == "look":
            places = look(canary)
        else:
            raise Err(types.Error_NotFound(f"unknown tool '{name}'"))
        return tools.Outcome_Complete(
            tools.ToolResult(
                content=[types.Content_Text(json.dumps(places))],
                structured=json.dumps({"places": places}),
                is_error=False,
            )
        )
