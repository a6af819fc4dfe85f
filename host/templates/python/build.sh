#!/usr/bin/env bash
# Build __NAME__.wasm from app.py with componentize-py.
# Uses $COMPONENTIZE_PY if set; otherwise a local .venv (created on first run).
set -euo pipefail
cd "$(dirname "$0")"

VERSION=0.25.1
cpy="${COMPONENTIZE_PY:-}"
if [ -z "$cpy" ]; then
    cpy=.venv/bin/componentize-py
    if [ ! -x "$cpy" ]; then
        echo "creating .venv with componentize-py==$VERSION" >&2
        python3 -m venv .venv
        .venv/bin/python -m pip install --quiet --disable-pip-version-check "componentize-py==$VERSION"
    fi
fi

"$cpy" -d wit -w corral:mcp/mcp-component componentize app -o __NAME__.wasm
echo "built __NAME__.wasm" >&2
