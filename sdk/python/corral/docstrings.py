"""Descriptions from docstrings: the summary, and one line per parameter.

Google style (`Args:` with `name: text` or `name (type): text`), NumPy style
(`Parameters` over a `----------` rule) and Sphinx style (`:param name:
text`) are read, as FastMCP reads them; the sections are cut from the
description.
"""

from __future__ import annotations

import inspect
import re

_GOOGLE_SECTION = re.compile(r"^(Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments|Returns?|Yields?|Raises|Examples?|Notes?|Attributes|See Also|Warnings?):\s*$")
_PARAM_SECTIONS = {"Args", "Arguments", "Parameters", "Params", "Keyword Args", "Keyword Arguments"}
_GOOGLE_ENTRY = re.compile(r"^\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_NUMPY_ENTRY = re.compile(r"^(\w+)\s*(?::.*)?$")
_SPHINX = re.compile(r"^:(param|parameter|arg|argument|key|keyword)\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")
_SPHINX_ANY = re.compile(r"^:\w+")


def parse(doc: str | None) -> tuple[str | None, dict[str, str]]:
    """(description without its sections, {parameter: description})."""
    if not doc:
        return None, {}
    lines = inspect.cleandoc(doc).splitlines()
    summary: list[str] = []
    params: dict[str, str] = {}
    i = 0
    in_summary = True
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        numpy_rule = i + 1 < len(lines) and re.fullmatch(r"-{3,}", lines[i + 1].strip() or "x") is not None
        google = _GOOGLE_SECTION.match(stripped) if not line.startswith(" ") else None
        if google or (numpy_rule and stripped):
            in_summary = False
            name = google.group(1) if google else stripped
            i += 1 if google else 2
            body = []
            while i < len(lines):
                nxt = lines[i]
                if nxt.strip() and not nxt.startswith((" ", "\t")) and not (numpy_rule and not google):
                    break
                if numpy_rule and not google and i + 1 < len(lines) and re.fullmatch(r"-{3,}", lines[i + 1].strip() or "x"):
                    break
                body.append(nxt)
                i += 1
            if name in _PARAM_SECTIONS:
                params.update(_entries(body, numpy=not google))
            continue
        sphinx = _SPHINX.match(stripped)
        if sphinx:
            in_summary = False
            params[sphinx.group(2)] = sphinx.group(3).strip()
            i += 1
            continue
        if _SPHINX_ANY.match(stripped):
            in_summary = False
            i += 1
            continue
        if in_summary:
            summary.append(line)
        i += 1
    description = "\n".join(summary).strip()
    return (description or None), params


def _entries(body: list[str], numpy: bool) -> dict[str, str]:
    out: dict[str, list[str]] = {}
    indent = min((len(b) - len(b.lstrip()) for b in body if b.strip()), default=0)
    current = None
    for raw in body:
        if not raw.strip():
            continue
        depth = len(raw) - len(raw.lstrip())
        text = raw.strip()
        if depth == indent:
            match = (_NUMPY_ENTRY if numpy else _GOOGLE_ENTRY).match(text)
            if match:
                current = match.group(1)
                out[current] = [] if numpy else [match.group(2)]
                continue
        if current is not None:
            out[current].append(text)
    return {k: "\n".join(p for p in v if p).strip() for k, v in out.items() if any(v)}
