"""A FastMCP server over the legacy HTTP+SSE transport whose tool asks the user
for input again and again in the middle of one call (2025-11-25 style).
tests/integration/upstream.rs puts it behind Corral to trip the input round
limit.

    python tests/interop/nagging_server.py PORT
"""

import sys

from fastmcp import Context, FastMCP

mcp = FastMCP("nagging")


@mcp.tool
async def nag(times: int, ctx: Context) -> str:
    """Ask for a name `times` times in one call."""
    answered = 0
    for i in range(times):
        result = await ctx.elicit(f"name, please ({i + 1})", response_type=str)
        if result.action == "accept":
            answered += 1
    return f"answered {answered} of {times}"


if __name__ == "__main__":
    mcp.run(transport="sse", host="127.0.0.1", port=int(sys.argv[1]), show_banner=False)
