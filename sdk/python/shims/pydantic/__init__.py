"""Corral's stand-in for pydantic inside a component (pydantic's core has no
WASI build). `corral build` puts this directory on the component's path, so
`from pydantic import BaseModel, Field` works in a plugin; outside the
component the real pydantic is imported as usual. See `corral.fields` for
what is supported."""

from corral.exceptions import ValidationError
from corral.fields import BaseModel, Field

__all__ = ["BaseModel", "Field", "ValidationError"]
