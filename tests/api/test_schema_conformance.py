"""Schemathesis against a real `encounter serve --no-auth` on a fresh SQLite file: every operation of
/openapi.json, bounded examples; no response is a 500 and every response conforms to the schema."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import running_server

pytestmark = pytest.mark.slow  # a server process and about a thousand requests

CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
]
SEED = "20261127"  # the same cases on every run; change it to explore others


def test_every_operation_conforms_to_the_schema(tmp_path: Path):
    with running_server(str(tmp_path / "clinic.db"), "--no-auth") as base:
        command = [
            sys.executable, "-m", "schemathesis.cli", "run", f"{base}/openapi.json", "--checks", ",".join(CHECKS),
            "--max-examples", "30", "--seed", SEED, "--no-color",
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)  # its cache too
    summary = [line for line in result.stdout.splitlines() if "generated" in line]
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert summary and "passed" in summary[-1] and "failed" not in summary[-1], summary
