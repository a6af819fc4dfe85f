"""The SDK lists and answers what FastMCP does for the same file.

`parity_app.py` is written the FastMCP way with Corral's imports. It is
dumped twice by `dump.py`: as written, and with its imports pointed at
FastMCP (this test needs FastMCP installed: the bench venv has it). The two
must agree field by field: names, titles, descriptions, input and output
schemas, annotations, tags, and the results of a table of calls.

Known, documented differences are normalized away by `dump.py`: FastMCP's
`_meta`, and the title inside `annotations` (Corral reports it as the tool's
title).
"""

import json
import os
import subprocess
import sys
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
SDK = HERE.parent


def dump(mode: str) -> dict:
    env = dict(os.environ)
    if mode == "corral":
        env["PYTHONPATH"] = os.pathsep.join([str(SDK / "shims"), str(SDK)])
    out = subprocess.run(
        [sys.executable, str(HERE / "dump.py"), mode, str(HERE / "parity_app.py")],
        capture_output=True, text=True, env=env, timeout=120,
    )
    if out.returncode != 0:
        raise AssertionError(f"dump.py {mode} failed:\n{out.stderr}")
    return json.loads(out.stdout)


class Parity(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        try:
            import fastmcp  # noqa: F401
        except ImportError:
            raise unittest.SkipTest("FastMCP is not installed (run with target/bench-venv/bin/python)")
        cls.fastmcp = dump("fastmcp")
        cls.corral = dump("corral")

    def test_the_same_components_are_listed(self):
        for kind in ("tools", "resources", "templates", "prompts"):
            with self.subTest(kind=kind):
                self.assertEqual(sorted(self.corral[kind]), sorted(self.fastmcp[kind]))

    def test_every_component_matches_field_by_field(self):
        for kind in ("tools", "resources", "templates", "prompts"):
            for name, want in self.fastmcp[kind].items():
                got = self.corral[kind].get(name, {})
                for field in sorted(set(want) | set(got)):
                    with self.subTest(kind=kind, name=name, field=field):
                        self.assertEqual(got.get(field), want.get(field))

    def test_every_call_answers_the_same(self):
        self.assertEqual(len(self.corral["calls"]), len(self.fastmcp["calls"]))
        for got, want in zip(self.corral["calls"], self.fastmcp["calls"]):
            with self.subTest(call=want[:2]):
                self.assertEqual(got, want)


if __name__ == "__main__":
    unittest.main()
