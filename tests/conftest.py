from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from services.referral.app import create_app as create_referral
from services.referral.settings import ReferralSettings
from tests.support import Keys, TokenFor, common_settings, create_database, drop_database, isolated


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys()


@pytest.fixture(scope="session")
def token_for(keys: Keys) -> TokenFor:
    return keys.headers


@pytest.fixture(scope="session")
def session_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("db")


@pytest.fixture(scope="session")
async def referral_url(session_tmp: Path) -> AsyncIterator[str]:
    url = await create_database("referral", session_tmp)
    yield url
    await drop_database(url)


@pytest.fixture(scope="session")
async def referral_app(keys: Keys, referral_url: str) -> AsyncIterator[FastAPI]:
    app = create_referral(ReferralSettings(**common_settings(keys, referral_url), outbox_subscribers=["http://reporting/v1/events"]))  # type: ignore[arg-type]
    yield app
    await app.state.db.dispose()


@pytest.fixture
async def referral(referral_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with isolated(referral_app, "http://referral") as client:
        yield client


ADMIN_AGENCY = uuid.UUID("00000000-0000-4000-8000-00000000a0a0")
