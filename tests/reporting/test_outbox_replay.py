"""Dead letters are never lost: reporting down for longer than the whole retry horizon,
every delivery dead-lettered, reporting back, an administrator replays them over HTTP and
every event arrives exactly once (also those whose first delivery arrived but whose answer
was lost). Then the admin API's own rules: paging, filters and its problem responses."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlmodel import col, func, select

from services.reporting.models import EventLog
from shared.db import utcnow
from shared.events import OutboxRelay
from shared.models import DeliveryAttempt, InboxEvent, OutboxDelivery, OutboxMessage
from tests.referral.factories import ADMIN_AGENCY, make_agency, make_child
from tests.support import WEBHOOK_SECRET, Clock, TokenFor

DEAD_LETTERS = "/v1/outbox/referral/dead-letters"
MAX_ATTEMPTS = 3
CAP = 60.0  # small settings: three attempts a minute apart at most


async def _deliveries(app: FastAPI) -> list[OutboxDelivery]:
    async with app.state.db.sessions() as session:
        return list((await session.exec(select(OutboxDelivery))).all())


async def _event_ids(app: FastAPI) -> set[str]:
    async with app.state.db.sessions() as session:
        return {str(i) for i in (await session.exec(select(OutboxMessage.id))).all()}


async def _applied(reporting_app: FastAPI, ids: set[str]) -> tuple[int, int]:
    """(inbox rows, event log rows) in reporting for these event ids."""
    async with reporting_app.state.db.sessions() as session:
        inbox = (await session.exec(select(func.count()).select_from(InboxEvent)
                                    .where(col(InboxEvent.webhook_id).in_(ids)))).one()
        logged = (await session.exec(select(func.count()).select_from(EventLog)
                                     .where(col(EventLog.webhook_id).in_(ids)))).one()
    return inbox, logged


def _down() -> httpx.AsyncClient:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)
    return httpx.AsyncClient(transport=httpx.MockTransport(refuse))


def _answer_lost(reporting: httpx.AsyncClient, lose: set[str]) -> httpx.AsyncClient:
    """Reporting applies these events, but the relay never hears back (a timeout after the work)."""
    async def forward(request: httpx.Request) -> httpx.Response:
        if request.headers["webhook-id"] not in lose:
            return httpx.Response(503)  # already going down
        applied = await reporting.post(request.url.path, content=request.content, headers=dict(request.headers))
        assert applied.status_code == 200, applied.text
        raise httpx.ReadTimeout("answer lost", request=request)
    return httpx.AsyncClient(transport=httpx.MockTransport(forward))


async def _drain(relay: OutboxRelay, clock: Clock, rounds: int) -> int:
    """Run the relay through ``rounds`` retry rounds, each past the longest backoff."""
    sent = 0
    for _ in range(rounds):
        while (n := await relay.run_once()) > 0:
            sent += n
        clock.advance(CAP + 1)
    return sent


async def test_an_outage_longer_than_the_retry_horizon_loses_nothing_after_a_replay(
    referral: httpx.AsyncClient, referral_app: FastAPI, reporting: httpx.AsyncClient, reporting_app: FastAPI,
    token_for: TokenFor,
) -> None:
    admin = token_for(ADMIN_AGENCY, "admin")
    for _ in range(4):
        agency = await make_agency(referral, token_for, "school")
        await make_child(referral, token_for, agency["id"])
    ids = await _event_ids(referral_app)
    assert len(ids) >= 8
    lost_answers = set(sorted(ids)[:2])

    # Reporting stops: its first two deliveries arrive but the answer is lost, then it is down.
    clock = Clock()
    async with _answer_lost(reporting, lost_answers) as flaky:
        first = OutboxRelay(referral_app.state.db, WEBHOOK_SECRET, flaky, max_attempts=MAX_ATTEMPTS,
                            backoff_cap=CAP, clock=clock)
        assert await first.run_once() == len(ids)
    async with _down() as down:
        relay = OutboxRelay(referral_app.state.db, WEBHOOK_SECRET, down, max_attempts=MAX_ATTEMPTS,
                            backoff_cap=CAP, clock=clock)
        clock.advance(CAP + 1)
        # Longer than the whole horizon: rounds beyond the retry budget change nothing.
        assert await _drain(relay, clock, MAX_ATTEMPTS + 2) == len(ids) * (MAX_ATTEMPTS - 1)
    rows = await _deliveries(referral_app)
    assert {(d.status, d.attempts) for d in rows} == {("dead", MAX_ATTEMPTS)}
    assert await _applied(reporting_app, ids) == (2, 2)

    listed = await referral.get(DEAD_LETTERS, headers=admin, params={"limit": 200})
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert {i["event_id"] for i in items} == ids
    assert {(i["attempts"], i["last_error"], i["replays"]) for i in items} == {(MAX_ATTEMPTS, "ConnectError", 0)}
    assert all(i["dead_at"] and i["occurred_at"] and i["subscriber"] == "http://reporting/v1/events" for i in items)
    assert not {"payload", "data"} & set(items[0])  # never the event's content

    # Reporting is back; an administrator replays every dead letter through the API.
    replayed = await referral.post(f"{DEAD_LETTERS}/replay", headers=admin)
    assert replayed.status_code == 200, replayed.text
    assert replayed.json() == {"requeued": len(ids)}
    back = OutboxRelay(referral_app.state.db, WEBHOOK_SECRET, reporting, max_attempts=MAX_ATTEMPTS,
                       backoff_cap=CAP, clock=clock)
    assert await _drain(back, clock, 1) == len(ids)
    assert await _applied(reporting_app, ids) == (len(ids), len(ids))  # 0 lost, 0 duplicated

    rows = await _deliveries(referral_app)
    assert {(d.status, d.attempts, d.replays, d.replayed_by) for d in rows} == {
        ("delivered", MAX_ATTEMPTS + 1, 1, "test-client")}
    async with referral_app.state.db.sessions() as session:
        attempts = (await session.exec(select(func.count()).select_from(DeliveryAttempt))).one()
    assert attempts == len(ids) * (MAX_ATTEMPTS + 1)  # the history is kept

    # A second replay finds nothing to do; forcing the events out again duplicates nothing.
    again = await referral.post(f"{DEAD_LETTERS}/replay", headers=admin, json={})
    assert again.json() == {"requeued": 0}
    one = rows[0].id
    refused = await referral.post(f"{DEAD_LETTERS}/{one}/replay", headers=admin)
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("not-a-dead-letter")
    for delivery_id in [d.id for d in rows]:
        await _make_dead(referral_app, delivery_id)
    single = await referral.post(f"{DEAD_LETTERS}/{one}/replay", headers=admin)
    assert single.json() == {"requeued": 1}
    rest = await referral.post(f"{DEAD_LETTERS}/replay", headers=admin)
    assert rest.json() == {"requeued": len(ids) - 1}
    assert await _drain(back, clock, 1) == len(ids)
    assert await _applied(reporting_app, ids) == (len(ids), len(ids))
    assert (await referral.get(DEAD_LETTERS, headers=admin)).json()["items"] == []


async def _make_dead(app: FastAPI, delivery_id: object) -> None:
    async with app.state.db.sessions() as session:
        delivery = (await session.exec(select(OutboxDelivery).where(OutboxDelivery.id == delivery_id))).one()
        delivery.status, delivery.dead_at = "dead", utcnow()
        session.add(delivery)
        await session.commit()


async def _dead_letters(referral: httpx.AsyncClient, referral_app: FastAPI, token_for: TokenFor, agencies: int) -> None:
    for _ in range(agencies):
        await make_agency(referral, token_for)
    clock = Clock()
    async with _down() as down:
        relay = OutboxRelay(referral_app.state.db, WEBHOOK_SECRET, down, max_attempts=1, clock=clock)
        assert await relay.run_once() == agencies


async def test_dead_letters_are_listed_a_page_at_a_time_and_filtered(
    referral: httpx.AsyncClient, referral_app: FastAPI, token_for: TokenFor,
) -> None:
    admin = token_for(ADMIN_AGENCY, "admin")
    await _dead_letters(referral, referral_app, token_for, 3)
    first = await referral.get(DEAD_LETTERS, headers=admin, params={"limit": 2})
    assert first.status_code == 200
    assert len(first.json()["items"]) == 2
    link = first.headers["link"]
    assert link.endswith('rel="next"')
    second = await referral.get(link[1:link.index(">")], headers=admin)
    assert len(second.json()["items"]) == 1
    assert second.json()["next_cursor"] is None
    seen = [i["delivery_id"] for i in first.json()["items"] + second.json()["items"]]
    assert len(set(seen)) == 3

    only = await referral.get(DEAD_LETTERS, headers=admin, params={"event_type": "child.registered"})
    assert only.json()["items"] == []
    by_type = await referral.post(f"{DEAD_LETTERS}/replay", headers=admin, json={"event_type": "child.registered"})
    assert by_type.json() == {"requeued": 0}
    by_id = await referral.post(f"{DEAD_LETTERS}/replay", headers=admin, json={"ids": seen[:2]})
    assert by_id.json() == {"requeued": 2}
    left = await referral.get(DEAD_LETTERS, headers=admin)
    assert [i["delivery_id"] for i in left.json()["items"]] == seen[2:]


async def test_the_dead_letter_api_answers_with_problems(
    referral: httpx.AsyncClient, referral_app: FastAPI, token_for: TokenFor,
) -> None:
    admin = token_for(ADMIN_AGENCY, "admin")
    assert (await referral.get(DEAD_LETTERS)).status_code == 401
    reader = token_for(ADMIN_AGENCY, "referral:read", "referral:write")
    assert (await referral.get(DEAD_LETTERS, headers=reader)).status_code == 403
    assert (await referral.post(f"{DEAD_LETTERS}/replay", headers=reader)).status_code == 403
    missing = await referral.post(f"{DEAD_LETTERS}/{ADMIN_AGENCY}/replay", headers=admin)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    for body in ({"ids": []}, {"colour": "red"}, {"ids": ["not-a-uuid"]}):
        r = await referral.post(f"{DEAD_LETTERS}/replay", headers=admin, json=body)
        assert r.status_code == 422, body
    assert (await referral.get(DEAD_LETTERS, headers=admin, params={"cursor": "nonsense"})).status_code == 400
    # Another service's dead letters are not served here (the gateway routes them there).
    assert (await referral.get("/v1/outbox/assessment/dead-letters", headers=admin)).status_code == 404

    await _dead_letters(referral, referral_app, token_for, 1)
    [delivery] = await _deliveries(referral_app)
    r = await referral.post(f"{DEAD_LETTERS}/{delivery.id}/replay", headers=admin)
    assert r.json() == {"requeued": 1}
    pending = await referral.post(f"{DEAD_LETTERS}/{delivery.id}/replay", headers=admin)
    assert pending.status_code == 409


async def test_every_service_with_an_outbox_serves_its_dead_letters(
    reporting: httpx.AsyncClient, token_for: TokenFor,
) -> None:
    r = await reporting.get("/v1/outbox/reporting/dead-letters", headers=token_for(ADMIN_AGENCY, "admin"))
    assert r.status_code == 200
    assert r.json() == {"items": [], "next_cursor": None}
