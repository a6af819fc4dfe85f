"""__NAME__: a Corral plugin in Python, written with FastMCP's API.

Build it with `corral build app.py -o __NAME__.wasm`; every call runs in a
fresh sandbox, so keep no state between calls.
"""

from corral import Context, FastMCP

mcp = FastMCP("__NAME__")


@mcp.tool(annotations={"readOnlyHint": True, "idempotentHint": True})
async def greet(name: str, ctx: Context) -> str:
    """Say hello to someone.

    Args:
        name: Who to greet.
    """
    await ctx.info(f"greeting {name}")
    return f"Hello, {name}!"


@mcp.resource("__NAME__://about")
def about() -> str:
    """What this plugin is."""
    return "__NAME__ is a Corral plugin written in Python."


@mcp.prompt
def review(code: str) -> str:
    """Ask the model to review a piece of code."""
    return f"Please review this code:\n\n{code}"


if __name__ == "__main__":
    mcp.run()
