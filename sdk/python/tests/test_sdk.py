"""The SDK's own behaviour: arguments, errors, the Context's input rounds,
docstrings, and the mistakes it refuses at registration (build) time."""

import asyncio
import json
import sys
import unittest
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from corral import Context, FastMCP, ToolError  # noqa: E402
from corral.context import NeedsInput, Rounds  # noqa: E402
from corral.convert import ArgumentError  # noqa: E402
from corral.docstrings import parse  # noqa: E402
from corral.exceptions import NotFoundError, PromptError  # noqa: E402
from corral.fields import BaseModel, Field  # noqa: E402
from corral.schema import SchemaError  # noqa: E402


class Host:
    def __init__(self):
        self.logs, self.progress_reports = [], []

    def log(self, level, message):
        self.logs.append((level, message))

    def progress(self, progress, total, message):
        self.progress_reports.append((progress, total, message))

    def cancelled(self):
        return False


@dataclass
class Address:
    city: str
    zip: Annotated[str, Field(pattern=r"^\d{5}$")]


def server() -> FastMCP:
    mcp = FastMCP("test")

    @mcp.tool
    def typed(n: Annotated[int, Field(ge=1, le=10)], tags: list[str], where: Address, mode: Literal["a", "b"] = "a") -> str:
        return f"{n} {tags} {where.city} {mode}"

    @mcp.tool
    async def ask(ctx: Context) -> str:
        await ctx.info("asking")
        await ctx.report_progress(1, 2, "half")
        name = await ctx.elicit("Your name?", str)
        if name.action != "accept":
            return f"no name ({name.action})"
        age = await ctx.elicit("Your age?", int)
        return f"{name.data} is {age.data}"

    @mcp.tool
    async def summarize(text: str, ctx: Context) -> str:
        answer = await ctx.sample(f"Summarize: {text}", max_tokens=50)
        roots = await ctx.list_roots()
        return f"{answer.text} ({len(roots)} roots)"

    @mcp.tool
    async def sleeps() -> str:
        await asyncio.sleep(1)
        return "never"

    @mcp.prompt
    def bad_prompt() -> int:
        return 3

    return mcp


def call(mcp, name, args, rounds=None, host=None):
    return mcp.call_tool(name, json.dumps(args), rounds or Rounds(None, None), host or Host())


class Arguments(unittest.TestCase):
    def test_values_are_converted_to_the_annotated_types(self):
        done = call(server(), "typed", {"n": 3.0, "tags": ["x"], "where": {"city": "Oslo", "zip": "01234"}})
        self.assertEqual(done.content, [{"type": "text", "text": "3 ['x'] Oslo a"}])

    def test_bad_arguments_name_what_is_wrong(self):
        cases = [
            ({"tags": [], "where": {"city": "a", "zip": "12345"}}, "missing required argument 'n'"),
            ({"n": 0, "tags": [], "where": {"city": "a", "zip": "12345"}}, "n: must be >= 1, got 0"),
            ({"n": 2.5, "tags": [], "where": {"city": "a", "zip": "12345"}}, "n: expected an integer, got 2.5"),
            ({"n": 1, "tags": [1], "where": {"city": "a", "zip": "12345"}}, "tags[0]: expected a string, got a number"),
            ({"n": 1, "tags": [], "where": {"city": "a", "zip": "1"}}, "where.zip: must match the pattern"),
            ({"n": 1, "tags": [], "where": {"zip": "12345"}}, "where: missing required field 'city'"),
            ({"n": 1, "tags": [], "where": {"city": "a", "zip": "12345"}, "mode": "c"}, "mode: expected one of ['a', 'b'], got 'c'"),
            ({"n": 1, "tags": [], "where": {"city": "a", "zip": "12345"}, "extra": 1}, "unexpected argument 'extra'"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                with self.assertRaises(ArgumentError) as caught:
                    call(server(), "typed", args)
                self.assertIn(message, str(caught.exception))

    def test_unknown_names_are_not_found(self):
        mcp = server()
        with self.assertRaises(NotFoundError):
            call(mcp, "nope", {})
        with self.assertRaises(NotFoundError):
            mcp.get_prompt("nope", [], Rounds(None, None), Host())
        with self.assertRaises(NotFoundError):
            mcp.read_resource("x://y", [], Rounds(None, None), Host())

    def test_a_prompt_must_return_messages(self):
        with self.assertRaises(PromptError):
            server().get_prompt("bad_prompt", [], Rounds(None, None), Host())


class InputRounds(unittest.TestCase):
    def test_each_question_is_asked_once_and_answers_accumulate_in_the_state(self):
        mcp, host = server(), Host()
        with self.assertRaises(NeedsInput) as first:
            call(mcp, "ask", {}, host=host)
        [(key, (kind, payload))] = first.exception.requests
        self.assertEqual((key, kind), ("elicit-0", "elicit"))
        self.assertEqual(payload["requestedSchema"]["properties"]["value"]["type"], "string")
        self.assertEqual(host.logs, [("info", "asking")])
        self.assertEqual(host.progress_reports, [(1.0, 2.0, "half")])

        name = json.dumps({"action": "accept", "content": {"value": "Ada"}})
        with self.assertRaises(NeedsInput) as second:
            call(mcp, "ask", {}, Rounds([("elicit-0", name)], first.exception.state))
        self.assertEqual(second.exception.requests[0][0], "elicit-1")

        age = json.dumps({"action": "accept", "content": {"value": 36}})
        done = call(mcp, "ask", {}, Rounds([("elicit-1", age)], second.exception.state))
        self.assertEqual(done.content[0]["text"], "Ada is 36")

    def test_a_declined_question_ends_the_conversation(self):
        declined = json.dumps({"action": "decline"})
        done = call(server(), "ask", {}, Rounds([("elicit-0", declined)], None))
        self.assertEqual(done.content[0]["text"], "no name (decline)")

    def test_an_answer_of_the_wrong_type_is_a_tool_error(self):
        wrong = json.dumps({"action": "accept", "content": {"value": "Ada"}})
        with self.assertRaises(ToolError):
            call(server(), "ask", {}, Rounds([("elicit-0", wrong), ("elicit-1", wrong)], None))

    def test_sampling_and_roots(self):
        mcp = server()
        with self.assertRaises(NeedsInput) as first:
            call(mcp, "summarize", {"text": "t"})
        [(key, (kind, payload))] = first.exception.requests
        self.assertEqual((key, kind, payload["maxTokens"]), ("sample-0", "sample", 50))
        self.assertEqual(payload["messages"], [{"role": "user", "content": {"type": "text", "text": "Summarize: t"}}])
        sampled = json.dumps({"role": "assistant", "content": {"type": "text", "text": "short"}, "model": "m"})
        roots = json.dumps({"roots": [{"uri": "file:///a"}]})
        done = call(mcp, "summarize", {"text": "t"}, Rounds([("sample-0", sampled), ("roots-1", roots)], None))
        self.assertEqual(done.content[0]["text"], "short (1 roots)")

    def test_awaiting_a_timer_says_there_is_no_event_loop(self):
        with self.assertRaisesRegex(RuntimeError, "needs an event loop"):
            call(server(), "sleeps", {})


class Registration(unittest.TestCase):
    def test_mistakes_are_refused_when_the_module_is_imported(self):
        mcp = FastMCP("bad")

        def recursive():
            class Node(BaseModel):
                children: list["Node"]

            @mcp.tool
            def walk(node: Node) -> int:
                return 0

        def template_mismatch():
            @mcp.resource("users://{user_id}")
            def user(id: int) -> dict:
                return {}

        def unknown_option():
            @mcp.tool(colour="red")
            def f() -> int:
                return 0

        def varargs():
            @mcp.tool
            def f(*numbers: float) -> float:
                return 0.0

        for attempt, error in [(recursive, (SchemaError, NameError)), (template_mismatch, TypeError), (unknown_option, TypeError), (varargs, SchemaError)]:
            with self.subTest(attempt=attempt.__name__):
                with self.assertRaises(error):
                    attempt()

    def test_fastmcp_options_without_meaning_here_are_accepted(self):
        mcp = FastMCP("ok", version="1", auth=None)

        @mcp.tool(timeout=5, meta={"a": 1}, task=True)
        def slow() -> int:
            return 1

        self.assertEqual(mcp.tools["slow"].task, "optional")

    def test_run_outside_a_component_says_how_to_build(self):
        with self.assertRaisesRegex(SystemExit, "corral build"):
            FastMCP("x").run(transport="http", port=1)


class Docstrings(unittest.TestCase):
    def test_each_style_gives_a_summary_and_parameters(self):
        cases = [
            ("Sum.\n\nArgs:\n    a: First.\n    b (int): Second,\n        continued.\n\nReturns:\n    The sum.", "Sum.", {"a": "First.", "b": "Second,\ncontinued."}),
            ("Sum.\n\nParameters\n----------\na : int\n    First.\nb\n    Second.\n", "Sum.", {"a": "First.", "b": "Second."}),
            ("Sum.\n\n:param a: First.\n:param int b: Second.\n:returns: The sum.", "Sum.", {"a": "First.", "b": "Second."}),
            ("Just a line.", "Just a line.", {}),
            (None, None, {}),
        ]
        for doc, summary, params in cases:
            with self.subTest(doc=doc):
                self.assertEqual(parse(doc), (summary, params))


class Models(unittest.TestCase):
    def test_a_model_converts_and_dumps_its_fields(self):
        class Item(BaseModel):
            name: str = Field(description="n")
            qty: int = 1

        item = Item(name="bolt", qty=2.0)
        self.assertEqual(item.model_dump(), {"name": "bolt", "qty": 2})
        self.assertEqual(Item.model_json_schema()["properties"]["name"], {"description": "n", "type": "string"})
        with self.assertRaises(ArgumentError):
            Item(qty=1)


if __name__ == "__main__":
    unittest.main()
