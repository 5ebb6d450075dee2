"""Reading an import file line by line and sending each line to the API once.

A line is ``{"ref": ..., "op": ..., "as": ..., "acting_user"?: ..., "path"?: {...}, "body"?: {...}}``.
Values anywhere in ``path`` and ``body`` may be ``{"$ref": "<earlier ref>"}`` (the id that
line produced; ``"<ref>#/episode_id"`` picks another id from its answer) or
``{"$agency": "<agency reference or id>"}``. Each line is one API call, one transaction:
it is recorded whole or not at all.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from tqdm import tqdm

from services.importer.api import Api, UnknownCaller
from services.importer.journal import DONE, PENDING, Journal
from services.importer.operations import Operation

# The Idempotency-Key alphabet (shared/idempotency.py), less room for the "import-" prefix.
REF = re.compile(r"[A-Za-z0-9._:-]{1,190}")
LINE_KEYS = {"ref", "op", "as", "acting_user", "path", "body"}
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class LineProblem(Exception):
    """What is wrong with a line, as a problem document that names no submitted value."""

    def __init__(self, title: str, detail: str) -> None:
        super().__init__(detail)
        self.problem: dict[str, Any] = {"title": title, "detail": detail}

    @classmethod
    def from_api(cls, problem: dict[str, Any]) -> LineProblem:
        """The API's own problem document (problem+json never echoes submitted values)."""
        error = cls(str(problem.get("title", "")), str(problem.get("detail", "")))
        error.problem = problem
        return error


class Skip(Exception):
    """The line depends on a line that was not imported."""


@dataclass
class Outcome:
    imported: int = 0
    already_done: int = 0
    failed: int = 0
    skipped: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def journal_path(source: Path, var_dir: Path) -> Path:
    """One journal per import file, by its location: after fixing a bad line and running again,
    the lines already imported are recognised (each by its ref and content)."""
    digest = hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:12]
    return var_dir / "import" / f"{source.stem}-{digest}.sqlite"


def ids_in(answer: Any, pointer: str = "") -> Iterator[tuple[str, str]]:
    """Every id in an answer, by JSON pointer (``/id``, ``/episode_id``, ``/s47s/0/id``).
    Only ids are kept: nothing personal goes into the journal."""
    if isinstance(answer, dict):
        for key, value in answer.items():
            here = f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"
            if isinstance(value, str) and (key == "id" or str(key).endswith("_id")) and _UUID.fullmatch(value):
                yield here, value
            else:
                yield from ids_in(value, here)
    elif isinstance(answer, list):
        for i, value in enumerate(answer):
            yield from ids_in(value, f"{pointer}/{i}")


def _fingerprint(record: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(record, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _problem_of(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "status" in body:
        return body
    return {"status": response.status_code, "title": response.reason_phrase or "Error"}


def record_ref(text: str) -> str | None:
    """A refused line's ref, for the report, when it can be read."""
    try:
        ref = json.loads(text).get("ref")
    except (ValueError, AttributeError):
        return None
    return ref if isinstance(ref, str) and REF.fullmatch(ref) else None


class Importer:
    def __init__(self, api: Api, operations: Mapping[str, Operation], journal: Journal,
                 *, retry_interrupted: bool = False, progress: bool = True) -> None:
        self.api, self.operations, self.journal = api, operations, journal
        self.retry_interrupted, self.progress = retry_interrupted, progress
        #: Refs of this run that were not imported, with the reason to give their dependants.
        self.not_imported: dict[str, str] = {}
        self.seen: set[str] = set()

    async def run(self, source: Path, *, limit: int | None = None) -> Outcome:
        outcome = Outcome()
        with source.open(encoding="utf-8") as f:
            total = sum(1 for _ in f)
        if limit is not None:
            total = min(total, limit)
        with source.open(encoding="utf-8") as f, tqdm(total=total, unit="line", file=sys.stderr,
                                                      disable=not self.progress, desc=source.name) as bar:
            for line_no, text in enumerate(f, start=1):
                if limit is not None and line_no > limit:
                    break
                await self._line(line_no, text, outcome)
                bar.update(1)
                bar.set_postfix(imported=outcome.imported, failed=outcome.failed + outcome.skipped, refresh=False)
        return outcome

    async def _line(self, line_no: int, text: str, outcome: Outcome) -> None:
        if not text.strip():
            return
        ref: str | None = None
        op_name: str | None = None
        try:
            record = self._parse(text)
            # Named in the report as soon as they are readable, even when the line is refused.
            if isinstance(record.get("ref"), str) and REF.fullmatch(record["ref"]):
                ref = record["ref"]
            if isinstance(record.get("op"), str) and len(record["op"]) <= 100:
                op_name = record["op"]
            self._check(record)
            ref, op_name = str(record["ref"]), str(record["op"])
            if ref in self.seen:
                ref_of_earlier_line, ref = ref, None  # its dependants follow the earlier line
                raise LineProblem("Duplicate ref", f"An earlier line of this file has the ref {ref_of_earlier_line}.")
            self.seen.add(ref)
            fingerprint = _fingerprint(record)
            entry = self.journal.get(ref)
            if entry is not None and entry.status == DONE:
                if entry.fingerprint != fingerprint:
                    self.not_imported[ref] = f"line {line_no} (ref {ref}), which changed after it was imported"
                    raise LineProblem("Changed after import", "This ref was imported from a different line; "
                                      "it is not sent again. Give a changed record a new ref.")
                outcome.already_done += 1
                return
            op = self.operations[op_name]
            replayed = await self._send(line_no, record, op, fingerprint, entry.status if entry else None,
                                        entry.if_match if entry else None)
            if replayed:
                outcome.already_done += 1
            else:
                outcome.imported += 1
        except Skip as skip:
            outcome.skipped += 1
            if ref is not None:
                self.not_imported.setdefault(ref, f"line {line_no} (ref {ref}), which was skipped")
            outcome.errors.append({"line": line_no, "ref": ref, "op": op_name, "skipped": str(skip)})
        except LineProblem as problem:
            outcome.failed += 1
            if ref is not None:
                self.not_imported.setdefault(ref, f"line {line_no} (ref {ref}), which failed")
            outcome.errors.append({"line": line_no, "ref": ref if ref is not None else record_ref(text),
                                   "op": op_name, "problem": problem.problem})

    def _parse(self, text: str) -> dict[str, Any]:
        try:
            record = json.loads(text)
        except ValueError as exc:
            # The decoder's message gives a position only, never the text.
            raise LineProblem("Not JSON", f"The line is not a JSON object ({type(exc).__name__}).") from None
        if not isinstance(record, dict):
            raise LineProblem("Not a record", "Each line must be one JSON object.")
        return record

    def _check(self, record: dict[str, Any]) -> None:
        unknown = sorted(set(record) - LINE_KEYS)
        if unknown:
            raise LineProblem("Unknown fields", f"Fields allowed on a line: {', '.join(sorted(LINE_KEYS))}; "
                              f"not: {', '.join(k[:40] for k in unknown)}.")
        ref = record.get("ref")
        if not isinstance(ref, str) or not REF.fullmatch(ref):
            raise LineProblem("Bad ref", "ref must be 1-190 letters, digits and . _ : - (unique in the migration).")
        op = record.get("op")
        if not isinstance(op, str) or op not in self.operations:
            raise LineProblem("Unknown operation", "op must name an operation of the referral or assessment "
                              "service, such as referral.create_referral (see docs/migration.md).")
        if not isinstance(record.get("as"), str) or not record["as"]:
            raise LineProblem("Missing caller", "as must name the agency (or, through a gateway, the client).")
        if record.get("acting_user") is not None and not isinstance(record["acting_user"], str):
            raise LineProblem("Bad acting_user", "acting_user must be a staff id string.")
        for key in ("path", "body"):
            if key in record and not isinstance(record[key], dict):
                raise LineProblem(f"Bad {key}", f"{key} must be a JSON object.")

    async def _resolve(self, value: Any, caller: str) -> Any:
        if isinstance(value, dict):
            if set(value) == {"$ref"} and isinstance(value["$ref"], str):
                return self._ref(value["$ref"])
            if set(value) == {"$agency"} and isinstance(value["$agency"], str):
                try:
                    return await self.api.agency_id(caller, value["$agency"])
                except UnknownCaller as exc:
                    raise LineProblem("Unknown agency", str(exc)) from None
            return {k: await self._resolve(v, caller) for k, v in value.items()}
        if isinstance(value, list):
            return [await self._resolve(v, caller) for v in value]
        return value

    def _ref(self, target: str) -> str:
        ref, _, pointer = target.partition("#")
        pointer = pointer or "/id"
        if ref in self.not_imported:
            raise Skip(f"It depends on {self.not_imported[ref]}.")
        entry = self.journal.get(ref)
        if entry is None or entry.status != DONE:
            raise LineProblem("Unknown ref", f"$ref {ref} names no line imported before this one.")
        if pointer not in entry.ids:
            raise LineProblem("No such id", f"The answer to ref {ref} has no id at {pointer}; "
                              f"it has: {', '.join(sorted(entry.ids)[:20])}.")
        return entry.ids[pointer]

    async def _send(self, line_no: int, record: dict[str, Any], op: Operation, fingerprint: str,
                    status: str | None, stored_if_match: str | None) -> bool:
        """Send the line; True when the API answered with the record a first attempt made."""
        ref, caller, acting_user = record["ref"], record["as"], record.get("acting_user")
        path = await self._resolve(record.get("path", {}), caller)
        body = await self._resolve(record["body"], caller) if "body" in record else None
        missing = [p for p in op.path_params if p not in path]
        extra = sorted(set(path) - set(op.path_params))
        if missing or extra:
            raise LineProblem("Bad path", f"{op.name} needs path values for: {', '.join(op.path_params) or 'none'}.")
        if not all(isinstance(v, str) for v in path.values()):
            raise LineProblem("Bad path", "Path values must be strings (ids).")
        params = {k: quote(v, safe="") for k, v in path.items()}
        headers: dict[str, str] = {}
        if op.idempotent:
            headers["Idempotency-Key"] = f"import-{ref}"
        interrupted = status == PENDING
        if interrupted and not op.idempotent and op.etag_path is None and not self.retry_interrupted:
            raise LineProblem("Interrupted", "The last run stopped while this line was being sent, and this "
                              "operation cannot tell a repeat from a new record: check whether it was recorded, "
                              "then run again with --retry-interrupted (or give it a new ref).")
        if_match = None
        etag_url = op.etag_url(params)
        if etag_url is not None:
            if interrupted and stored_if_match:
                # The version this line was first sent against: if it went through, the record has
                # moved on and the API answers 412 rather than making the change twice.
                if_match = stored_if_match
            else:
                current = await self._call(op.service, caller, acting_user, "GET", etag_url, {})
                if current.status_code != 200 or "etag" not in current.headers:
                    self.journal.failed(ref, line_no, fingerprint)
                    raise LineProblem.from_api(_problem_of(current))
                if_match = current.headers["etag"]
            headers["If-Match"] = if_match
        self.journal.pending(ref, line_no, fingerprint, if_match)
        answer = await self._call(op.service, caller, acting_user, op.method, op.url(params), headers, body)
        if answer.is_success:
            self.journal.done(ref, line_no, fingerprint, dict(ids_in(answer.json())))
            return bool(answer.headers.get("idempotent-replayed") == "true")
        self.journal.failed(ref, line_no, fingerprint)
        problem = _problem_of(answer)
        if interrupted and answer.status_code == 412:
            problem = {**problem, "import_note": "The last run stopped while this line was being sent and the "
                       "record has changed since: the change was probably made then. Check it; if it was, "
                       "give this line a new ref and drop it, or leave it out of the file."}
        raise LineProblem.from_api(problem)

    async def _call(self, service: str, caller: str, acting_user: str | None, method: str, url: str,
                    headers: dict[str, str], body: Any = None) -> httpx.Response:
        try:
            return await self.api.request(service, caller, acting_user, method, url, headers, body)
        except UnknownCaller as exc:
            raise LineProblem("Unknown caller", str(exc)) from None
        except httpx.HTTPError as exc:
            raise LineProblem("Not sent", f"The API could not be reached ({type(exc).__name__}); "
                              "run again to retry this line.") from None



async def import_file(api: Api, operations: Mapping[str, Operation], source: Path, journal_file: Path,
                      errors_file: Path, *, limit: int | None = None, retry_interrupted: bool = False,
                      progress: bool = True) -> Outcome:
    """Import ``source`` and write this run's failed and skipped lines to ``errors_file``
    (one JSON object a line: line number, ref, op and the problem; no submitted values)."""
    journal = Journal(journal_file)
    outcome = Outcome()
    try:
        importer = Importer(api, operations, journal, retry_interrupted=retry_interrupted, progress=progress)
        outcome = await importer.run(source, limit=limit)
    finally:
        journal.close()
        write_errors(errors_file, outcome.errors)
    return outcome


def write_errors(path: Path, errors: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(e, sort_keys=True) + "\n" for e in errors))
