"""The baselines `make bench` measures the referral service against (started by scripts/bench.py).

Two hand-written FastAPI apps in one, over the referral service's own PostgreSQL database:

- ``/same/...``: the same work as the service, written by hand. Each request verifies the
  ES256 bearer token with python-jose (same claims required, every time: no cache), opens
  one transaction, runs the SQL statements the service runs for that operation (captured
  from the service with a ``before_cursor_execute`` listener; the agency-scoped select is
  the same statement), inserts the same audit row and the same outbox rows (message, delivery,
  and the referral service's webhook fan-out queue row, added 2026-12-06: the service had
  written it since partner webhooks, the baseline had not), and commits.
  SQLAlchemy Core ``text()`` on an asyncpg engine, JSON built by hand.
- ``/bare/...``: a primary-key read or one plain insert; no token, no audit, no outbox.

Not part of the product; nothing imports it.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from jose import jwt
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

FULL_ACCESS = "childrens_social_care"

VISIBLE = """
 (child.id IN (SELECT involvement.child_id FROM involvement WHERE involvement.agency_id = :agency
    AND involvement.role != 'referrer' AND involvement.start_date <= :today
    AND (involvement.end_date IS NULL OR involvement.end_date >= :today))
  OR child.restricted IS false AND (child.created_by_agency_id = :agency
    OR EXISTS (SELECT * FROM agency WHERE agency.id = :agency AND agency.agency_type IN ('childrens_social_care'))))
"""
CHILD_COLUMNS = ("id, la_child_id, given_name, family_name, birth_date, expected_birth_date, death_date, "
                 "cp_plans_elsewhere, cp_plans_elsewhere_latest_end_date, gender, nhs_number, upn, upn_unknown, "
                 "ethnicity, disabilities, mother_id, restricted, created_by_agency_id, created_at, updated_at, version")
GET_VISIBLE_CHILD = text(f"SELECT {CHILD_COLUMNS} FROM child WHERE {VISIBLE} AND child.id = :child")  # noqa: S608 (constants only)
EXTERNAL_REF = text("SELECT external_ref FROM child_external_ref WHERE agency_id = :agency AND child_id = :child")
AUDIT = text("INSERT INTO audit_event (id, occurred_at, client_id, agency_id, acting_user, action, resource, "
             "resource_id, child_ids, purpose, request_id) VALUES (:id, :at, :client, :agency, NULL, :action, "
             ":resource, NULL, CAST(:child_ids AS JSON), 'safeguarding', :rid)")
AGENCY = text("SELECT id, name, agency_type, external_ref, created_at, updated_at, version FROM agency WHERE id = :agency")
INSERT_CHILD = text("INSERT INTO child (id, la_child_id, given_name, family_name, birth_date, expected_birth_date, "
                    "death_date, cp_plans_elsewhere, cp_plans_elsewhere_latest_end_date, gender, nhs_number, upn, "
                    "upn_unknown, ethnicity, disabilities, mother_id, restricted, created_by_agency_id, created_at, "
                    "updated_at, version) VALUES (:id, NULL, :given, :family, :birth, NULL, NULL, 0, NULL, :gender, "
                    "NULL, NULL, NULL, NULL, CAST('[]' AS JSON), NULL, false, :agency, :at, :at, 1)")
INSERT_INVOLVEMENT = text("INSERT INTO involvement (id, child_id, agency_id, professional_id, role, start_date, end_date, "
                          "created_at, version) VALUES (:id, :child, :agency, NULL, 'registering_agency', :today, NULL, "
                          ":at, 1)")
OUTBOX = text("INSERT INTO outbox_message (id, event_type, payload, occurred_at) VALUES (:id, :type, "
              "CAST(:payload AS JSON), :at)")
#: The referral service queues every event for partner webhooks in the same transaction (on_emit).
FANOUT = text("INSERT INTO webhook_fanout (message_id, created_at) VALUES (:message, :at)")
AGENCY_EXISTS = text("SELECT agency.id FROM agency WHERE agency.id = :agency")
DELIVERY = text("INSERT INTO outbox_delivery (id, message_id, subscriber, status, attempts, next_attempt_at, replays, "
                "attempts_before_replay) VALUES (:id, :message, 'http://reporting/v1/events', 'pending', 0, :at, 0, 0)")
CHILD_BY_ID = text(f"SELECT {CHILD_COLUMNS} FROM child WHERE id = :child")  # noqa: S608 (constants only)
RECENT_REFERRALS = text("SELECT id, received_at, status FROM referral WHERE child_id = :child AND received_at >= :since "
                        "AND received_at < :until ORDER BY received_at DESC, id DESC")
INSERT_REFERRAL = text(
    "INSERT INTO referral (id, child_id, referring_agency_id, referral_source, received_at, concern_summary, "
    "neglect_types, indicators, parental_factors, referrer_identity_withheld, re_referral, decision_due_at, "
    "feedback_due_date, status, created_at, updated_at, version) VALUES (:id, :child, :agency, '2A', :at, :summary, "
    "CAST(:types AS JSON), CAST(:indicators AS JSON), CAST('[]' AS JSON), false, false, :due, :feedback, 'received', "
    ":at, :at, 1)")
CHRONOLOGY = text("INSERT INTO chronology_entry (id, child_id, occurred_at, agency_id, kind, significance, summary, "
                  "source_type, source_id, created_at) VALUES (:id, :child, :at, :agency, 'referral.received', 'medium', "
                  ":summary, 'referral', :referral, :at)")
VISIBLE_IDS = text(f"SELECT child.id FROM child WHERE child.id IN (:child) AND {VISIBLE}")  # noqa: S608 (constants only)
BARE_INSERT_CHILD = text("INSERT INTO child (id, given_name, family_name, birth_date, gender, cp_plans_elsewhere, "
                         "disabilities, restricted, created_by_agency_id, created_at, updated_at, version) VALUES (:id, "
                         ":given, :family, :birth, :gender, 0, CAST('[]' AS JSON), false, :agency, :at, :at, 1)")
BARE_INSERT_REFERRAL = text(
    "INSERT INTO referral (id, child_id, referring_agency_id, referral_source, received_at, concern_summary, "
    "neglect_types, indicators, parental_factors, referrer_identity_withheld, re_referral, decision_due_at, "
    "feedback_due_date, status, created_at, updated_at, version) VALUES (:id, :child, :agency, '2A', :at, :summary, "
    "CAST(:types AS JSON), CAST(:indicators AS JSON), CAST('[]' AS JSON), false, false, :at, :today, 'received', "
    ":at, :at, 1)")


def _json(value: Any) -> str:
    return json.dumps(value, default=str)


def create_app() -> FastAPI:
    url = os.environ["BENCH_DATABASE_URL"].replace("postgresql://", "postgresql+asyncpg://", 1)
    engine = create_async_engine(url, pool_size=10, max_overflow=10)
    jwks = json.loads(os.environ["BENCH_JWKS_JSON"])
    keys = {k["kid"]: k for k in jwks["keys"]}
    issuer, audience = os.environ["BENCH_ISSUER"], os.environ["BENCH_AUDIENCE"]
    app = FastAPI()

    def verify(authorization: str | None, scope: str) -> dict[str, Any]:
        if not authorization or not authorization.startswith("Bearer "):
            raise HTTPException(401)
        token = authorization[7:]
        header = jwt.get_unverified_header(token)
        if header.get("alg") != "ES256" or header.get("kid") not in keys:
            raise HTTPException(401)
        claims: dict[str, Any] = jwt.decode(
            token, keys[header["kid"]], algorithms=["ES256"], audience=audience, issuer=issuer,
            options={"require_aud": True, "require_iss": True, "require_exp": True, "require_iat": True,
                     "require_sub": True, "require_jti": True, "leeway": 30})
        if scope not in claims["scope"].split():
            raise HTTPException(403)
        return claims

    async def audit(conn: AsyncConnection, claims: dict[str, Any], action: str, resource: str, child: str) -> None:
        await conn.execute(AUDIT, {"id": uuid.uuid4(), "at": datetime.now(UTC), "client": claims["sub"],
                                   "agency": uuid.UUID(claims["agency"]), "action": action, "resource": resource,
                                   "child_ids": _json([child]), "rid": uuid.uuid4().hex})

    async def outbox(conn: AsyncConnection, event_type: str, data: dict[str, Any], at: datetime) -> None:
        message = uuid.uuid4()
        payload = {"id": str(message), "type": event_type, "source": "referral", "occurred_at": at.isoformat(),
                   "version": 1, "data": data}
        await conn.execute(OUTBOX, {"id": message, "type": event_type, "payload": _json(payload), "at": at})
        await conn.execute(DELIVERY, {"id": uuid.uuid4(), "message": message, "at": at})
        await conn.execute(FANOUT, {"message": message, "at": at})

    @app.get("/same/children/{child_id}")
    async def same_get_child(child_id: uuid.UUID, authorization: Annotated[str | None, Header()] = None) -> JSONResponse:
        claims = verify(authorization, "referral:read")
        agency = uuid.UUID(claims["agency"])
        today = datetime.now(UTC).date()
        async with engine.begin() as conn:
            row = (await conn.execute(GET_VISIBLE_CHILD, {"agency": agency, "today": today, "child": child_id})).mappings().first()
            if row is None:
                raise HTTPException(404)
            refs = (await conn.execute(EXTERNAL_REF, {"agency": agency, "child": child_id})).mappings().all()
            await audit(conn, claims, "read", "child", str(child_id))
        body = {k: (str(v) if isinstance(v, uuid.UUID | date) else v) for k, v in row.items()}
        body["external_ref"] = refs[0]["external_ref"] if refs else None
        return JSONResponse(json.loads(_json(body)), headers={"ETag": f'"{row["version"]}"'})

    @app.post("/same/children", status_code=201)
    async def same_post_child(request: Request, authorization: Annotated[str | None, Header()] = None) -> JSONResponse:
        claims = verify(authorization, "referral:write")
        body = await request.json()
        agency = uuid.UUID(claims["agency"])
        now = datetime.now(UTC)
        child = uuid.uuid4()
        async with engine.begin() as conn:
            if (await conn.execute(AGENCY_EXISTS, {"agency": agency})).first() is None:
                raise HTTPException(422)
            await conn.execute(INSERT_CHILD, {"id": child, "given": body["given_name"], "family": body["family_name"],
                                              "birth": date.fromisoformat(body["birth_date"]), "gender": body["gender"],
                                              "agency": agency, "at": now})
            await conn.execute(INSERT_INVOLVEMENT, {"id": uuid.uuid4(), "child": child, "agency": agency,
                                                    "today": now.date(), "at": now})
            await audit(conn, claims, "create", "child", str(child))
            await outbox(conn, "child.registered", {"agency_id": str(agency), "child_id": str(child), "unborn": False,
                                                    "birth_date": body["birth_date"], "gender": body["gender"]}, now)
        return JSONResponse({"id": str(child), **body, "version": 1}, status_code=201,
                            headers={"Location": f"/v1/children/{child}", "ETag": '"1"'})

    @app.post("/same/referrals", status_code=201)
    async def same_post_referral(request: Request, authorization: Annotated[str | None, Header()] = None) -> JSONResponse:
        claims = verify(authorization, "referral:write")
        body = await request.json()
        agency = uuid.UUID(claims["agency"])
        child = uuid.UUID(body["child_id"])
        now = datetime.now(UTC)
        referral = uuid.uuid4()
        async with engine.begin() as conn:
            if (await conn.execute(AGENCY, {"agency": agency})).first() is None:
                raise HTTPException(422)
            if (await conn.execute(CHILD_BY_ID, {"child": child})).first() is None:
                raise HTTPException(404)
            await conn.execute(RECENT_REFERRALS, {"child": child, "since": now - timedelta(days=365), "until": now})
            await conn.execute(INSERT_REFERRAL, {"id": referral, "child": child, "agency": agency, "at": now,
                                                 "summary": body["concern_summary"], "types": _json(body["neglect_types"]),
                                                 "indicators": _json(body.get("indicators", [])),
                                                 "due": now + timedelta(days=1), "feedback": now.date() + timedelta(days=7)})
            await conn.execute(CHRONOLOGY, {"id": uuid.uuid4(), "child": child, "at": now, "agency": agency,
                                            "summary": "Referral received (School); neglect: basic provision.",
                                            "referral": referral})
            await outbox(conn, "referral.received", {"referral_id": str(referral), "child_id": str(child),
                                                     "received_at": now.isoformat(), "referral_source": "2A",
                                                     "neglect_types": body["neglect_types"]}, now)
            await conn.execute(VISIBLE_IDS, {"agency": agency, "today": now.date(), "child": child})
            await audit(conn, claims, "create", "referral", str(child))
        return JSONResponse({"id": str(referral), **body, "status": "received", "version": 1}, status_code=201,
                            headers={"Location": f"/v1/referrals/{referral}", "ETag": '"1"'})

    @app.get("/bare/children/{child_id}")
    async def bare_get_child(child_id: uuid.UUID) -> JSONResponse:
        async with engine.connect() as conn:
            row = (await conn.execute(CHILD_BY_ID, {"child": child_id})).mappings().first()
        if row is None:
            raise HTTPException(404)
        return JSONResponse(json.loads(_json(dict(row))))

    @app.post("/bare/children", status_code=201)
    async def bare_post_child(request: Request) -> JSONResponse:
        body = await request.json()
        child = uuid.uuid4()
        now = datetime.now(UTC)
        async with engine.begin() as conn:
            await conn.execute(BARE_INSERT_CHILD, {"id": child, "given": body["given_name"], "family": body["family_name"],
                                                   "birth": date.fromisoformat(body["birth_date"]), "gender": body["gender"],
                                                   "agency": uuid.UUID(os.environ["BENCH_AGENCY"]), "at": now})
        return JSONResponse({"id": str(child)}, status_code=201)

    @app.post("/bare/referrals", status_code=201)
    async def bare_post_referral(request: Request) -> JSONResponse:
        body = await request.json()
        referral = uuid.uuid4()
        now = datetime.now(UTC)
        async with engine.begin() as conn:
            await conn.execute(BARE_INSERT_REFERRAL, {"id": referral, "child": uuid.UUID(body["child_id"]),
                                                      "agency": uuid.UUID(os.environ["BENCH_AGENCY"]), "at": now,
                                                      "today": now.date(), "summary": body["concern_summary"],
                                                      "types": _json(body["neglect_types"]),
                                                      "indicators": _json(body.get("indicators", []))})
        return JSONResponse({"id": str(referral)}, status_code=201)

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        return {"status": "ok"}

    return app
