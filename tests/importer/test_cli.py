"""The command itself: `python -m services.cli import FILE.jsonl` on the configured databases."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest

from services import cli
from services.importer.api import in_process
from tests.importer.conftest import DEMO_AGENCIES
from tests.importer.test_import import EXAMPLE, LINES
from tests.support import create_database, drop_database


async def _register_agencies() -> None:
    async with in_process(cli.settings_for) as api:
        settings = cli.settings_for("referral")
        token = api.signer.issue(issuer=settings.token_issuer, audience=settings.token_audience, subject="test-admin",
                                 agency_id=uuid.uuid4(), scopes=["admin"], ttl_seconds=60)
        for ref, kind in DEMO_AGENCIES:
            r = await api.clients["referral"].post("/v1/agencies", headers={"Authorization": f"Bearer {token}"},
                                                   json={"name": f"CLI test {ref}", "agency_type": kind, "external_ref": ref})
            assert r.status_code == 201, r.text


def test_the_command_imports_a_file_and_exits_non_zero_when_a_line_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    urls = {s: asyncio.run(create_database(s, tmp_path)) for s in ("referral", "assessment")}
    try:
        for service, url in urls.items():
            monkeypatch.setenv(f"{service.upper()}_DATABASE_URL", url)
        monkeypatch.setenv("GATEWAY_KEY_DIR", str(tmp_path / "keys"))
        monkeypatch.setattr(cli, "use_dev_environment", lambda: None)
        asyncio.run(_register_agencies())
        journal = tmp_path / "import" / "example.sqlite"

        with pytest.raises(SystemExit) as done:
            cli.main(["import", str(EXAMPLE), "--no-progress", "--journal", str(journal)])
        assert done.value.code == 0
        assert f"{len(LINES)} imported, 0 already imported, 0 failed, 0 skipped" in capsys.readouterr().out

        bad = tmp_path / "bad.jsonl"
        bad.write_text("\n".join([*LINES, json.dumps({"ref": "late", "op": "no_such_operation", "as": "NS-HV"})]) + "\n")
        with pytest.raises(SystemExit) as failed:
            cli.main(["import", str(bad), "--no-progress", "--journal", str(journal)])
        assert failed.value.code == 1
        out = capsys.readouterr().out
        assert f"0 imported, {len(LINES)} already imported, 1 failed, 0 skipped" in out
        errors = journal.with_suffix(".errors.jsonl")
        assert str(errors) in out
        [error] = [json.loads(x) for x in errors.read_text().splitlines()]
        assert (error["line"], error["ref"], error["problem"]["title"]) == (len(LINES) + 1, "late", "Unknown operation")
    finally:
        for url in urls.values():
            asyncio.run(drop_database(url))
