"""Pure statistics logic for the stats-python plugin.

Nothing here imports the generated WIT bindings, so this module runs (and can
be tested) under plain CPython as well as inside the component.
"""

import json
import math
import statistics

NUMBERS_SCHEMA = {
    "type": "object",
    "properties": {
        "numbers": {
            "type": "array",
            "items": {"type": "number"},
            "description": "The numbers to summarise (at least one).",
        }
    },
    "required": ["numbers"],
    "additionalProperties": False,
}

WRAPPED_NUMBER_SCHEMA = {
    "type": "object",
    "properties": {"result": {"type": "number"}},
    "required": ["result"],
    "x-fastmcp-wrap-result": True,
}

DESCRIBE_SCHEMA = {
    "type": "object",
    "properties": {
        "count": {"type": "integer", "description": "How many numbers there are."},
        "mean": {"type": "number", "description": "The arithmetic mean."},
        "min": {"type": "number", "description": "The smallest number."},
        "max": {"type": "number", "description": "The largest number."},
        "stdev": {
            "type": "number",
            "description": "The sample standard deviation (0 for a single number).",
        },
    },
    "required": ["count", "mean", "min", "max", "stdev"],
    "additionalProperties": False,
}

# name -> (title, description, output schema)
TOOLS = {
    "mean": (
        "Mean",
        "The arithmetic mean of a list of numbers.",
        WRAPPED_NUMBER_SCHEMA,
    ),
    "median": (
        "Median",
        "The median (middle value) of a list of numbers.",
        WRAPPED_NUMBER_SCHEMA,
    ),
    "describe": (
        "Describe",
        "Count, mean, min, max and sample standard deviation of a list of numbers.",
        DESCRIBE_SCHEMA,
    ),
}

TAGS = ["stats"]


class InvalidParams(Exception):
    """The arguments do not fit the input schema."""


class ToolFailure(Exception):
    """A user-facing failure (the WIT `tool-error` case)."""


def parse_numbers(arguments_json: str) -> list:
    """Parse and validate the `numbers` argument; raise InvalidParams if bad."""
    try:
        args = json.loads(arguments_json) if arguments_json.strip() else {}
    except ValueError as e:
        raise InvalidParams(f"arguments are not valid JSON: {e}") from None
    if not isinstance(args, dict):
        raise InvalidParams("arguments must be a JSON object")
    extra = sorted(k for k in args if k != "numbers")
    if extra:
        raise InvalidParams(f"unexpected argument '{extra[0]}'")
    if "numbers" not in args:
        raise InvalidParams("missing required argument 'numbers'")
    numbers = args["numbers"]
    if not isinstance(numbers, list):
        raise InvalidParams(
            f"argument 'numbers' must be an array of numbers, got {_json_type(numbers)}"
        )
    out = []
    for i, x in enumerate(numbers):
        # bool is a subclass of int in Python, but JSON true/false are not numbers.
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise InvalidParams(
                f"argument 'numbers' must contain only numbers; item {i} is {_json_type(x)}"
            )
        if isinstance(x, float) and not math.isfinite(x):
            raise InvalidParams(f"argument 'numbers' item {i} is not a finite number")
        out.append(x)
    return out


def _json_type(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "an array"
    if isinstance(v, dict):
        return "an object"
    return type(v).__name__


def compute(name: str, numbers: list):
    """Run tool `name`; returns the structured value (a dict)."""
    if not numbers:
        raise ToolFailure("numbers must not be empty")
    if name == "mean":
        return {"result": float(statistics.fmean(numbers))}
    if name == "median":
        return {"result": float(statistics.median(numbers))}
    if name == "describe":
        return {
            "count": len(numbers),
            "mean": float(statistics.fmean(numbers)),
            "min": float(min(numbers)),
            "max": float(max(numbers)),
            "stdev": float(statistics.stdev(numbers)) if len(numbers) > 1 else 0.0,
        }
    raise KeyError(name)


def render_text(name: str, structured: dict) -> str:
    """The text content block for a result."""
    if name in ("mean", "median"):
        return repr(structured["result"])
    return json.dumps(structured)
