"""`fastmcp.utilities.types`: the content types a tool may return."""

from corral.content import Audio, File, Image

__all__ = ["Audio", "File", "Image"]
