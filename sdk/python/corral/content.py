"""Content blocks: `Image`, `Audio`, `File`, and turning results into blocks.

A block is a plain dict shaped like MCP's content (`{"type": "text",
"text": ...}`, `{"type": "image", "data": b"...", "mimeType": ...}`) with
raw bytes instead of base64; the component layer maps it onto the WIT.
"""

from __future__ import annotations

import json
import mimetypes
from typing import Any

from corral.convert import to_jsonable


class _Media:
    kind = ""
    default_type = ""

    def __init__(self, path: str | None = None, data: bytes | None = None, format: str | None = None, annotations: Any = None) -> None:  # noqa: A002 - FastMCP's name
        if (path is None) == (data is None):
            raise ValueError(f"{type(self).__name__} takes exactly one of path= and data=")
        self.path = path
        self.data = data
        self._format = format

    @property
    def mime_type(self) -> str:
        if self._format:
            return f"{self.kind}/{self._format.lower()}"
        if self.path:
            guessed = mimetypes.guess_type(self.path)[0]
            if guessed:
                return guessed
        return self.default_type

    def _bytes(self) -> bytes:
        if self.data is not None:
            return self.data
        with open(self.path, "rb") as f:  # only inside a granted directory
            return f.read()

    def to_block(self) -> dict:
        return {"type": self.kind, "data": self._bytes(), "mimeType": self.mime_type}


class Image(_Media):
    """An image result: `Image(data=png_bytes, format="png")` or `Image(path=...)`."""

    kind = "image"
    default_type = "image/png"


class Audio(_Media):
    """An audio result: `Audio(data=wav_bytes, format="wav")` or `Audio(path=...)`."""

    kind = "audio"
    default_type = "audio/wav"


class File(_Media):
    """A file result, embedded as a resource: `File(data=..., format="pdf", name=...)`."""

    kind = "file"
    default_type = "application/octet-stream"

    def __init__(self, path: str | None = None, data: bytes | None = None, format: str | None = None, name: str | None = None, annotations: Any = None) -> None:  # noqa: A002
        super().__init__(path, data, format)
        self.name = name

    @property
    def mime_type(self) -> str:
        if self._format:
            return mimetypes.types_map.get("." + self._format.lower(), f"application/{self._format.lower()}")
        return super().mime_type

    def to_block(self) -> dict:
        name = self.name or (self.path.rsplit("/", 1)[-1] if self.path else "file")
        data = self._bytes()
        mime = self.mime_type
        if mime.startswith("text/"):
            body: dict = {"text": data.decode()}
        else:
            body = {"blob": data}
        return {"type": "resource", "resource": {"uri": f"file:///{name}", "mimeType": mime, **body}}


def is_content_type(tp: Any) -> bool:
    """Whether a return annotation is a content type (no output schema)."""
    return isinstance(tp, type) and issubclass(tp, _Media)


def serialize(value: Any) -> str:
    """Compact JSON text of a value, as FastMCP's default serializer writes it."""
    return json.dumps(to_jsonable(value), separators=(",", ":"), ensure_ascii=False)


def to_blocks(result: Any) -> list[dict]:
    """The content blocks of a tool's return value, as FastMCP converts it."""
    if result is None:
        return []
    if isinstance(result, (list, tuple)):
        if any(isinstance(item, _Media) for item in result):
            return [_one_block(item) for item in result]
        return [{"type": "text", "text": serialize(result)}]
    return [_one_block(result)]


def _one_block(value: Any) -> dict:
    if isinstance(value, _Media):
        return value.to_block()
    if isinstance(value, str):
        return {"type": "text", "text": value}
    return {"type": "text", "text": serialize(value)}
