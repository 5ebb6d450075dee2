"""The import's progress journal: one row per line ref, kept in a small SQLite file.

It holds what a rerun needs and nothing personal: the line's status, a fingerprint of the
line, the ids the API answered with (so later lines can refer to them), and for a change
of an existing record the ETag it was sent with (so a rerun after an interruption sends the
same one, and a change that did go through is refused with 412 instead of made twice).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

DONE, PENDING, FAILED = "done", "pending", "failed"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS line (
    ref TEXT PRIMARY KEY,
    line_no INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    status TEXT NOT NULL,
    if_match TEXT,
    ids TEXT NOT NULL DEFAULT '{}',
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
)
"""


@dataclass(frozen=True)
class Entry:
    ref: str
    line_no: int
    fingerprint: str
    status: str
    if_match: str | None
    ids: dict[str, str]


class Journal:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # Autocommit: every mark is on disk before the next call is sent.
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute(_SCHEMA)
        path.chmod(0o600)

    def close(self) -> None:
        self.db.close()

    def get(self, ref: str) -> Entry | None:
        row = self.db.execute(
            "SELECT ref, line_no, fingerprint, status, if_match, ids FROM line WHERE ref = ?", (ref,)
        ).fetchone()
        if row is None:
            return None
        return Entry(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]))

    def _put(self, ref: str, line_no: int, fingerprint: str, status: str, if_match: str | None,
             ids: dict[str, str]) -> None:
        self.db.execute(
            "INSERT INTO line (ref, line_no, fingerprint, status, if_match, ids) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (ref) DO UPDATE SET line_no = excluded.line_no, fingerprint = excluded.fingerprint, "
            "status = excluded.status, if_match = excluded.if_match, ids = excluded.ids, "
            "updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
            (ref, line_no, fingerprint, status, if_match, json.dumps(ids)),
        )

    def pending(self, ref: str, line_no: int, fingerprint: str, if_match: str | None) -> None:
        self._put(ref, line_no, fingerprint, PENDING, if_match, {})

    def done(self, ref: str, line_no: int, fingerprint: str, ids: dict[str, str]) -> None:
        self._put(ref, line_no, fingerprint, DONE, None, ids)

    def failed(self, ref: str, line_no: int, fingerprint: str) -> None:
        self._put(ref, line_no, fingerprint, FAILED, None, {})

    def counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT status, count(*) FROM line GROUP BY status").fetchall())
