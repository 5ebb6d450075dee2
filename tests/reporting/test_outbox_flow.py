"""Referral's outbox → signed HTTP → reporting's read model, with both apps in their test transactions."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import col, select, update

from services.reporting.models import EventLog
from shared.db import utcnow
from shared.events import OutboxRelay
from shared.models import DeliveryAttempt, OutboxDelivery, OutboxMessage
from tests.referral.factories import make_agency, make_child
from tests.reporting.factories import summary
from tests.support import WEBHOOK_SECRET, TokenFor


async def _deliveries(app: FastAPI, event_type: str) -> list[tuple[OutboxDelivery, list[DeliveryAttempt]]]:
    async with app.state.db.sessions() as session:
        stmt = (
            select(OutboxDelivery)
            .join(OutboxMessage, col(OutboxMessage.id) == col(OutboxDelivery.message_id))
            .where(OutboxMessage.event_type == event_type)
        )
        deliveries = (await session.exec(stmt)).all()
        out = []
        for delivery in deliveries:
            attempts = (await session.exec(
                select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery.id)
            )).all()
            out.append((delivery, list(attempts)))
        return out


async def _make_due(app: FastAPI) -> None:
    async with app.state.db.sessions() as session:
        await session.exec(
            update(OutboxDelivery).where(col(OutboxDelivery.status) == "pending")
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()


async def test_a_child_registered_in_referral_moves_the_summary_through_the_outbox(
    referral: httpx.AsyncClient, referral_app: FastAPI, reporting: httpx.AsyncClient,
    reporting_app: FastAPI, token_for: TokenFor,
) -> None:
    before = await summary(reporting, token_for)
    agency = await make_agency(referral, token_for, "school")
    child = await make_child(referral, token_for, agency["id"])
    # Not a direct call: until the relay runs, reporting has heard nothing.
    assert await summary(reporting, token_for) == before

    # `reporting` is an AsyncClient on ASGITransport(app=reporting_app), base_url http://reporting:
    # the subscriber URL http://reporting/v1/events lands in the reporting app in-process.
    relay = OutboxRelay(referral_app.state.db, WEBHOOK_SECRET, reporting)
    assert await relay.run_once() == 2  # agency.registered, child.registered

    after = await summary(reporting, token_for)
    assert after["children_registered"] == before["children_registered"] + 1
    assert after["agencies_registered"] == before["agencies_registered"] + 1
    assert after["events_received"] == before["events_received"] + 2
    [(delivery, attempts)] = await _deliveries(referral_app, "child.registered")
    assert delivery.status == "delivered"
    assert delivery.attempts == 1
    assert delivery.delivered_at is not None
    assert len(attempts) == 1
    assert attempts[0].status_code == 200
    assert attempts[0].error is None
    async with reporting_app.state.db.sessions() as session:
        logged = (await session.exec(select(EventLog).where(EventLog.event_type == "child.registered"))).all()
    assert [e.data["child_id"] for e in logged] == [child["id"]]
    assert "given_name" not in logged[0].data  # thin: ids only, no personal details

    assert await relay.run_once() == 0  # nothing left to send
    assert await summary(reporting, token_for) == after


def _failing(kind: str) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        if kind == "http_500":
            return httpx.Response(500, json={"status": 500})
        raise httpx.ConnectError("connection refused", request=request)
    return httpx.MockTransport(handler)


@pytest.mark.parametrize(("kind", "error"), [("http_500", "HTTP 500"), ("transport_error", "ConnectError")])
async def test_a_failing_subscriber_is_retried_later_then_dead_lettered(
    referral: httpx.AsyncClient, referral_app: FastAPI, token_for: TokenFor, kind: str, error: str
) -> None:
    await make_agency(referral, token_for)
    async with httpx.AsyncClient(transport=_failing(kind)) as down:
        relay = OutboxRelay(referral_app.state.db, WEBHOOK_SECRET, down, max_attempts=3)
        assert await relay.run_once() == 1
        [(delivery, attempts)] = await _deliveries(referral_app, "agency.registered")
        assert (delivery.status, delivery.attempts, delivery.last_error) == ("pending", 1, error)
        assert delivery.next_attempt_at > utcnow()
        assert [a.error for a in attempts] == [error]
        assert await relay.run_once() == 0  # backing off: not due yet

        for _ in range(2):
            await _make_due(referral_app)
            assert await relay.run_once() == 1
    [(delivery, attempts)] = await _deliveries(referral_app, "agency.registered")
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("dead", 3, error)
    assert delivery.delivered_at is None
    assert len(attempts) == 3
    await _make_due(referral_app)
    assert await relay.run_once() == 0  # dead letters are not retried


async def test_a_subscriber_that_recovers_applies_the_event_once(
    referral: httpx.AsyncClient, referral_app: FastAPI, reporting: httpx.AsyncClient, token_for: TokenFor
) -> None:
    before = await summary(reporting, token_for)
    await make_agency(referral, token_for)
    async with httpx.AsyncClient(transport=_failing("transport_error")) as down:
        assert await OutboxRelay(referral_app.state.db, WEBHOOK_SECRET, down).run_once() == 1
    await _make_due(referral_app)
    assert await OutboxRelay(referral_app.state.db, WEBHOOK_SECRET, reporting).run_once() == 1
    [(delivery, attempts)] = await _deliveries(referral_app, "agency.registered")
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    assert [a.status_code for a in attempts if a.error is None] == [200]
    after = await summary(reporting, token_for)
    assert after["agencies_registered"] == before["agencies_registered"] + 1
