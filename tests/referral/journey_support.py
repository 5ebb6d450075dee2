"""Opening an episode in tests without the referral decision API (which has its own tests)."""

from __future__ import annotations

import uuid
from datetime import date
from types import SimpleNamespace
from typing import Any

from fastapi import FastAPI

from services.referral.domain.calendar import england_and_wales
from services.referral.domain.episodes import Journeys
from services.referral.queries.children import AgencyQueries
from services.referral.queries.journey import JourneyQueries
from shared.audit import Audit
from shared.events import Outbox
from shared.tokens import Principal


async def open_episode(app: FastAPI, csc_agency: uuid.UUID, child_id: uuid.UUID, referral_date: date,
                       source: str = "3B", primary_need: str = "N1") -> uuid.UUID:
    who = Principal(client_id="test", agency_id=csc_agency, scopes=frozenset({"referral:write"}))
    request: Any = SimpleNamespace(app=app, headers={})
    types = app.state.settings.full_access_agency_types
    async with app.state.db.sessions() as session:
        journeys = Journeys(JourneyQueries(session, types), AgencyQueries(session), england_and_wales(), types,
                            Audit(session, request), Outbox(session, request))
        episode_id = await journeys.open_episode(who, child_id, referral_date, source, nfa=False,
                                                 primary_need=primary_need, decided_on=referral_date)
        await session.commit()
    return episode_id
