"""FastMCP's `fastmcp.utilities` paths that plugins import from."""
