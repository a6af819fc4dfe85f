"""stats-python: a Corral tool plugin written in Python.

Targets the `corral:mcp/tool-provider` world: it imports `context` and exports
only `tools` (no resources or prompts), which shows that a component may
export a subset of the full `mcp-component` world.

componentize-py looks for a class named after each exported interface, so the
`tools` export is the `Tools` class below.
"""

import json

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports import tools
from wit_world.imports import context, types

import stats_core


class Tools(exports.Tools):
    def list_tools(self) -> list:
        input_schema = json.dumps(stats_core.NUMBERS_SCHEMA)
        return [
            tools.Tool(
                name=name,
                title=title,
                description=description,
                input_schema=input_schema,
                output_schema=json.dumps(output_schema),
                annotations=tools.Annotations(
                    read_only=True, destructive=False, idempotent=True, open_world=False
                ),
                tags=list(stats_core.TAGS),
                icons=[],
            )
            for name, (title, description, output_schema) in stats_core.TOOLS.items()
        ]

    def call_tool(self, name: str, arguments: str, input) -> tools.Outcome:
        # Errors are the WIT `result` error case: componentize-py maps a raised
        # `Err(error)` to `result::err(error)`.
        if name not in stats_core.TOOLS:
            raise Err(types.Error_NotFound(f"unknown tool '{name}'"))
        try:
            numbers = stats_core.parse_numbers(arguments)
        except stats_core.InvalidParams as e:
            raise Err(types.Error_InvalidParams(str(e)))

        context.log(context.LogLevel.INFO, f"{name} of {len(numbers)} numbers")

        try:
            structured = stats_core.compute(name, numbers)
        except stats_core.ToolFailure as e:
            raise Err(types.Error_ToolError(str(e)))
        except Exception as e:  # anything unexpected: hidden when masking is on
            raise Err(types.Error_Internal(f"{type(e).__name__}: {e}"))

        return tools.Outcome_Complete(
            tools.ToolResult(
                content=[types.Content_Text(stats_core.render_text(name, structured))],
                structured=json.dumps(structured),
                is_error=False,
            )
        )
