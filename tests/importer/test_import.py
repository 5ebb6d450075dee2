"""`python -m services.cli import`: each line one API call through the real apps."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from services.importer.runner import Outcome
from tests.importer.conftest import RunImport

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "docs" / "examples" / "migration-example.jsonl"


async def test_the_documented_example_imports_cleanly(run_import: RunImport) -> None:
    outcome = await run_import(EXAMPLE)
    assert outcome.errors == [], json.dumps(outcome.errors, indent=1)
    assert (outcome.imported, outcome.failed, outcome.skipped) == (11, 0, 0)
