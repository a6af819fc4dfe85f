"""A FastMCP-style plugin exercising what the SDK derives from signatures.

The parity test loads it twice: as written (Corral's SDK) and with its
imports pointed at FastMCP, and compares what each lists and answers.
"""

from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Literal, Optional

from pydantic import BaseModel, Field

from corral import Context, FastMCP
from corral.exceptions import ToolError
from corral.utilities.types import Image

mcp = FastMCP("parity", instructions="Every kind of signature.")


class Color(Enum):
    RED = "red"
    GREEN = "green"


@dataclass
class Point:
    x: float
    y: float = 0.0


class Item(BaseModel):
    name: str = Field(description="The item's name")
    qty: int = 1


@mcp.tool
def multiply(a: float, b: float) -> float:
    """Multiply two numbers."""
    return a * b


@mcp.tool
def defaults(a: int, b: str = "x", c: Optional[float] = None, d: bool = False) -> str:
    """Defaults and optionals.

    Args:
        a: The a value.
        b (str): The b value,
            over two lines.
    """
    return f"{a}{b}{c}{d}"


@mcp.tool(name="constrained", description="Custom description", tags={"t1", "t0"}, annotations={"readOnlyHint": True, "idempotentHint": True, "title": "Constrained"})
def constrained_fn(
    n: Annotated[int, Field(description="A number", ge=1, le=10)],
    s: Annotated[str, Field(min_length=2, max_length=5, pattern="^[a-z]+$")] = "ab",
    f: Annotated[float, "a bare description"] = 0.5,
) -> dict:
    return {"n": n, "s": s, "f": f}


@mcp.tool
def kinds(lit: Literal["a", "b"], color: Color, pts: list[Point], counts: dict[str, int], opt: int | None = None, nums: list[float] = [], pair: tuple[int, str] = (1, "a")) -> list[str]:
    """Literal, Enum, dataclasses, dicts, unions and tuples."""
    return [lit, color.value, str(sum(p.x + p.y for p in pts)), str(sorted(counts.items())), str(opt), str(nums), str(pair)]


@mcp.tool
def model(item: Item, ctx: Context) -> Item:
    """A model in, a model out; the Context is not an argument."""
    return Item(name=item.name.upper(), qty=item.qty * 2)


@mcp.tool
def point(x: float) -> Point:
    return Point(x, 2.0)


@mcp.tool
async def shout(text: str):
    """An async tool without a return annotation."""
    return text.upper()


@mcp.tool
def picture() -> Image:
    return Image(data=b"\x89PNG\r\n", format="png")


@mcp.tool
def nothing() -> None:
    return None


@mcp.tool
def maybe(flag: bool) -> int | None:
    return 1 if flag else None


@mcp.tool
def refuse(reason: str) -> str:
    raise ToolError(f"refused: {reason}")


@mcp.tool(tags={"math"})
def numbers(values: list[float], scale: Annotated[float, Field(gt=0)] = 1.0) -> list[float]:
    """Numbers in, numbers out.

    Parameters
    ----------
    values
        The numbers.
    scale : float
        What to multiply them by.
    """
    return [v * scale for v in values]


@mcp.resource("data://config")
def get_config() -> dict:
    """Provides the application configuration."""
    return {"theme": "dark", "version": "1.0", "features": ["analytics", "reporting"]}


@mcp.resource("text://hello", mime_type="text/markdown", tags={"docs"})
def hello() -> str:
    return "# hi"


@mcp.resource("users://{user_id}/profile")
def get_user_profile(user_id: int) -> dict:
    """Retrieves a user's profile by ID."""
    return {"id": user_id, "name": f"User {user_id}", "status": "active"}


@mcp.resource("items://{kind}/{item_id}", name="item", description="One item.", mime_type="application/json")
def item_res(kind: str, item_id: int) -> dict:
    return {"kind": kind, "id": item_id}


@mcp.prompt
def analyze_data(data_points: list[float]) -> str:
    """Creates a prompt asking for analysis of numerical data."""
    formatted_data = ", ".join(str(point) for point in data_points)
    return f"Please analyze these data points: {formatted_data}"


@mcp.prompt(name="plan", description="Plan a piece of work.", tags={"work"})
def plan_prompt(topic: str, steps: int = 3, style: Literal["short", "long"] = "short") -> list:
    return [f"Plan {topic} in {steps} {style} steps.", f"Steps for {topic}: {steps + 1}"]


@mcp.prompt
def described(topic: Annotated[str, Field(description="The topic")]) -> str:
    """A prompt whose argument has a description."""
    return f"Tell me about {topic}."


if __name__ == "__main__":
    mcp.run()
