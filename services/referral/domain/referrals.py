"""Referrals from partners, the threshold recommendation, and the practitioner's decision.

received --decision--> decided (then the referrer is told: feedback)

A referral is checked against the child (pre-birth rules), flagged when it is a
re-referral, and given its decision clock. The engine's recommendation is
stored with the evidence it saw; the decision of children's social care is the
authoritative record and needs an override reason when it differs. Each step
writes its chronology line, audit row and outbox event in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any

import yaml

from services.referral import events as ev
from services.referral.domain.calendar import WorkingCalendar, add_months
from services.referral.domain.chronology import Chronology
from services.referral.domain.clocks import local_date
from services.referral.domain.codes import REFERENCE, agency_types, census_codes
from services.referral.domain.episodes import Journeys
from services.referral.domain.errors import AgencyNotRegistered, ChildNotFound
from services.referral.domain.evidence import (
    ASSESSMENT_UNAVAILABLE,
    AssessmentService,
    ToolkitResults,
    gather,
    needs_toolkit,
)
from services.referral.domain.journey import PRE_BIRTH_WINDOW
from services.referral.domain.threshold_models import ThresholdModels, outcome_labels, parsed
from services.referral.domain.thresholds import ThresholdModel, recommend
from services.referral.models import (
    Agency,
    Child,
    Recommendation,
    Referral,
    ThresholdModelVersion,
)
from services.referral.queries.referrals import EvidenceQueries, ReferralQueries
from services.referral.schemas.referrals import DecisionCreate, FeedbackCreate, ReferralCreate
from shared.audit import Audit
from shared.contracts import publish
from shared.db import end_read_transaction, utcnow
from shared.errors import Forbidden, IllegalTransition, NotFound, Unprocessable
from shared.etag import Precondition, check_version
from shared.events import Outbox
from shared.pagination import PageParams
from shared.tokens import Principal

RECEIVED, DECIDED = "received", "decided"
RE_REFERRAL_MONTHS = 12
DECISION_WORKING_DAYS = 1  # Working Together 2023: statutory, not configurable
FEEDBACK_WORKING_DAYS = 1
#: Outcomes that accept the referral for statutory work: a children in need episode opens.
FURTHER_ACTION = frozenset({"s17_assessment", "provide_services", "specialist_assessment",
                            "strategy_discussion", "immediate_protection"})
#: Outcomes recorded in the census as an NFA referral: the episode opens and closes at once.
NFA_OUTCOMES = frozenset({"nfa", "information_advice"})
# early_help_* outcomes open an early help episode, not a children in need one (DOMAIN.md §3.1).


class ReferralNotFound(NotFound):
    slug, title = "referral-not-found", "No such referral for this agency"


class InvalidReferral(Unprocessable):
    slug, title = "invalid-referral", "The referral cannot be accepted as sent"


class InvalidDecision(Unprocessable):
    slug, title = "invalid-decision", "The decision does not fit the partnership's threshold model"


class OverrideReasonRequired(Unprocessable):
    slug, title = "override-reason-required", "The decided level differs from the recommendation: give an override reason"


class DecisionByCscOnly(Forbidden):
    slug, title = "childrens-social-care-only", "Only children's social care records threshold decisions and feedback"


@cache
def allowed_referral_sources() -> dict[str, tuple[str, ...]]:
    """ReferralSource codes each agency type may choose when its type fixes none."""
    with (REFERENCE / "agency_types.yaml").open(encoding="utf-8") as fh:
        rows = yaml.safe_load(fh)["agency_types"]
    return {r["id"]: tuple(str(c) for c in r.get("allowed_referral_sources") or ()) for r in rows}


def referral_source(agency_type: str, given: str | None, problems: list[dict[str, str]], *,
                    full_access: bool, field: str = "body.referral_source") -> str:
    """The DfE ReferralSource of a concern recorded by an agency of ``agency_type``.

    Partners' sources follow from their type (a fixed code, or one of the type's allowed codes).
    Children's social care (a full-access type) records concerns on behalf of those with no
    partner agency behind them (family, acquaintances, the child, anonymous callers) and of
    others who phoned the front door: it may give any current DfE code; without one, its own.
    """
    kind = agency_types().get(agency_type)
    fixed = kind.referral_source if kind else None
    if full_access and given is not None:
        if given not in census_codes("ReferralSource"):
            problems.append(_problem(field, "not a DfE ReferralSource code (1A-1D, 2A, 2B, 3A-3F, 4, 5A-5D, 6, 7, 8, 9, 10)"))
        return given
    if fixed is not None:
        if given is not None and given != fixed:
            problems.append(_problem(field, f"your agency type's ReferralSource is {fixed}; leave it out"))
        return fixed
    allowed = allowed_referral_sources().get(agency_type, ())
    if given is None:
        problems.append(_problem(field, f"required for your agency type: one of {', '.join(allowed) or 'none configured'}"))
    elif given not in allowed:
        problems.append(_problem(field, f"not allowed for your agency type: one of {', '.join(allowed) or 'none configured'}"))
    return given or ""


def source_agency_types(agency_type: str, source: str) -> dict[str, str | None]:
    """Event fields naming who the concern came from: the recorder's type when the source is its
    own; otherwise (recorded on someone's behalf) no referring type, so reporting maps the code,
    and the recorder's type apart."""
    kind = agency_types().get(agency_type)
    own = (kind.referral_source if kind else None) or source
    allowed = allowed_referral_sources().get(agency_type, ())
    if source == own or source in allowed:
        return {"referring_agency_type": agency_type}
    return {"referring_agency_type": None, "recorded_by_agency_type": agency_type}


def _problem(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message, "code": "referral_rule"}


@dataclass
class Shown:
    """A referral as one agency may see it: the referrer stays hidden when withheld, and an
    agency that may not see the child's record (it only referred) sees what it sent and the
    outcome, nothing drawn from the record (README "Who sees what")."""

    referral: Referral
    referrer_visible: bool
    record_visible: bool


@dataclass
class StoredRecommendation:
    row: Recommendation
    model_row: ThresholdModelVersion
    model: ThresholdModel


class Referrals:
    def __init__(
        self,
        queries: ReferralQueries,
        evidence: EvidenceQueries,
        models: ThresholdModels,
        journeys: Journeys,
        assessment: AssessmentService,
        calendar: WorkingCalendar,
        full_access_types: Sequence[str],
        partnership_id: str,
        audit: Audit,
        outbox: Outbox,
    ) -> None:
        self.queries = queries
        self.evidence = evidence
        self.models = models
        self.journeys = journeys
        self.assessment = assessment
        self.calendar = calendar
        self.full_access_types = list(full_access_types)
        self.partnership_id = partnership_id
        self.audit = audit
        self.outbox = outbox
        self.chronology = Chronology(queries.session)
        self._full_access: dict[uuid.UUID, bool] = {}

    # --- receiving ----------------------------------------------------------------------

    async def receive(self, who: Principal, body: ReferralCreate) -> Shown:
        """Record a partner's referral. Referring grants no sight of the child's record: the
        referrer follows up its referral and its outcome; CSC adds an involvement when the
        agency is to work with the child."""
        agency = await self.queries.agency(who.agency_id)
        if agency is None:
            raise AgencyNotRegistered("Ask the partnership to register your agency before sending referrals.")
        problems: list[dict[str, str]] = []
        full_access = agency.agency_type in self.full_access_types
        source = referral_source(agency.agency_type, body.referral_source, problems, full_access=full_access)
        return await self.receive_from(who, agency, body, source, problems)

    async def receive_from(
        self, who: Principal, agency: Agency, body: ReferralCreate, source: str,
        problems: list[dict[str, str]] | None = None, *, contact_id: uuid.UUID | None = None,
    ) -> Shown:
        """Record a referral from ``agency`` with its ReferralSource settled: the caller's own, or
        the agency that recorded a contact children's social care now accepts as a referral."""
        problems = list(problems or [])
        child = await self.queries.child_to_refer(body.child_id)
        if child is None:
            raise ChildNotFound(f"No child {body.child_id}; register the child first.")
        received = body.received_at.astimezone(UTC) if body.received_at else utcnow()
        birth: list[dict[str, str]] = []
        _check_birth(child, list(body.neglect_types), received.date(), birth)
        if birth and not await self.queries.children_with_record(who, [child.id]):
            # A referrer without sight of the record is not told the child's birth details.
            birth = [_problem(p["field"], "does not fit the child's recorded birth or expected birth; "
                                          "children's social care can advise") for p in birth]
        problems += birth
        if problems:
            raise InvalidReferral(f"{len(problems)} problem(s) with the referral.", errors=problems)

        since = datetime.combine(add_months(received.date(), -RE_REFERRAL_MONTHS), received.timetz())
        previous = await self.queries.latest_referral_between(child.id, since, received)
        # Count from receipt, not from our insert: partner systems batch-send overnight.
        due = datetime.combine(self.calendar.add_working_days(local_date(received), DECISION_WORKING_DAYS), received.timetz())
        referral = Referral(
            child_id=child.id, referring_agency_id=agency.id, referral_source=source, received_at=received,
            concern_summary=body.concern_summary, neglect_types=list(body.neglect_types),
            indicators=[i.model_dump() for i in body.indicators], parental_factors=list(body.parental_factors),
            referrer_identity_withheld=body.referrer_identity_withheld, re_referral=previous is not None,
            previous_referral_id=previous.id if previous else None, decision_due_at=due, status=RECEIVED,
        )
        await self.queries.add(referral)

        kind = agency_types().get(agency.agency_type)
        by = "referrer withheld" if body.referrer_identity_withheld else (kind.name if kind else agency.agency_type)
        high = any(i.severity == "high" for i in body.indicators)
        again = " Re-referral within 12 months." if previous else ""
        self.chronology.add(
            child.id, "referral.received",
            f"Referral received ({by}); neglect: {', '.join(t.replace('_', ' ') for t in body.neglect_types)}.{again}",
            occurred=received, agency_id=None if body.referrer_identity_withheld else agency.id,
            significance="high" if high else "medium", source_type="referral", source_id=referral.id,
        )
        self.audit.record(who, "create", "referral", [child.id])
        # The type only (never the agency) so a withheld referrer stays unidentifiable in reporting.
        # Recorded by CSC on someone else's behalf (a family member, say): the source's type, not CSC's.
        # contact_id only when there is one (left unset, it is left out of the event).
        optional: dict[str, Any] = {**source_agency_types(agency.agency_type, source),
                                    **({"contact_id": contact_id} if contact_id else {})}
        await publish(self.outbox, ev.ReferralReceived(
            referral_id=referral.id, child_id=child.id,
            received_at=received, referral_source=source, neglect_types=list(body.neglect_types),
            re_referral=referral.re_referral, previous_referral_id=referral.previous_referral_id, **optional,
        ), occurred_at=received)
        return await self._shown(who, referral)

    # --- reading --------------------------------------------------------------------------

    async def get(self, who: Principal, referral_id: uuid.UUID) -> Shown:
        referral = await self._visible(who, referral_id)
        self.audit.record(who, "read", "referral", [referral.child_id])
        return await self._shown(who, referral)

    async def page(
        self, who: Principal, page: PageParams, *, child_id: uuid.UUID | None, status: str | None,
        received_from: date | None, received_to: date | None,
    ) -> tuple[list[Shown], str | None]:
        start = datetime.combine(received_from, time(), tzinfo=UTC) if received_from else None
        end = (datetime.combine(received_to + timedelta(days=1), time(), tzinfo=UTC)
               if received_to and received_to < date.max else None)
        rows, next_cursor = await self.queries.page(who, page, child_id=child_id, status=status,
                                                    received_from=start, received_before=end)
        if rows:
            self.audit.record(who, "list", "referral", [r.child_id for r in rows])
        with_record = await self.queries.children_with_record(who, [r.child_id for r in rows])
        return [Shown(r, await self._sees_referrer(who, r), r.child_id in with_record) for r in rows], next_cursor

    async def _visible(self, who: Principal, referral_id: uuid.UUID, *, for_update: bool = False,
                       with_record: bool = False) -> Referral:
        referral = await self.queries.get(who, referral_id, for_update=for_update, with_record=with_record)
        if referral is None:
            raise ReferralNotFound(f"No referral {referral_id} visible to your agency.")
        return referral

    async def _shown(self, who: Principal, referral: Referral) -> Shown:
        with_record = await self.queries.children_with_record(who, [referral.child_id])
        return Shown(referral, await self._sees_referrer(who, referral), referral.child_id in with_record)

    async def _is_full_access(self, who: Principal) -> bool:
        if who.agency_id not in self._full_access:
            agency = await self.queries.agency(who.agency_id)
            self._full_access[who.agency_id] = agency is not None and agency.agency_type in self.full_access_types
        return self._full_access[who.agency_id]

    async def _sees_referrer(self, who: Principal, referral: Referral) -> bool:
        if not referral.referrer_identity_withheld or referral.referring_agency_id == who.agency_id:
            return True
        return await self._is_full_access(who)

    # --- recommending -----------------------------------------------------------------------

    async def recommend(self, who: Principal, referral_id: uuid.UUID, token: str) -> StoredRecommendation:
        """Evaluate the active threshold model for the referral and store what it saw.
        Only for agencies that may see the child's record: the engine reads it."""
        referral = await self._visible(who, referral_id, with_record=True)
        toolkit = await self._toolkit_first(referral, token)
        stored = await self._recommend(who, referral, toolkit)
        self.audit.record(who, "create", "recommendation", [referral.child_id])
        return stored

    async def recommendations(self, who: Principal, referral_id: uuid.UUID) -> list[StoredRecommendation]:
        # Their inputs and evidence come from the child's record: not for a referrer without sight of it.
        referral = await self._visible(who, referral_id, with_record=True)
        rows = await self.queries.recommendations(referral.id)
        models = await self.models.versions(r.threshold_model_id for r in rows)
        self.audit.record(who, "list", "recommendation", [referral.child_id])
        return [StoredRecommendation(r, models[r.threshold_model_id], parsed(models[r.threshold_model_id])) for r in rows]

    async def _toolkit_first(self, referral: Referral, token: str, *, unless_advised: bool = False) -> ToolkitResults | None:
        """The child's toolkit results, when the model in force reads them, asked of the assessment
        service before this request takes a lock or writes anything: the read-only transaction
        so far is ended first, so no database transaction waits on the other service.
        ``unless_advised``: not asked when the referral already has advice from that model."""
        model_id, model = await self.models.peek(self.partnership_id)
        if model is None or not needs_toolkit(model):
            return None
        if unless_advised and model_id is not None:
            latest = await self.queries.latest_recommendation(referral.id)
            if latest is not None and latest.threshold_model_id == model_id:
                return None
        await end_read_transaction(self.queries.session)
        return await self.assessment.latest_results(referral.child_id, token)

    async def _recommend(self, who: Principal, referral: Referral, toolkit: ToolkitResults | None) -> StoredRecommendation:
        model_row, model = await self.models.active(self.partnership_id)
        child = await self.queries.child_visible(who, referral.child_id)
        if toolkit is None and needs_toolkit(model):
            # Another model was activated since the results were asked for: never call out from
            # inside this transaction, name the facts missing instead.
            toolkit = ToolkitResults(unavailable=f"{ASSESSMENT_UNAVAILABLE} (the threshold model changed during the request)")
        evidence = await gather(model, who=who, referral=referral, child=child, store=self.evidence,
                                toolkit=toolkit, now=utcnow())
        result = recommend(model, evidence.facts, evidence.missing)
        row = Recommendation(
            referral_id=referral.id, threshold_model_id=model_row.id, recommended_level=result.recommended_level,
            fired_rules=[asdict(f) for f in result.fired_rules], inputs=result.inputs,
            missing_facts=result.missing_facts, unevaluated_rules=result.unevaluated_rules,
        )
        await self.queries.add(row)
        await publish(self.outbox, ev.ReferralRecommendationComputed(
            referral_id=referral.id, child_id=referral.child_id,
            recommendation_id=row.id, recommended_level=row.recommended_level, partnership_id=model_row.partnership_id,
            ruleset_version=model_row.ruleset_version, complete=not row.missing_facts,
        ))
        return StoredRecommendation(row, model_row, model)

    # --- deciding ----------------------------------------------------------------------------

    async def record_decision(
        self, who: Principal, referral_id: uuid.UUID, body: DecisionCreate, version: Precondition, token: str
    ) -> Shown:
        """The qualified manager's decision; it may open (or join) the child's children in need episode."""
        if not await self._is_full_access(who):
            raise DecisionByCscOnly("Threshold decisions are recorded by children's social care.")
        seen = await self._visible(who, referral_id)
        _check_decidable(seen, version)  # refused early, before asking another service
        # A recommendation may be needed: ask the assessment service before locking the referral.
        toolkit = await self._toolkit_first(seen, token, unless_advised=True)
        referral = await self._visible(who, referral_id, for_update=True)
        _check_decidable(referral, version)  # again under the lock: another decision may have come first
        decided_at = body.decided_at.astimezone(UTC) if body.decided_at else utcnow()
        model_row, model = await self.models.active(self.partnership_id)
        problems: list[dict[str, str]] = []
        level = model.levels.get(body.level)
        if level is None:
            problems.append(_problem("body.level", f"not a level of the active model ({model.ruleset_version}): one of {', '.join(model.level_order)}"))
        elif body.outcome not in level.allowed_outcomes:
            problems.append(_problem("body.outcome", f"level {level.id} allows {', '.join(level.allowed_outcomes)}"))
        if body.outcome in FURTHER_ACTION and body.primary_need is None:
            problems.append(_problem("body.primary_need", "required when the referral leads to further action (DfE 8610)"))
        if decided_at < referral.received_at:
            problems.append(_problem("body.decided_at", "the decision cannot come before the referral was received"))
        early_help_start = body.early_help_start_date or decided_at.date()
        if body.early_help_start_date is not None:
            if not body.outcome.startswith("early_help"):
                problems.append(_problem("body.early_help_start_date", "only with an early help outcome"))
            elif early_help_start < decided_at.date():
                problems.append(_problem("body.early_help_start_date", "early help cannot start before the decision"))
            elif early_help_start > utcnow().date():
                problems.append(_problem("body.early_help_start_date", "in the future"))
        if problems:
            raise InvalidDecision(f"{len(problems)} problem(s) with the decision.", errors=problems)
        assert level is not None  # noqa: S101 - no problems means the level was found

        latest = await self.queries.latest_recommendation(referral.id)
        if latest is None or latest.threshold_model_id != model_row.id:
            # Decide against advice from the model in force now, never a superseded one.
            latest = (await self._recommend(who, referral, toolkit)).row
        overridden = body.level != latest.recommended_level
        if overridden and not body.override_reason:
            raise OverrideReasonRequired(
                f"The recommendation was level {latest.recommended_level}; say why you decided level {body.level}.",
                errors=[_problem("body.override_reason", "required because the level differs from the recommendation")])

        referral.episode_id = await self._episode_for(who, referral, body.outcome, body.primary_need, decided_at.date(),
                                                      early_help_start)
        referral.status = DECIDED
        referral.decided_level, referral.decided_outcome = body.level, body.outcome
        referral.decided_by, referral.decided_at = body.decided_by, decided_at
        referral.decision_rationale, referral.override_reason = body.rationale, body.override_reason
        referral.recommended_level, referral.threshold_model_id = latest.recommended_level, model_row.id
        referral.feedback_due_date = self.calendar.add_working_days(local_date(decided_at), FEEDBACK_WORKING_DAYS)
        referral.version += 1
        referral.updated_at = utcnow()
        await self.queries.add(referral)

        label = outcome_labels().get(body.outcome, body.outcome)
        advice = f"recommendation was level {latest.recommended_level}" + (" (overridden)" if overridden else "")
        self.chronology.add(
            referral.child_id, "referral.decided",
            f"Threshold decision: level {level.id} ({level.name}), {label.lower()}; {advice}.",
            occurred=decided_at, agency_id=who.agency_id,
            significance="high" if body.outcome in FURTHER_ACTION else "medium",
            source_type="referral", source_id=referral.id,
        )
        self.audit.record(who, "update", "referral", [referral.child_id])
        await publish(self.outbox, ev.ReferralDecided(
            referral_id=referral.id, child_id=referral.child_id,
            decided_at=decided_at, level=body.level, outcome=body.outcome, overridden=overridden,
            recommended_level=latest.recommended_level, partnership_id=model_row.partnership_id,
            ruleset_version=model_row.ruleset_version, referral_source=referral.referral_source,
            episode_id=referral.episode_id,
        ), occurred_at=decided_at)
        return await self._shown(who, referral)

    async def _episode_for(self, who: Principal, referral: Referral, outcome: str, primary_need: str | None,
                           decided_on: date, early_help_start: date) -> uuid.UUID | None:
        if outcome.startswith("early_help"):
            # Early help is separate from the census: an early help episode, not a CIN one. It starts
            # on its own day (a migrated record's), by default the decision's.
            if await self.journeys.queries.open_early_help(referral.child_id) is None:
                await self.journeys.open_early_help(who, referral.child_id, early_help_start, None)
            return None
        if outcome not in FURTHER_ACTION and outcome not in NFA_OUTCOMES:
            return None
        # One open episode per child (DfE 8815): a new concern joins the open episode.
        if (open_id := await self.queries.open_episode_id(who, referral.child_id)) is not None:
            return open_id
        # The referrer's agency type, as referral.received carries it: several types share a DfE
        # ReferralSource code (3F: hospital wards and other health services), so reporting cannot
        # tell them apart from the code (NQ05, NQ22).
        referrer = await self.queries.agency(referral.referring_agency_id) if referral.referring_agency_id else None
        return await self.journeys.open_episode(
            who, referral.child_id, referral_date=referral.received_at.date(), source=referral.referral_source,
            nfa=outcome in NFA_OUTCOMES, primary_need=primary_need, decided_on=decided_on,
            referring_agency_type=referrer.agency_type if referrer else None,
        )

    async def record_feedback(self, who: Principal, referral_id: uuid.UUID, body: FeedbackCreate, version: Precondition) -> Shown:
        """The referrer has been told the outcome (Working Together 2023)."""
        if not await self._is_full_access(who):
            raise DecisionByCscOnly("Feedback to referrers is recorded by children's social care.")
        referral = await self._visible(who, referral_id, for_update=True)
        check_version(referral.version, version)
        if referral.status != DECIDED or referral.decided_at is None:
            raise IllegalTransition("Record the decision before telling the referrer the outcome.", rule="decision-first")
        if referral.feedback_sent_at is not None:
            raise IllegalTransition(f"Feedback was recorded as sent at {referral.feedback_sent_at}.", rule="feedback-once")
        sent_at = body.sent_at.astimezone(UTC) if body.sent_at else utcnow()
        if sent_at < referral.decided_at:
            raise InvalidReferral("Feedback cannot be sent before the decision.",
                                  errors=[_problem("body.sent_at", "before the decision was made")])
        referral.feedback_sent_at = sent_at
        referral.version += 1
        referral.updated_at = utcnow()
        await self.queries.add(referral)
        self.chronology.add(referral.child_id, "referral.feedback_sent", "Referrer told the outcome of the referral.",
                            occurred=sent_at, agency_id=who.agency_id, significance="low",
                            source_type="referral", source_id=referral.id)
        self.audit.record(who, "update", "referral", [referral.child_id])
        await publish(self.outbox, ev.ReferralFeedbackSent(
            referral_id=referral.id, child_id=referral.child_id, sent_at=sent_at,
            on_time=referral.feedback_due_date is None or sent_at.date() <= referral.feedback_due_date), occurred_at=sent_at)
        return await self._shown(who, referral)


def _check_decidable(referral: Referral, version: Precondition) -> None:
    check_version(referral.version, version)
    if referral.status != RECEIVED:
        raise IllegalTransition(f"This referral was decided on {referral.decided_at}; a referral takes one decision.",
                                rule="one-decision")


def _check_birth(child: Child, neglect_types: list[str], received: date, problems: list[dict[str, str]]) -> None:
    """Pre-birth neglect belongs to pregnancy; an unborn child's referral is pre-birth only."""
    pre_birth = "pre_birth" in neglect_types
    if child.birth_date is None:
        if set(neglect_types) != {"pre_birth"}:
            problems.append(_problem("body.neglect_types", "a referral for an unborn child is for pre_birth neglect only"))
        expected = child.expected_birth_date
        if expected is not None and received < expected - PRE_BIRTH_WINDOW:
            problems.append(_problem("body.received_at", "more than 40 weeks before the expected birth date (DfE 8606)"))
        return
    born = child.birth_date
    if received < born:
        if set(neglect_types) != {"pre_birth"}:
            problems.append(_problem("body.neglect_types", "a referral received before the birth is for pre_birth neglect only"))
        if received < born - PRE_BIRTH_WINDOW:
            problems.append(_problem("body.received_at", "more than 40 weeks before the birth date (DfE 8606)"))
    elif pre_birth:
        problems.append(_problem("body.neglect_types", "pre_birth neglect is for a referral made before the birth"))


def decision_fields(referral: Referral, *, record_visible: bool = True) -> dict[str, Any] | None:
    """The decision part of a referral for reading, or None before the decision.

    ``record_visible`` False: the reader only referred the child. It is told the outcome
    (Working Together 2023: the referrer is told the decision and next step), not the
    reasoning, which draws on the child's record and the engine's evidence from it.
    """
    if referral.status != DECIDED or referral.decided_at is None:
        return None
    if not record_visible:
        return {
            "level": referral.decided_level, "outcome": referral.decided_outcome, "decided_by": referral.decided_by,
            "decided_at": referral.decided_at, "rationale": None, "override_reason": None, "overridden": None,
            "recommended_level": None, "threshold_model_id": referral.threshold_model_id,
        }
    return {
        "level": referral.decided_level, "outcome": referral.decided_outcome, "decided_by": referral.decided_by,
        "decided_at": referral.decided_at, "rationale": referral.decision_rationale,
        "override_reason": referral.override_reason,
        "overridden": referral.recommended_level is not None and referral.decided_level != referral.recommended_level,
        "recommended_level": referral.recommended_level, "threshold_model_id": referral.threshold_model_id,
    }
