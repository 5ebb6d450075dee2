"""`python -m services.cli import`: each line one API call through the real referral and
assessment apps (their validation, domain rules, audit and outbox), resumable and idempotent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from services.importer.api import InProcessApi
from services.importer.operations import local_operations
from services.importer.runner import import_file
from tests.importer.conftest import RunImport
from tests.support import TokenFor

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "docs" / "examples" / "migration-example.jsonl"
LINES = EXAMPLE.read_text().splitlines()
READ = ("referral:read", "assessment:read")


def write(tmp_path: Path, lines: list[str], name: str = "history.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def line(**record: Any) -> str:
    return json.dumps(record)


async def records_of(referral: httpx.AsyncClient, assessment: httpx.AsyncClient, token_for: TokenFor,
                     agencies: dict[str, str], external_ref: str) -> dict[str, Any]:
    """What the partnership holds for the child with this reference of the registering agency
    (the reference's prefix), as children's social care sees it."""
    registered_by = {"HV": "NS-HV", "SCH": "NS-SCH"}[external_ref.split("-")[0]]
    children = (await referral.get("/v1/children", params={"external_ref": external_ref},
                                   headers=token_for(agencies[registered_by], *READ))).json()["items"]
    who = token_for(agencies["NS-CSC"], *READ)
    found: dict[str, Any] = {"children": children, "referrals": [], "episodes": [], "assessments": []}
    for child in children:
        found["referrals"] += (await referral.get("/v1/referrals", params={"child_id": child["id"]}, headers=who)).json()["items"]
        found["assessments"] += (await assessment.get("/v1/assessments", params={"child_id": child["id"]},
                                                      headers=who)).json()["items"]
    for ref in found["referrals"]:
        if ref["episode_id"]:
            found["episodes"].append((await referral.get(f"/v1/episodes/{ref['episode_id']}", headers=who)).json())
    return found


async def test_the_documented_example_imports_cleanly(
    run_import: RunImport, referral: httpx.AsyncClient, assessment: httpx.AsyncClient, token_for: TokenFor,
    agencies: dict[str, str], tmp_path: Path,
) -> None:
    outcome = await run_import(EXAMPLE)
    assert outcome.errors == [], json.dumps(outcome.errors, indent=1)
    assert (outcome.imported, outcome.failed, outcome.skipped) == (len(LINES), 0, 0)
    assert (tmp_path / "errors.jsonl").read_text() == ""

    held = await records_of(referral, assessment, token_for, agencies, "HV-MIG-0001")
    [referral_read] = held["referrals"]
    assert referral_read["received_at"].startswith("2025-10-06")
    assert referral_read["decision"]["outcome"] == "s17_assessment"
    [episode] = held["episodes"]
    [cfa] = episode["assessments"]
    assert (cfa["start_date"], cfa["authorised_date"]) == ("2025-10-07", "2025-11-10")
    [toolkit] = held["assessments"]
    assert toolkit["status"] == "authorised"


async def test_a_rerun_imports_nothing_new(
    run_import: RunImport, referral: httpx.AsyncClient, assessment: httpx.AsyncClient, token_for: TokenFor,
    agencies: dict[str, str],
) -> None:
    await run_import(EXAMPLE)
    before = await records_of(referral, assessment, token_for, agencies, "HV-MIG-0001")

    again = await run_import(EXAMPLE)

    assert (again.imported, again.already_done, again.errors) == (0, len(LINES), [])
    assert await records_of(referral, assessment, token_for, agencies, "HV-MIG-0001") == before


async def test_a_bad_line_is_reported_and_the_rest_imported_except_its_dependants(
    run_import: RunImport, referral: httpx.AsyncClient, assessment: httpx.AsyncClient, token_for: TokenFor,
    agencies: dict[str, str], tmp_path: Path,
) -> None:
    bad_child = line(**{"ref": "bad-child", "op": "register_child", "as": "NS-SCH", "body": {
        "given_name": "Wrongly", "family_name": "Coded-Example", "birth_date": "2018-01-01", "gender": "7",
        "external_ref": "SCH-MIG-0009"}})
    its_referral = line(**{"ref": "bad-child-referral", "op": "create_referral", "as": "NS-SCH", "body": {
        "child_id": {"$ref": "bad-child"}, "received_at": "2025-10-01T09:00:00Z",
        "concern_summary": "Hungry at school.", "neglect_types": ["basic_provision"]}})
    its_decision = line(**{"ref": "bad-child-decision", "op": "record_decision", "as": "NS-CSC",
                           "path": {"referral_id": {"$ref": "bad-child-referral"}},
                           "body": {"level": "1", "outcome": "information_advice", "decided_by": "Manager", "rationale": "Advice to the school.", "override_reason": "Known to early help already."}})
    source = write(tmp_path, [LINES[0], bad_child, *LINES[1:3], its_referral, "{not json", its_decision, *LINES[3:]])

    outcome = await run_import(source)

    assert outcome.imported == len(LINES)
    assert (outcome.failed, outcome.skipped) == (2, 2)
    by_line = {e["line"]: e for e in outcome.errors}
    assert sorted(by_line) == [2, 5, 6, 7]
    assert by_line[2]["ref"] == "bad-child"
    assert by_line[2]["problem"]["status"] == 422
    assert [e["field"] for e in by_line[2]["problem"]["errors"]] == ["body.gender"]
    assert by_line[5]["skipped"] == "It depends on line 2 (ref bad-child), which failed."
    assert by_line[6] == {"line": 6, "ref": None, "op": None,
                          "problem": {"title": "Not JSON", "detail": "The line is not a JSON object (JSONDecodeError)."}}
    assert by_line[7]["skipped"] == "It depends on line 5 (ref bad-child-referral), which was skipped."
    written = [json.loads(x) for x in (tmp_path / "errors.jsonl").read_text().splitlines()]
    assert [e["line"] for e in written] == [2, 5, 6, 7]
    text = json.dumps(written)
    for personal in ("Wrongly", "Coded-Example", "2018-01-01", "Hungry"):
        assert personal not in text
    # Nothing of the failed line or its dependants was written.
    assert (await records_of(referral, assessment, token_for, agencies, "SCH-MIG-0009"))["children"] == []
    assert len((await records_of(referral, assessment, token_for, agencies, "HV-MIG-0001"))["episodes"]) == 1

    # Fixed and run again: the fixed line and its dependants go in, nothing else is repeated.
    fixed = bad_child.replace('"gender": "7"', '"gender": "1"')
    source.write_text("\n".join([LINES[0], fixed, *LINES[1:3], its_referral, its_decision, *LINES[3:]]) + "\n")
    rerun = await run_import(source)
    assert rerun.errors == [], json.dumps(rerun.errors, indent=1)
    assert (rerun.imported, rerun.already_done) == (3, len(LINES))
    held = await records_of(referral, assessment, token_for, agencies, "SCH-MIG-0009")
    assert [r["decision"]["outcome"] for r in held["referrals"]] == ["information_advice"]


async def test_an_interrupted_import_resumes_with_no_duplicates(
    run_import: RunImport, referral: httpx.AsyncClient, assessment: httpx.AsyncClient, token_for: TokenFor,
    agencies: dict[str, str],
) -> None:
    first = await run_import(EXAMPLE, limit=4)
    assert (first.imported, first.errors) == (4, [])

    rest = await run_import(EXAMPLE)

    assert (rest.imported, rest.already_done, rest.errors) == (len(LINES) - 4, 4, [])
    held = await records_of(referral, assessment, token_for, agencies, "HV-MIG-0001")
    assert (len(held["children"]), len(held["referrals"]), len(held["episodes"]), len(held["assessments"])) == (1, 1, 1, 1)
    assert len(held["episodes"][0]["assessments"]) == 1


class LosesAnswers:
    """Sends every call, but loses the answer of the first change to each of the given paths (as
    a dropped connection or a killed process would, after the service committed)."""

    def __init__(self, inner: InProcessApi, paths: set[str]) -> None:
        self.inner, self.paths = inner, set(paths)

    async def agency_id(self, caller: str, agency: str) -> str:
        return await self.inner.agency_id(caller, agency)

    async def request(self, service: str, caller: str, acting_user: str | None, method: str, url: str,
                      headers: dict[str, str], body: Any = None) -> httpx.Response:
        answer = await self.inner.request(service, caller, acting_user, method, url, headers, body)
        lost = {p for p in self.paths if url.endswith(p)}
        if method != "GET" and lost:
            self.paths -= lost
            raise httpx.ReadError("connection lost")
        return answer


async def test_a_call_whose_answer_was_lost_is_not_made_twice(
    api: InProcessApi, agencies: dict[str, str], referral: httpx.AsyncClient, assessment: httpx.AsyncClient,
    token_for: TokenFor, tmp_path: Path,
) -> None:
    """Registering the child (Idempotency-Key) and the decision (If-Match) both went through, but
    the importer never heard: the rerun replays the registration and refuses to decide twice."""
    operations, journal, errors = local_operations(), tmp_path / "j.sqlite", tmp_path / "e.jsonl"
    lossy = LosesAnswers(api, {"/v1/children", "/decision"})
    first = await import_file(lossy, operations, EXAMPLE, journal, errors, progress=False)
    assert [(e["line"], e["problem"]["title"]) for e in first.errors if "problem" in e] == [(1, "Not sent")]
    assert first.skipped == len(LINES) - 1  # every other line names the child

    second = await import_file(lossy, operations, EXAMPLE, journal, errors, progress=False)
    assert [(e["line"], e["problem"]["title"]) for e in second.errors if "problem" in e] == [(3, "Not sent")]
    # The child's registration replayed by the API (Idempotency-Key), not repeated; the decision's
    # answer lost; the two steps of its episode skipped.
    assert (second.already_done, second.imported) == (1, len(LINES) - 4)

    third = await import_file(lossy, operations, EXAMPLE, journal, errors, progress=False)
    [refused] = [e for e in third.errors if "problem" in e]
    assert (refused["line"], refused["problem"]["status"]) == (3, 412)
    assert "probably made then" in refused["problem"]["import_note"]
    assert [e["line"] for e in third.errors if "skipped" in e] == [4, 5]

    held = await records_of(referral, assessment, token_for, agencies, "HV-MIG-0001")
    assert (len(held["children"]), len(held["referrals"]), len(held["episodes"])) == (1, 1, 1)
    assert held["referrals"][0]["decision"]["outcome"] == "s17_assessment"
    assert held["episodes"][0]["assessments"] == []


def test_the_migration_guide_walks_every_line_of_the_example() -> None:
    guide = (REPO / "docs" / "migration.md").read_text()
    assert "docs/examples/migration-example.jsonl" in guide
    for record in map(json.loads, LINES):
        assert f"`{record['ref']}`" in guide, record["ref"]
        assert f"`{record['op']}`" in guide, record["op"]


async def test_a_repeated_ref_is_refused_and_the_first_line_stands(run_import: RunImport, tmp_path: Path) -> None:
    source = write(tmp_path, [LINES[0], LINES[0].replace("HV-MIG-0001", "HV-MIG-0002"), *LINES[1:]])

    outcome = await run_import(source)

    assert outcome.imported == len(LINES)
    [error] = outcome.errors
    assert (error["line"], error["ref"], error["problem"]["title"]) == (2, "mig-child-1", "Duplicate ref")
