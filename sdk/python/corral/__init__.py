"""Corral's Python SDK: FastMCP's server API for Corral plugins.

A FastMCP server file becomes a Corral plugin by changing its import::

    from corral import FastMCP          # was: from fastmcp import FastMCP

    mcp = FastMCP("Demo")

    @mcp.tool
    def multiply(a: float, b: float) -> float:
        \"\"\"Multiply two numbers.\"\"\"
        return a * b

and `corral build app.py -o app.wasm` makes the WebAssembly component.
Schemas come from the type hints and docstring when the module is imported,
which happens at build time: the component starts with them ready.

`Corral` is the same class as `FastMCP`, for code that prefers the name.
"""

from corral.content import Audio, File, Image
from corral.context import (
    AcceptedElicitation,
    CancelledElicitation,
    Context,
    DeclinedElicitation,
)
from corral.exceptions import (
    FastMCPError,
    NotFoundError,
    PromptError,
    ResourceError,
    ToolError,
    ValidationError,
)
from corral.fields import BaseModel, Field
from corral.prompts import Message
from corral.server import FastMCP

Corral = FastMCP

__version__ = "0.1.0"

__all__ = [
    "AcceptedElicitation",
    "Audio",
    "BaseModel",
    "CancelledElicitation",
    "Context",
    "Corral",
    "DeclinedElicitation",
    "FastMCP",
    "FastMCPError",
    "Field",
    "File",
    "Image",
    "Message",
    "NotFoundError",
    "PromptError",
    "ResourceError",
    "ToolError",
    "ValidationError",
]
