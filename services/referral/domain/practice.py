"""Practice records partners keep about a child: visits, the child's own voice, service
offers and engagement, and the non-engaging pathway cases they open (DOMAIN.md §7, §8).

Every record is saved with its chronology line, audit row and outbox event in one
transaction. The rules of the pathway and of service offers live in ``engagement``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from services.referral import events as ev
from services.referral.domain import engagement as eng
from services.referral.domain.chronology import Chronology
from services.referral.domain.errors import ChildNotFound
from services.referral.models import (
    Child,
    ChildVoice,
    EngagementEvent,
    NonEngagementCase,
    ServiceOffer,
    Visit,
)
from services.referral.queries.practice import PracticeQueries
from services.referral.schemas.people import today
from services.referral.schemas.practice import (
    CaseClosure,
    EngagementEventCreate,
    EscalationStep,
    OfferAcceptance,
    OfferAttendance,
    OfferDecline,
    OfferEnd,
    ServiceOfferCreate,
    StageStep,
    VisitCreate,
    VoiceCreate,
)
from shared.audit import Audit
from shared.contracts import publish
from shared.db import utcnow
from shared.errors import Forbidden, NotFound, Unprocessable
from shared.etag import Precondition, check_version
from shared.events import Outbox
from shared.pagination import PageParams
from shared.tokens import Principal


class ServiceOfferNotFound(NotFound):
    slug, title = "service-offer-not-found", "No such service offer for this agency"


class CaseNotFound(NotFound):
    slug, title = "non-engagement-case-not-found", "No such non-engagement case for this agency"


class OfferingAgencyOnly(Forbidden):
    slug, title = "offering-agency-only", "Only the agency that made the offer records its progress"


class UnrelatedReference(Unprocessable):
    slug, title = "unrelated-reference", "A referenced record does not belong here"

    def __init__(self, detail: str, field_name: str) -> None:
        super().__init__(detail, errors=[{"field": field_name, "message": detail, "code": "unrelated_reference"}])


_SIGNIFICANCE = {
    "was_not_brought": "medium", "no_access_visit": "medium", "service_declined": "medium",
    "consent_withdrawn": "medium", "service_disengaged": "medium", "attended": "low",
}
_LABEL = {
    "was_not_brought": "Child was not brought to an appointment.",
    "no_access_visit": "No access at a visit.",
    "service_declined": "A service was declined.",
    "consent_withdrawn": "Consent was withdrawn.",
    "service_disengaged": "The family disengaged from a service.",
    "attended": "The child attended / was brought.",
}
_STEP = {
    eng.Stage.escalation_review: ("Non-engagement: escalation review held.", "medium"),
    eng.Stage.multi_agency_meeting: ("Non-engagement: multi-agency meeting held.", "medium"),
    eng.Stage.action_plan: ("Non-engagement: multi-agency action plan agreed.", "medium"),
    eng.Stage.escalated: ("Non-engagement escalated", "high"),
}


@dataclass
class Engagement:
    """What recording one engagement event led to."""

    event: EngagementEvent
    case: NonEngagementCase | None = None
    opened: bool = False
    notified: list[uuid.UUID] = field(default_factory=list)


@dataclass
class CaseView:
    case: NonEngagementCase
    events: list[EngagementEvent]


def events_of_case(cases: Sequence[NonEngagementCase], events: Sequence[EngagementEvent]) -> dict[uuid.UUID, list[EngagementEvent]]:
    """Each case gets the events after the previous case closed, up to its own closure."""
    out: dict[uuid.UUID, list[EngagementEvent]] = {}
    previous_closed: date | None = None
    for case in cases:  # oldest first
        out[case.id] = [
            e for e in events
            if (previous_closed is None or e.occurred_on > previous_closed)
            and (case.closed_on is None or e.occurred_on <= case.closed_on)
        ]
        previous_closed = case.closed_on or previous_closed
    return out


def _visit_line(visit: Visit) -> tuple[str, str]:
    if visit.no_access:
        # A statutory visit without sight of the child is the one Annex A and reviews ask about.
        return ("Statutory visit" if visit.statutory else "Visit") + ": no access.", "high" if visit.statutory else "medium"
    kind = ("Statutory visit" if visit.statutory else "Visit") + ("" if visit.announced else " (unannounced)")
    parts = [kind]
    parts.append("child seen alone" if visit.seen_alone else "child seen" if visit.child_seen else "child not seen")
    if visit.bedroom_seen:
        parts.append("bedroom seen")
    if visit.home_conditions:
        parts.append(f"home conditions {visit.home_conditions.replace('_', ' ')}")
    significance = "low"
    if not visit.child_seen or visit.home_conditions == "poor":
        significance = "medium"
    if visit.home_conditions == "very_poor" or (visit.statutory and not visit.child_seen):
        significance = "high"
    return parts[0] + ": " + ", ".join(parts[1:]) + ".", significance


class Practice:
    def __init__(self, queries: PracticeQueries, threshold: eng.Threshold, audit: Audit, outbox: Outbox) -> None:
        self.queries = queries
        self.threshold = threshold
        self.audit = audit
        self.outbox = outbox
        self.chronology = Chronology(queries.session)

    async def _child(self, who: Principal, child_id: uuid.UUID, *, for_update: bool = False) -> Child:
        child = await self.queries.visible_child(who, child_id, for_update=for_update)
        if child is None:
            raise ChildNotFound(f"No child {child_id} visible to your agency.")
        return child

    async def _own_professional(self, who: Principal, professional_id: uuid.UUID | None) -> None:
        if professional_id is None:
            return
        professional = await self.queries.professional(professional_id)
        if professional is None or professional.agency_id != who.agency_id:
            raise UnrelatedReference("professional_id is not one of your agency's professionals", "body.professional_id")

    # --- visits and voice ------------------------------------------------------------------

    async def record_visit(self, who: Principal, child_id: uuid.UUID, body: VisitCreate) -> tuple[Visit, Engagement | None]:
        child = await self._child(who, child_id, for_update=body.no_access)
        await self._own_professional(who, body.professional_id)
        visit = Visit(child_id=child.id, agency_id=who.agency_id, **body.model_dump())
        await self.queries.add(visit)
        summary, significance = _visit_line(visit)
        self.chronology.add(child.id, "visit", summary, occurred=visit.visited_on, agency_id=who.agency_id,
                            significance=significance, source_type="visit", source_id=visit.id)
        self.audit.record(who, "create", "visit", [child.id])
        await publish(self.outbox, ev.VisitRecorded(
            child_id=child.id, visit_id=visit.id, agency_id=who.agency_id, visited_on=visit.visited_on,
            statutory=visit.statutory, child_seen=visit.child_seen, seen_alone=visit.seen_alone, no_access=visit.no_access))
        engagement = None
        if visit.no_access:
            engagement = await self.engage(who, child, "no_access_visit", visit.visited_on, None)
        return visit, engagement

    async def visits(self, who: Principal, child_id: uuid.UUID, page: PageParams) -> tuple[list[Visit], str | None, tuple[date | None, date | None, date | None]]:
        await self._child(who, child_id)
        rows, next_cursor = await self.queries.visits_page(who, child_id, page)
        summary = await self.queries.visit_summary(who, child_id)
        self.audit.record(who, "list", "visit", [child_id])
        return rows, next_cursor, summary

    async def record_voice(self, who: Principal, child_id: uuid.UUID, body: VoiceCreate) -> ChildVoice:
        child = await self._child(who, child_id)
        voice = ChildVoice(child_id=child.id, agency_id=who.agency_id, **body.model_dump())
        await self.queries.add(voice)
        rating = f"; own safety rating {voice.safety_rating}/10" if voice.safety_rating is not None else ""
        self.chronology.add(child.id, "child_voice", f"Child's voice recorded ({voice.participation}{rating}).",
                            occurred=voice.recorded_on, agency_id=who.agency_id, significance="low",
                            source_type="child_voice", source_id=voice.id)
        self.audit.record(who, "create", "child_voice", [child.id])
        await publish(self.outbox, ev.ChildVoiceRecorded(child_id=child.id, voice_id=voice.id, agency_id=who.agency_id,
                                                         recorded_on=voice.recorded_on, participation=voice.participation))
        return voice

    async def voices(self, who: Principal, child_id: uuid.UUID, page: PageParams) -> tuple[list[ChildVoice], str | None]:
        await self._child(who, child_id)
        rows, next_cursor = await self.queries.voices_page(who, child_id, page)
        self.audit.record(who, "list", "child_voice", [child_id])
        return rows, next_cursor

    # --- service offers ------------------------------------------------------------------------

    async def offer_service(self, who: Principal, child_id: uuid.UUID, body: ServiceOfferCreate) -> ServiceOffer:
        child = await self._child(who, child_id)
        offer = ServiceOffer(child_id=child.id, agency_id=who.agency_id, service=body.service, offered_on=body.offered_on)
        await self.queries.add(offer)
        self.chronology.add(child.id, "service_offer.made", "Service offered to the family.", occurred=offer.offered_on,
                            agency_id=who.agency_id, significance="low", source_type="service_offer", source_id=offer.id)
        self.audit.record(who, "create", "service_offer", [child.id])
        await publish(self.outbox, ev.ServiceOfferMade(child_id=child.id, service_offer_id=offer.id,
                                                       agency_id=who.agency_id, offered_on=offer.offered_on))
        return offer

    async def offer(self, who: Principal, offer_id: uuid.UUID) -> ServiceOffer:
        offer = await self.queries.offer(who, offer_id)
        if offer is None:
            raise ServiceOfferNotFound(f"No service offer {offer_id} visible to your agency.")
        self.audit.record(who, "read", "service_offer", [offer.child_id])
        return offer

    async def offers(self, who: Principal, child_id: uuid.UUID, page: PageParams) -> tuple[Sequence[ServiceOffer], str | None]:
        await self._child(who, child_id)
        rows, next_cursor = await self.queries.offers_page(who, child_id, page)
        self.audit.record(who, "list", "service_offer", [child_id])
        return rows, next_cursor

    async def _move_offer(
        self, who: Principal, offer_id: uuid.UUID, version: Precondition, target: eng.OfferStatus, on: date,
        *, event_kind: str | None = None, outcome: str | None = None,
    ) -> ServiceOffer:
        offer = await self.queries.offer(who, offer_id, for_update=True)
        if offer is None:
            raise ServiceOfferNotFound(f"No service offer {offer_id} visible to your agency.")
        if offer.agency_id != who.agency_id:
            raise OfferingAgencyOnly("Only the agency that made the offer records its progress; record engagement events instead.")
        check_version(offer.version, version)
        offer.status = eng.move_offer(offer.status, target, on, offer.offered_on).value
        if target is eng.OfferStatus.ended:
            offer.ended_on = on
        offer.version += 1
        await self.queries.add(offer)
        child = await self._child(who, offer.child_id, for_update=event_kind is not None)
        line = f"Service offer {target.value}" + (f" ({outcome.replace('_', ' ')})" if outcome else "") + "."
        self.chronology.add(child.id, f"service_offer.{target.value}", line, occurred=on, agency_id=who.agency_id,
                            significance="medium" if target is eng.OfferStatus.declined or outcome == "disengaged" else "low",
                            source_type="service_offer", source_id=offer.id)
        self.audit.record(who, "update", "service_offer", [child.id])
        await publish(self.outbox, ev.CATALOGUE.build(
            f"service_offer.{target.value}", child_id=child.id, service_offer_id=offer.id,
            status=offer.status, date=on, outcome=outcome, version=offer.version))
        if event_kind is not None:
            await self.engage(who, child, event_kind, on, offer.id)
        return offer

    async def accept(self, who: Principal, offer_id: uuid.UUID, version: Precondition, body: OfferAcceptance) -> ServiceOffer:
        return await self._move_offer(who, offer_id, version, eng.OfferStatus.accepted, body.accepted_on)

    async def decline(self, who: Principal, offer_id: uuid.UUID, version: Precondition, body: OfferDecline) -> ServiceOffer:
        return await self._move_offer(who, offer_id, version, eng.OfferStatus.declined, body.declined_on,
                                      event_kind="service_declined")

    async def attend(self, who: Principal, offer_id: uuid.UUID, version: Precondition, body: OfferAttendance) -> ServiceOffer:
        return await self._move_offer(who, offer_id, version, eng.OfferStatus.attending, body.started_on,
                                      event_kind="attended")

    async def end_offer(self, who: Principal, offer_id: uuid.UUID, version: Precondition, body: OfferEnd) -> ServiceOffer:
        kind = "service_disengaged" if body.outcome == "disengaged" else None
        return await self._move_offer(who, offer_id, version, eng.OfferStatus.ended, body.ended_on,
                                      event_kind=kind, outcome=body.outcome)

    # --- engagement events -----------------------------------------------------------------------

    async def record_event(self, who: Principal, child_id: uuid.UUID, body: EngagementEventCreate) -> Engagement:
        child = await self._child(who, child_id, for_update=True)
        if body.service_offer_id is not None:
            offer = await self.queries.offer(who, body.service_offer_id)
            if offer is None or offer.child_id != child.id:
                raise UnrelatedReference("service_offer_id is not one of this child's service offers", "body.service_offer_id")
        return await self.engage(who, child, body.kind, body.occurred_on, body.service_offer_id)

    async def events(self, who: Principal, child_id: uuid.UUID, page: PageParams) -> tuple[Sequence[EngagementEvent], str | None]:
        await self._child(who, child_id)
        rows, next_cursor = await self.queries.events_page(who, child_id, page)
        self.audit.record(who, "list", "engagement_event", [child_id])
        return rows, next_cursor

    async def engage(
        self, who: Principal, child: Child, kind: str, on: date, offer_id: uuid.UUID | None
    ) -> Engagement:
        """Record the event; tell the other involved agencies of a was-not-brought in a CIN/CP case;
        open a non-engagement case when the child reaches the threshold. The caller holds the child's lock."""
        event = EngagementEvent(child_id=child.id, agency_id=who.agency_id, service_offer_id=offer_id, kind=kind, occurred_on=on)
        await self.queries.add(event)
        self.chronology.add(child.id, f"engagement.{kind}", _LABEL[kind], occurred=on, agency_id=who.agency_id,
                            significance=_SIGNIFICANCE[kind], source_type="engagement_event", source_id=event.id)
        self.audit.record(who, "create", "engagement_event", [child.id])
        await publish(self.outbox, ev.EngagementRecorded(child_id=child.id, engagement_event_id=event.id,
                                                         agency_id=who.agency_id, kind=kind, occurred_on=on))
        result = Engagement(event)
        if kind == "was_not_brought" and await self.queries.has_open_cin_episode(child.id):
            # WNB in a safeguarding case is notified to the other professionals involved (DOMAIN.md §7).
            result.notified = [a for a in await self.queries.involved_agency_ids(child.id, today()) if a != who.agency_id]
            await publish(self.outbox, ev.EngagementWasNotBrought(
                child_id=child.id, engagement_event_id=event.id, agency_id=who.agency_id, occurred_on=on,
                notify_agency_ids=list(result.notified)))
        cases = await self.queries.cases_of(who, child.id)
        open_case = next((c for c in cases if c.stage != eng.Stage.closed), None)
        closed = [c.closed_on for c in cases if c.closed_on is not None]
        events = await self.queries.events_of(who, child.id)
        if eng.should_open_case([(e.kind, e.occurred_on) for e in events], self.threshold,
                                case_open=open_case is not None, last_closed_on=max(closed, default=None)):
            # Opened on the day the threshold was reached, by the events' own dates: a partner's
            # history recorded later (a migration) keeps its days, and its pathway steps fit after it.
            reached = eng.opening_date([(e.kind, e.occurred_on) for e in events], self.threshold, max(closed, default=None))
            open_case = NonEngagementCase(child_id=child.id, opened_on=reached or on, stage=eng.Stage.monitoring.value)
            await self.queries.add(open_case)
            self.chronology.add(
                child.id, "non_engagement.opened",
                f"Non-engagement pathway opened: {self.threshold.count} or more missed or refused contacts "
                f"within {self.threshold.window_days} days.",
                occurred=open_case.opened_on, agency_id=who.agency_id, significance="high",
                source_type="non_engagement_case", source_id=open_case.id,
            )
            self.audit.record(who, "create", "non_engagement_case", [child.id])
            await publish(self.outbox, ev.NonEngagementOpened(
                child_id=child.id, case_id=open_case.id, opened_on=open_case.opened_on, stage=open_case.stage,
                threshold_version=self.threshold.version))
            result.opened = True
        result.case = open_case
        return result

    # --- the pathway ------------------------------------------------------------------------------

    async def non_engagement(self, who: Principal, child_id: uuid.UUID) -> list[CaseView]:
        """The child's cases, newest first, each with the events that drove it."""
        await self._child(who, child_id)
        cases = await self.queries.cases_of(who, child_id)
        by_case = events_of_case(cases, await self.queries.events_of(who, child_id))
        self.audit.record(who, "read", "non_engagement_case", [child_id])
        return [CaseView(c, by_case[c.id]) for c in reversed(cases)]

    async def _view(self, who: Principal, case: NonEngagementCase) -> CaseView:
        cases = await self.queries.cases_of(who, case.child_id)
        by_case = events_of_case(cases, await self.queries.events_of(who, case.child_id))
        return CaseView(case, by_case.get(case.id, []))

    async def case(self, who: Principal, case_id: uuid.UUID) -> CaseView:
        case = await self.queries.case(who, case_id)
        if case is None:
            raise CaseNotFound(f"No non-engagement case {case_id} visible to your agency.")
        self.audit.record(who, "read", "non_engagement_case", [case.child_id])
        return await self._view(who, case)

    async def _begin(self, who: Principal, case_id: uuid.UUID, version: Precondition) -> tuple[NonEngagementCase, eng.PathwayCase]:
        case = await self.queries.case(who, case_id, for_update=True)
        if case is None:
            raise CaseNotFound(f"No non-engagement case {case_id} visible to your agency.")
        check_version(case.version, version)
        state = eng.PathwayCase(opened_on=case.opened_on, stage=eng.Stage(case.stage), escalation=case.escalation,
                                closed_on=case.closed_on, closure_decided_by=case.closure_decided_by)
        return case, state

    async def _finish(self, who: Principal, case: NonEngagementCase, state: eng.PathwayCase, on: date,
                      line: str, significance: str, **data: Any) -> CaseView:
        case.stage, case.escalation = state.stage.value, state.escalation
        case.closed_on, case.closure_decided_by = state.closed_on, state.closure_decided_by
        case.version += 1
        case.updated_at = utcnow()
        await self.queries.add(case)
        self.chronology.add(case.child_id, f"non_engagement.{case.stage}", line, occurred=on, agency_id=who.agency_id,
                            significance=significance, source_type="non_engagement_case", source_id=case.id)
        self.audit.record(who, "update", "non_engagement_case", [case.child_id])
        await publish(self.outbox, ev.CATALOGUE.build(f"non_engagement.{case.stage}", child_id=case.child_id,
                                                      case_id=case.id, stage=case.stage, date=on, version=case.version,
                                                      **data))
        return await self._view(who, case)

    async def move_case(self, who: Principal, case_id: uuid.UUID, version: Precondition, target: eng.Stage, body: StageStep) -> CaseView:
        case, state = await self._begin(who, case_id, version)
        escalation = body.escalation if isinstance(body, EscalationStep) else None
        state.move_to(target, body.occurred_on, escalation)
        line, significance = _STEP[target]
        if escalation:
            line = f"{line}: {escalation.replace('_', ' ')}."
        return await self._finish(who, case, state, body.occurred_on, line, significance, escalation=escalation)

    async def close_case(self, who: Principal, case_id: uuid.UUID, version: Precondition, body: CaseClosure) -> CaseView:
        case, state = await self._begin(who, case_id, version)
        chronic = await self.queries.chronic_neglect(case.child_id)
        state.close(body.closed_on, body.reason, chronic_neglect=chronic, decided_by=body.closure_decided_by)
        case.closure_reason = body.reason
        manager = body.closure_decided_by is not None
        line = f"Non-engagement case closed: {body.reason.replace('_', ' ')}" + (" (manager decision)." if manager else ".")
        return await self._finish(who, case, state, body.closed_on, line, "medium",
                                  reason=body.reason, manager_decision=manager, chronic_neglect=chronic)
