"""sdk-python: the Python SDK's features through the host, for the tests.

Context logging and progress, elicitation over several rounds, images,
ToolError, argument checking and `async def`, written the FastMCP way.
"""

from dataclasses import dataclass
from typing import Annotated, Literal

from corral import Context, FastMCP, Image, ToolError
from pydantic import Field

mcp = FastMCP("sdk-python")


@dataclass
class Order:
    item: str
    qty: Annotated[int, Field(ge=1, le=99)] = 1


@mcp.tool
async def introduce(ctx: Context) -> str:
    """Ask the user's name, then their age."""
    await ctx.info("asking for a name")
    await ctx.report_progress(1, 2, "name")
    name = await ctx.elicit("What is your name?", str)
    if name.action != "accept":
        return f"no introduction ({name.action})"
    age = await ctx.elicit(f"How old are you, {name.data}?", int)
    if age.action != "accept":
        return f"{name.data} keeps their age to themselves"
    return f"{name.data} is {age.data}"


@mcp.tool
def order(order: Order, speed: Literal["normal", "express"] = "normal") -> dict:
    """Place an order."""
    return {"item": order.item, "qty": order.qty, "speed": speed}


@mcp.tool
def pixel() -> Image:
    """A one-pixel PNG."""
    return Image(data=bytes.fromhex("89504e470d0a1a0a"), format="png")


@mcp.tool
def refuse(reason: str) -> str:
    """Always fails, with the reason."""
    raise ToolError(f"refused: {reason}")


@mcp.tool
def crash() -> str:
    """Fails with an unexpected exception."""
    return {}["missing"]


@mcp.tool(task=True)
def slow_sum(values: list[float]) -> float:
    """A tool that may run as a task."""
    return sum(values)


mcp.run()
