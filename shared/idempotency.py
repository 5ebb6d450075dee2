"""``Idempotency-Key`` for creating POSTs.

Same key and body: the stored response. Same key, other body: 422.
Concurrent with the same key: 409 (PostgreSQL advisory lock; SQLite serialises writers).
A key that is sent but unusable (empty, over 200 characters, spaces, control or non-ASCII
characters) is 400: ignoring it would drop the retry safety the caller asked for.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from shared.db import SessionDep
from shared.errors import IdempotencyInFlight, IdempotencyKeyReused, InvalidIdempotencyKey
from shared.models import IdempotencyRecord
from shared.tokens import Principal

_KEY = re.compile(r"^[A-Za-z0-9._:-]{1,200}$")


def parse_key(value: str) -> str:
    """The key, bare or as a structured-field string (``"abc"``, as the IETF draft writes it)."""
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    if not _KEY.match(value):
        # Never echo the value: a careless client may put anything in it.
        raise InvalidIdempotencyKey("Send Idempotency-Key as 1-200 letters, digits and . _ : - (a UUID is ideal), or leave it out.")
    return value


class Created:
    """What a create handler hands back: the body and its headers (Location, ETag)."""

    def __init__(self, body: BaseModel, headers: dict[str, str] | None = None, status_code: int = 201) -> None:
        self.body = body
        self.headers = headers or {}
        self.status_code = status_code

    def response(self) -> JSONResponse:
        return JSONResponse(self.body.model_dump(mode="json"), status_code=self.status_code, headers=self.headers)


class Idempotency:

    def __init__(
        self,
        request: Request,
        session: SessionDep,
        idempotency_key: Annotated[
            str | None,
            Header(description="Any unique string of 1-200 letters, digits and . _ : - (a UUID is ideal). Retrying with "
                               "the same key and body returns the first response. Sent but empty or malformed: 400."),
        ] = None,
    ) -> None:
        if len(request.headers.getlist("idempotency-key")) > 1:
            raise InvalidIdempotencyKey("Send one Idempotency-Key, not several.")
        self.key = None if idempotency_key is None else parse_key(idempotency_key)
        self.session = session
        self.route = f"{request.method} {request.url.path}"

    async def run(
        self, who: Principal, body: BaseModel, create: Callable[[], Awaitable[Created]],
        *, prepare: Callable[[], Awaitable[object]] | None = None,
    ) -> JSONResponse:
        """``prepare`` runs first, before the key is locked or recorded: what a create needs
        from another service is asked there, while this request holds no transaction."""
        if prepare is not None:
            await prepare()
        if self.key is None:
            return (await create()).response()
        fingerprint = hashlib.sha256(
            json.dumps([self.route, body.model_dump(mode="json")], sort_keys=True).encode()
        ).hexdigest()
        if self.session.bind.dialect.name == "postgresql":  # type: ignore[union-attr]
            lock_key = int.from_bytes(hashlib.sha256(f"{who.client_id}\x00{self.key}".encode()).digest()[:8], "big", signed=True)
            got = (await self.session.exec(text("SELECT pg_try_advisory_xact_lock(:k)").bindparams(k=lock_key))).scalar()  # type: ignore[call-overload]
            if not got:
                raise IdempotencyInFlight("Wait for the first request with this key to finish.")
        stored = await self._stored(who)
        if stored is not None:
            return self._replay(stored, fingerprint)
        record = IdempotencyRecord(client_id=who.client_id, key=self.key, fingerprint=fingerprint)
        try:
            async with self.session.begin_nested():
                self.session.add(record)
        except IntegrityError:
            stored = await self._stored(who)
            if stored is None:
                raise IdempotencyInFlight("Wait for the first request with this key to finish.") from None
            return self._replay(stored, fingerprint)
        created = await create()
        record.status_code = created.status_code
        record.response_body = created.body.model_dump(mode="json")
        record.response_headers = created.headers
        self.session.add(record)
        return created.response()

    async def _stored(self, who: Principal) -> IdempotencyRecord | None:
        stmt = select(IdempotencyRecord).where(
            IdempotencyRecord.client_id == who.client_id, IdempotencyRecord.key == self.key
        )
        return (await self.session.exec(stmt)).first()

    @staticmethod
    def _replay(stored: IdempotencyRecord, fingerprint: str) -> JSONResponse:
        if stored.fingerprint != fingerprint:
            raise IdempotencyKeyReused("This Idempotency-Key was first used with a different request.")
        if stored.status_code is None or stored.response_body is None:
            raise IdempotencyInFlight("Wait for the first request with this key to finish.")
        headers = dict(stored.response_headers or {})
        headers["Idempotent-Replayed"] = "true"
        body: Any = stored.response_body
        return JSONResponse(body, status_code=stored.status_code, headers=headers)


async def get_idempotency(
    request: Request,
    session: SessionDep,
    idempotency_key: Annotated[
        str | None,
        Header(description="Any unique string of 1-200 letters, digits and . _ : - (a UUID is ideal). Retrying with "
                           "the same key and body returns the first response. Sent but empty or malformed: 400."),
    ] = None,
) -> Idempotency:
    # async: a plain class dependency would be built on the thread pool, once per request.
    return Idempotency(request, session, idempotency_key)


IdempotencyDep = Annotated[Idempotency, Depends(get_idempotency)]
