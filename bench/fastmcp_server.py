"""The Corral seed workload, written the idiomatic FastMCP way.

This is the reference server for interop checks and benchmarks: it serves the
same tools, resources and prompts that Corral serves from its plugins
(calculator, stats-python, and the config/users/analyze_data examples), using
nothing but FastMCP's own decorators.

    python bench/fastmcp_server.py                          # stdio
    python bench/fastmcp_server.py --transport http --port 8000   # http://127.0.0.1:8000/mcp

Requires `pip install -r bench/requirements.txt` (fastmcp 4.2.3).
"""

from __future__ import annotations

import argparse
import statistics
from typing import Annotated

from fastmcp import FastMCP
from fastmcp.exceptions import ToolError
from pydantic import BaseModel, Field

mcp = FastMCP("corral-seed")

Numbers = Annotated[list[float], Field(description="The numbers to summarise (at least one).")]


# --- calculator -------------------------------------------------------------


@mcp.tool(tags={"math"})
def add(a: float, b: float) -> float:
    """Add two numbers."""
    return a + b


@mcp.tool(tags={"math"})
def multiply(a: float, b: float) -> float:
    """Multiply two numbers."""
    return a * b


@mcp.tool(tags={"math"})
def divide(a: float, b: float) -> float:
    """Divide a by b."""
    if b == 0:
        raise ToolError("Division by zero is not allowed")
    return a / b


# --- stats ------------------------------------------------------------------


def _require(numbers: list[float]) -> list[float]:
    if not numbers:
        raise ToolError("numbers must not be empty")
    return numbers


@mcp.tool(tags={"stats"})
def mean(numbers: Numbers) -> float:
    """The arithmetic mean of a list of numbers."""
    return statistics.fmean(_require(numbers))


@mcp.tool(tags={"stats"})
def median(numbers: Numbers) -> float:
    """The median (middle value) of a list of numbers."""
    return float(statistics.median(_require(numbers)))


class Description(BaseModel):
    count: int = Field(description="How many numbers there are.")
    mean: float = Field(description="The arithmetic mean.")
    min: float = Field(description="The smallest number.")
    max: float = Field(description="The largest number.")
    stdev: float = Field(description="The sample standard deviation (0 for a single number).")


@mcp.tool(tags={"stats"})
def describe(numbers: Numbers) -> Description:
    """Count, mean, min, max and sample standard deviation of a list of numbers."""
    numbers = _require(numbers)
    return Description(
        count=len(numbers),
        mean=statistics.fmean(numbers),
        min=min(numbers),
        max=max(numbers),
        stdev=statistics.stdev(numbers) if len(numbers) > 1 else 0.0,
    )


# --- resources --------------------------------------------------------------


@mcp.resource("data://config")
def config() -> dict:
    """The application configuration."""
    return {"theme": "dark", "version": "1.0", "features": ["analytics", "reporting"]}


@mcp.resource("users://{user_id}/profile")
def user_profile(user_id: int) -> dict:
    """A user's profile."""
    return {"id": user_id, "name": f"User {user_id}", "status": "active"}


# --- prompts ----------------------------------------------------------------


@mcp.prompt
def analyze_data(data_points: list[float]) -> str:
    """Ask the model to analyse a series of numbers."""
    formatted = ", ".join(str(point) for point in data_points)
    return f"Please analyze these data points: {formatted}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    if args.transport == "stdio":
        mcp.run(transport="stdio", show_banner=False)
    else:
        mcp.run(transport="http", host=args.host, port=args.port, show_banner=False)


if __name__ == "__main__":
    main()
