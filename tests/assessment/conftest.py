from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from services.assessment.app import create_app
from services.assessment.events import CATALOGUE
from services.assessment.settings import AssessmentSettings
from tests.assessment.factories import People, make_people
from tests.contract_support import breaches, caught_events
from tests.support import Keys, TokenFor, common_settings, create_database, drop_database, isolated


@pytest.fixture(scope="session")
async def assessment_url(session_tmp: Path) -> AsyncIterator[str]:
    url = await create_database("assessment", session_tmp)
    yield url
    await drop_database(url)


@pytest.fixture(scope="session")
async def assessment_app(keys: Keys, assessment_url: str) -> AsyncIterator[FastAPI]:
    app = create_app(AssessmentSettings(**common_settings(keys, assessment_url)))  # type: ignore[arg-type]
    # The real start-up: publishes the shipped toolkits (committed, as in production).
    async with app.router.lifespan_context(app):
        yield app


class CountingTransport(httpx.AsyncBaseTransport):
    """Passes requests on and keeps them, so tests can count the calls to the referral service."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)


@contextmanager
def referral_transport(app: FastAPI, transport: httpx.AsyncBaseTransport) -> Iterator[None]:
    """Point the assessment app's referral client at ``transport`` for the duration."""
    before = app.state.referral_client
    app.state.referral_client = httpx.AsyncClient(transport=transport)
    try:
        yield
    finally:
        app.state.referral_client = before


@pytest.fixture
def referral_calls(assessment_app: FastAPI, referral_app: FastAPI) -> Iterator[CountingTransport]:
    """The real referral app answers the visibility checks in-process (ASGITransport); it shares
    the per-test rolled-back transaction of the ``referral`` fixture, so the children made there
    are the ones it sees."""
    counting = CountingTransport(httpx.ASGITransport(app=referral_app))
    with referral_transport(assessment_app, counting):
        yield counting


@pytest.fixture
async def assessment(
    assessment_app: FastAPI, referral: httpx.AsyncClient, referral_calls: CountingTransport
) -> AsyncIterator[httpx.AsyncClient]:
    async with isolated(assessment_app, "http://assessment") as client:
        yield client


@pytest.fixture
async def people(referral: httpx.AsyncClient, token_for: TokenFor) -> People:
    """Agencies, a child and the people who assess it, made in the real referral service."""
    return await make_people(referral, token_for)


AGENCY = uuid.UUID("00000000-0000-4000-8000-0000000000a1")


@pytest.fixture(scope="session", autouse=True)
def every_event_keeps_its_contract() -> Iterator[None]:
    """After the assessment tests: every event they made the service emit fits its model and
    reporting's contracts (tests/contract_support.py)."""
    with caught_events() as caught:
        yield
    assert breaches(caught, CATALOGUE) == []
