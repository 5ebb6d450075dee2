"""Statutory steps in a child's episode: each one a transition of the journey state
machine, saved with its chronology line, audit row and outbox event in one transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from services.referral import events as ev
from services.referral.domain import journey as j
from services.referral.domain.calendar import WorkingCalendar, add_months
from services.referral.domain.children import plans_elsewhere_facts
from services.referral.domain.chronology import Chronology, at_noon
from services.referral.domain.errors import ChildNotFound, EpisodeNotFound, NotStatutoryAgency
from services.referral.models import Conference, CoreGroup, Episode, Section47, StrategyDiscussion
from services.referral.queries.children import AgencyQueries
from services.referral.queries.journey import JourneyQueries, LoadedJourney
from services.referral.schemas.episodes import (
    AssessmentAuthorisation,
    AssessmentStart,
    Closure,
    ConferenceCreate,
    CoreGroupCreate,
    FgdmRecord,
    LetterBeforeProceedings,
    PlanEnd,
    PlanStart,
    PreProceedingsDecision,
    PreProceedingsMeeting,
    PreProceedingsStart,
    S47Conclusion,
    StrategyDiscussionCreate,
)
from shared.audit import Audit
from shared.contracts import publish
from shared.etag import Precondition, check_version
from shared.events import Outbox
from shared.tokens import Principal

ICPC_WORKING_DAYS = 15
STEP_DOWN_WORDS = {
    "cin_plan": "stepped down to a child in need plan",
    "early_help": "stepped down to early help",
    "none": "no further plan",
}
ASSESSMENT_WORKING_DAYS = 45
PP_OUTCOME_WORDS = {
    "proceedings_issued": "care proceedings to be issued",
    "pre_proceedings_ended_no_proceedings": "pre-proceedings ended without proceedings",
    "continue_pre_proceedings": "pre-proceedings continue",
    "other": "pre-proceedings ended (other outcome)",
}


def today() -> date:
    return datetime.now(UTC).date()


def _plan_started(plan: j.CpPlan) -> tuple[str, dict[str, Any]]:
    end = plan.previous_plan_end_date
    return ("cp_plan.started", {"cp_plan_id": plan.id, "category": plan.initial_category,
                                "previous_plans": plan.previous_plans,
                                "previous_plan_end_date": end})


def next_review_due(start: date, reviews: Sequence[date]) -> date:
    """First review within 3 months of the plan starting, then within 6 months of the last."""
    return add_months(reviews[-1], 6) if reviews else add_months(start, 3)


class Journeys:
    def __init__(
        self,
        queries: JourneyQueries,
        agencies: AgencyQueries,
        calendar: WorkingCalendar,
        full_access_types: Sequence[str],
        audit: Audit,
        outbox: Outbox,
    ) -> None:
        self.queries = queries
        self.agencies = agencies
        self.calendar = calendar
        self.full_access_types = full_access_types
        self.audit = audit
        self.outbox = outbox
        self.chronology = Chronology(queries.session)

    # --- reading ----------------------------------------------------------------

    async def episode(self, who: Principal, episode_id: uuid.UUID) -> tuple[LoadedJourney, uuid.UUID]:
        child_id = await self.queries.child_of_episode(who, episode_id)
        if child_id is None:
            raise EpisodeNotFound(f"No episode {episode_id} visible to your agency.")
        child = await self.queries.visible_child(who, child_id)
        assert child is not None  # noqa: S101 - visible a moment ago in the same transaction
        loaded = await self.queries.load(child)
        _census_episode(loaded, episode_id)
        self.audit.record(who, "read", "episode", [child_id])
        return loaded, episode_id

    async def episodes_of_child(self, who: Principal, child_id: uuid.UUID) -> LoadedJourney:
        child = await self.queries.visible_child(who, child_id)
        if child is None:
            raise ChildNotFound(f"No child {child_id} visible to your agency.")
        self.audit.record(who, "list", "episode", [child_id])
        return await self.queries.load(child)

    # --- opening (called by the referral decision) ----------------------------------

    async def open_episode(
        self, who: Principal, child_id: uuid.UUID, referral_date: date, source: str, *, nfa: bool,
        primary_need: str | None, decided_on: date, referring_agency_type: str | None = None,
    ) -> uuid.UUID:
        """A referral accepted by children's social care becomes a census episode."""
        child = await self.queries.visible_child(who, child_id)
        if child is None:
            raise ChildNotFound(f"No child {child_id} visible to your agency.")
        if not nfa:
            # Census items a referral that leads to further action must carry (the census would reject the child).
            # DfE 8540 asks for a disability of a child with a birth date: an unborn child's is recorded with its birth.
            if not child.disabilities and child.birth_date is not None:
                raise j.RuleBroken("8540", "Record the child's disability (or NONE) before a decision that leads to further action.")
            if child.upn_unknown == "UN7":
                raise j.RuleBroken("8772", "UPN unknown reason UN7 is only for referrals with no further action: record the UPN or another reason first.")
        loaded = await self.queries.load(child, for_update=True)
        episode = loaded.journey.receive_referral(referral_date, source, today())
        loaded.journey.decide(episode, nfa=nfa, primary_need=primary_need, decided_on=decided_on, today=today())
        await self.queries.save(loaded, episode.id)
        await publish(self.outbox, ev.EpisodeOpened(
            child_id=child.id, episode_id=episode.id, referral_date=referral_date, referral_source=source,
            referring_agency_type=referring_agency_type, nfa=nfa, primary_need=episode.primary_need))
        if nfa:
            offers, case = await self.queries.open_work(child.id)
            await publish(self.outbox, ev.EpisodeClosed(
                child_id=child.id, episode_id=episode.id, date=decided_on, reason=episode.reason_for_closure,
                open_service_offers=offers, open_non_engagement_case=case))
            self._note_open_work(who, child.id, episode.id, decided_on, offers, case)
        return episode.id

    def _note_open_work(self, who: Principal, child_id: uuid.UUID, episode_id: uuid.UUID, closed: date,
                        offers: int, case: bool) -> None:
        """INV-17 (design): closure reports, never closes, partners' open work. Ending an offer is the
        offering agency's step, and closing a chronic neglect non-engagement case needs its own
        manager decision (DOMAIN.md §7), so both are left open and flagged for review."""
        if not (offers or case):
            return
        parts = ([f"{offers} open service offer{'s' if offers != 1 else ''}"] if offers else []) + \
            (["an open non-engagement case"] if case else [])
        # A minute after the closure line (both known only by date, at noon) so it reads after it.
        self.chronology.add(child_id, "episode.open_work", f"Episode closed with {' and '.join(parts)}: review them.",
                            occurred=at_noon(closed) + timedelta(minutes=1), agency_id=who.agency_id, significance="high",
                            source_type="episode", source_id=episode_id)

    # --- early help (separate from the CIN census episodes) ---------------------------

    async def open_early_help(self, who: Principal, child_id: uuid.UUID, start: date,
                              lead_agency_id: uuid.UUID | None, source: str = "5D") -> Episode:
        """Early help for a child: one open early help episode at a time, beside any CIN episode."""
        child = await self.queries.visible_child(who, child_id)
        if child is None:
            raise ChildNotFound(f"No child {child_id} visible to your agency.")
        if start > today():
            raise j.RuleBroken("future-date", f"The start date {start} is in the future.")
        if await self.queries.open_early_help(child_id) is not None:
            raise j.RuleBroken("one-early-help", "The child already has an open early help episode.")
        lead = lead_agency_id or who.agency_id
        if await self.agencies.get(lead) is None:
            raise EpisodeNotFound(f"No agency {lead}.")
        episode = Episode(child_id=child_id, kind="early_help", referral_date=start, referral_source=source,
                          lead_agency_id=lead)
        self.queries.add(episode)
        await self.queries.session.flush()
        self.chronology.add(child_id, "early_help.started", "Early help started.", occurred=start,
                            agency_id=who.agency_id, significance="medium", source_type="episode", source_id=episode.id)
        self.audit.record(who, "create", "episode", [child_id])
        await publish(self.outbox, ev.EarlyHelpStarted(child_id=child_id, episode_id=episode.id, date=start,
                                                       lead_agency_id=lead))
        return episode

    async def early_help(self, who: Principal, episode_id: uuid.UUID) -> Episode:
        episode = await self.queries.early_help_episode(who, episode_id)
        if episode is None:
            raise EpisodeNotFound(f"No early help episode {episode_id} visible to your agency.")
        self.audit.record(who, "read", "episode", [episode.child_id])
        return episode

    async def early_help_of_child(self, who: Principal, child_id: uuid.UUID) -> Sequence[Episode]:
        if await self.queries.visible_child(who, child_id) is None:
            raise ChildNotFound(f"No child {child_id} visible to your agency.")
        self.audit.record(who, "list", "episode", [child_id])
        return await self.queries.early_help_of(child_id)

    async def close_early_help(self, who: Principal, episode_id: uuid.UUID, version: Precondition, closed: date,
                               reason: str) -> Episode:
        episode = await self.queries.early_help_episode(who, episode_id, for_update=True)
        if episode is None:
            raise EpisodeNotFound(f"No early help episode {episode_id} visible to your agency.")
        check_version(episode.version, version)
        if episode.closure_date is not None:
            raise j.RuleBroken("8565", f"This early help episode closed on {episode.closure_date}.")
        if closed > today() or closed < episode.referral_date:
            raise j.RuleBroken("8630", "Early help closes between its start and today.")
        episode.closure_date, episode.reason_for_closure = closed, reason
        episode.version += 1
        self.queries.add(episode)
        self.chronology.add(episode.child_id, "early_help.closed", f"Early help ended: {reason.replace('_', ' ')}.",
                            occurred=closed, agency_id=who.agency_id, significance="medium",
                            source_type="episode", source_id=episode.id)
        self.audit.record(who, "update", "episode", [episode.child_id])
        await publish(self.outbox, ev.EarlyHelpClosed(child_id=episode.child_id, episode_id=episode.id, date=closed,
                                                      reason=reason))
        return episode

    # --- transitions --------------------------------------------------------------

    async def _begin(self, who: Principal, episode_id: uuid.UUID, version: Precondition) -> tuple[LoadedJourney, j.Episode]:
        agency = await self.agencies.get(who.agency_id)
        if agency is None or agency.agency_type not in self.full_access_types:
            raise NotStatutoryAgency("Statutory steps are recorded by children's social care.")
        child_id = await self.queries.child_of_episode(who, episode_id)
        if child_id is None:
            raise EpisodeNotFound(f"No episode {episode_id} visible to your agency.")
        child = await self.queries.visible_child(who, child_id)
        assert child is not None  # noqa: S101
        loaded = await self.queries.load(child, for_update=True)
        _census_episode(loaded, episode_id)
        check_version(loaded.episodes[episode_id].version, version)
        return loaded, loaded.journey.episode(episode_id)

    async def _finish(self, who: Principal, loaded: LoadedJourney, ep: j.Episode, event: str,
                      summary: str, when: date, significance: str = "high", **data: Any) -> LoadedJourney:
        await self.queries.save(loaded, ep.id)
        child_id = loaded.child.id
        self.chronology.add(child_id, event, summary, occurred=when, agency_id=who.agency_id,
                            significance=significance, source_type="episode", source_id=ep.id)
        self.audit.record(who, "update", "episode", [child_id])
        await publish(self.outbox, ev.CATALOGUE.build(event, child_id=child_id, episode_id=ep.id, date=when, **data))
        return loaded

    async def start_assessment(self, who: Principal, episode_id: uuid.UUID, version: Precondition, body: AssessmentStart) -> LoadedJourney:
        loaded, ep = await self._begin(who, episode_id, version)
        assessment = loaded.journey.start_assessment(ep, body.start_date, today())
        await self.queries.save(loaded, None)
        loaded.assessments[assessment.id].child_seen_date = body.child_seen_date
        return await self._finish(who, loaded, ep, "assessment.started", "Child and family assessment started.",
                                  body.start_date, "medium", assessment_id=assessment.id)

    async def authorise_assessment(self, who: Principal, episode_id: uuid.UUID, assessment_id: uuid.UUID,
                                   version: Precondition, body: AssessmentAuthorisation) -> LoadedJourney:
        loaded, ep = await self._begin(who, episode_id, version)
        assessment = next((a for a in ep.assessments if a.id == assessment_id), None)
        if assessment is None:
            raise EpisodeNotFound(f"No assessment {assessment_id} in this episode.")
        loaded.journey.authorise_assessment(ep, assessment, body.authorised_date, body.factors, today())
        row = loaded.assessments[assessment_id]
        row.authorised_by = body.authorised_by
        if body.child_seen_date:
            row.child_seen_date = body.child_seen_date
        neglect = " Neglect identified (16A)." if "16A" in body.factors else ""
        return await self._finish(who, loaded, ep, "assessment.authorised", "Assessment authorised." + neglect,
                                  body.authorised_date, assessment_id=assessment_id, factors=list(body.factors))

    async def hold_strategy_discussion(self, who: Principal, episode_id: uuid.UUID, version: Precondition,
                                       body: StrategyDiscussionCreate) -> LoadedJourney:
        loaded, ep = await self._begin(who, episode_id, version)
        if body.held_date > today() or body.held_date < ep.referral_date:
            raise j.RuleBroken("2889", "A strategy discussion falls between the referral and today.")
        if not ep.is_open:
            raise j.RuleBroken("8565", "The episode is closed.")
        s47_id = None
        if body.start_s47:
            s47 = loaded.journey.start_s47(ep, body.held_date, today())
            target = self.calendar.add_working_days(body.held_date, ICPC_WORKING_DAYS)
            loaded.s47s[s47.id] = Section47(id=s47.id, episode_id=ep.id, start_date=s47.start_date, icpc_target_date=target)
            s47_id = s47.id
        discussion = StrategyDiscussion(
            episode_id=ep.id, held_date=body.held_date, outcome="s47" if body.start_s47 else "no_s47", s47_id=s47_id,
            participating_agency_ids=[str(a) for a in body.participating_agency_ids])
        await self.queries.save(loaded, None)
        self.queries.add(discussion)
        loaded.strategy_discussions.append(discussion)
        summary = "Strategy discussion held; s47 enquiry started." if s47_id else "Strategy discussion held; no s47 enquiry."
        icpc_target = loaded.s47s[s47_id].icpc_target_date if s47_id else None
        return await self._finish(who, loaded, ep, "strategy_discussion.held", summary, body.held_date,
                                  s47_id=s47_id, s47_started=bool(s47_id), icpc_target_date=icpc_target)

    async def conclude_s47(self, who: Principal, episode_id: uuid.UUID, s47_id: uuid.UUID, version: Precondition,
                           body: S47Conclusion) -> LoadedJourney:
        loaded, ep = await self._begin(who, episode_id, version)
        s47 = self._s47(ep, s47_id)
        loaded.journey.conclude_s47_without_icpc(ep, s47, body.concluded_date, today())
        return await self._finish(who, loaded, ep, "s47.concluded", "s47 enquiry concluded: conference not required.",
                                  body.concluded_date, s47_id=s47_id, icpc_required=False)

    async def hold_conference(self, who: Principal, episode_id: uuid.UUID, version: Precondition, body: ConferenceCreate) -> LoadedJourney:
        loaded, ep = await self._begin(who, episode_id, version)
        conference = Conference(episode_id=ep.id, kind=body.kind, held_date=body.held_date, outcome=body.outcome,
                                s47_id=body.s47_id, cp_plan_id=body.cp_plan_id, child_participation=body.child_participation)
        events: list[tuple[str, dict[str, Any]]] = []
        if body.kind == "transfer_in":
            assert body.category is not None  # noqa: S101 - the schema requires it
            if body.plans_elsewhere is not None:
                history = j.PlansElsewhere(body.plans_elsewhere.previous_plans, body.plans_elsewhere.latest_end_date)
                loaded.journey.record_plans_elsewhere(history, today())
            plan = loaded.journey.hold_transfer_in(ep, body.held_date, body.category, today())
            conference.cp_plan_id = plan.id
            events += [("transfer_in.held", {"cp_plan_id": plan.id}), _plan_started(plan)]
            summary = f"Transfer-in child protection conference: the plan continues here ({body.category})."
        elif body.kind == "initial":
            assert body.s47_id is not None  # noqa: S101 - the schema requires it
            loaded.journey.hold_icpc(ep, self._s47(ep, body.s47_id), body.held_date, today())
            events.append(("icpc.held", {"s47_id": body.s47_id, "plan": body.outcome == "plan"}))
            if body.outcome == "plan":
                assert body.category is not None  # noqa: S101
                plan = loaded.journey.start_cp_plan(ep, body.held_date, body.category, today())
                conference.cp_plan_id = plan.id
                events.append(_plan_started(plan))
            summary = f"Initial child protection conference: {'plan made (' + str(body.category) + ')' if body.outcome == 'plan' else 'no plan'}."
        else:
            assert body.cp_plan_id is not None  # noqa: S101
            plan = self._cp_plan(ep, body.cp_plan_id)
            loaded.journey.review_cp_plan(ep, plan, body.held_date, today(), body.category)
            events.append(("cp_plan.reviewed", {"cp_plan_id": plan.id, "latest_category": plan.latest_category}))
            summary = "Child protection review conference: plan continues."
            if body.outcome == "end_plan":
                loaded.journey.end_cp_plan(ep, plan, body.held_date, today())
                events += self._stepped_down(loaded, ep, plan, body.held_date, body.step_down)
                summary = f"Child protection review conference: plan ended; {STEP_DOWN_WORDS[body.step_down]}."
        await self.queries.save(loaded, None)
        if body.plans_elsewhere is not None:
            await publish(self.outbox, ev.ChildCpPlansElsewhereRecorded(**plans_elsewhere_facts(loaded.child)))
        if body.kind == "review" and body.outcome == "end_plan":
            loaded.cp_plans[plan.id].end_route = _route(body.step_down)
        self.queries.add(conference)
        loaded.conferences.append(conference)
        first, *rest = events
        await self._finish(who, loaded, ep, first[0], summary, body.held_date, conference_id=conference.id, **first[1])
        for name, data in rest:
            await publish(self.outbox, ev.CATALOGUE.build(name, child_id=loaded.child.id, episode_id=ep.id,
                                                          date=body.held_date, **data))
        return loaded

    def _stepped_down(self, loaded: LoadedJourney, ep: j.Episode, plan: j.CpPlan, ended: date,
                      step_down: str) -> list[tuple[str, dict[str, Any]]]:
        events: list[tuple[str, dict[str, Any]]] = [
            ("cp_plan.ended", {"cp_plan_id": plan.id, "step_down": step_down, "latest_category": plan.latest_category})]
        if step_down == "cin_plan":
            cin = loaded.journey.start_cin_plan(ep, ended, today())
            events.append(("cin_plan.started", {"cin_plan_id": cin.id, "stepped_down": True}))
        return events

    async def end_cp_plan(self, who: Principal, episode_id: uuid.UUID, plan_id: uuid.UUID, version: Precondition, body: PlanEnd) -> LoadedJourney:
        loaded, ep = await self._begin(who, episode_id, version)
        plan = self._cp_plan(ep, plan_id)
        loaded.journey.end_cp_plan(ep, plan, body.end_date, today())
        events = self._stepped_down(loaded, ep, plan, body.end_date, body.step_down)
        await self.queries.save(loaded, None)
        loaded.cp_plans[plan_id].end_route = _route(body.step_down)
        first, *rest = events
        await self._finish(who, loaded, ep, first[0], f"Child protection plan ended; {STEP_DOWN_WORDS[body.step_down]}.",
                           body.end_date, **first[1])
        for name, data in rest:
            await publish(self.outbox, ev.CATALOGUE.build(name, child_id=loaded.child.id, episode_id=ep.id,
                                                          date=body.end_date, **data))
        return loaded

    async def add_core_group(self, who: Principal, episode_id: uuid.UUID, plan_id: uuid.UUID, version: Precondition,
                             body: CoreGroupCreate) -> LoadedJourney:
        loaded, ep = await self._begin(who, episode_id, version)
        plan = self._cp_plan(ep, plan_id)
        if not ep.is_open or body.held_date > today() or body.held_date < plan.start_date or \
                (plan.end_date is not None and body.held_date > plan.end_date):
            raise j.RuleBroken("core-group", "A core group meets while the plan is open, and not in the future.")
        group = CoreGroup(cp_plan_id=plan_id, held_date=body.held_date)
        self.queries.add(group)
        loaded.core_groups.append(group)
        return await self._finish(who, loaded, ep, "core_group.held", "Core group met.", body.held_date, "medium",
                                  cp_plan_id=plan_id)

    async def start_cin_plan(self, who: Principal, episode_id: uuid.UUID, version: Precondition, body: PlanStart) -> LoadedJourney:
        loaded, ep = await self._begin(who, episode_id, version)
        plan = loaded.journey.start_cin_plan(ep, body.start_date, today())
        return await self._finish(who, loaded, ep, "cin_plan.started", "Child in need plan started.", body.start_date,
                                  cin_plan_id=plan.id, stepped_down=False)

    async def end_cin_plan(self, who: Principal, episode_id: uuid.UUID, plan_id: uuid.UUID, version: Precondition, body: PlanEnd) -> LoadedJourney:
        loaded, ep = await self._begin(who, episode_id, version)
        plan = next((p for p in ep.cin_plans if p.id == plan_id), None)
        if plan is None:
            raise EpisodeNotFound(f"No child in need plan {plan_id} in this episode.")
        loaded.journey.end_cin_plan(ep, plan, body.end_date, today())
        return await self._finish(who, loaded, ep, "cin_plan.ended", "Child in need plan ended.", body.end_date,
                                  cin_plan_id=plan_id, step_down=body.step_down)

    # --- pre-proceedings (Public Law Outline) ------------------------------------------

    async def start_pre_proceedings(self, who: Principal, episode_id: uuid.UUID, version: Precondition,
                                    body: PreProceedingsStart) -> LoadedJourney:
        loaded, ep = await self._begin(who, episode_id, version)
        pp = loaded.journey.start_pre_proceedings(ep, body.start_date, today())
        return await self._finish(who, loaded, ep, "pre_proceedings.started", "Pre-proceedings (PLO) started.",
                                  body.start_date, pre_proceedings_id=pp.id)

    async def record_pp_meeting(self, who: Principal, episode_id: uuid.UUID, pp_id: uuid.UUID, version: Precondition,
                                body: PreProceedingsMeeting) -> LoadedJourney:
        loaded, ep = await self._begin(who, episode_id, version)
        pp = self._pre_proceedings(ep, pp_id)
        loaded.journey.record_pp_meeting(ep, pp, body.held_date, today())
        return await self._pp_updated(who, loaded, ep, pp, "meeting", "Pre-proceedings meeting held.", body.held_date)

    async def send_letter_before_proceedings(self, who: Principal, episode_id: uuid.UUID, pp_id: uuid.UUID,
                                             version: Precondition, body: LetterBeforeProceedings) -> LoadedJourney:
        loaded, ep = await self._begin(who, episode_id, version)
        pp = self._pre_proceedings(ep, pp_id)
        loaded.journey.send_letter_before_proceedings(ep, pp, body.sent_date, today())
        return await self._pp_updated(who, loaded, ep, pp, "letter", "Letter before proceedings sent.", body.sent_date, "high")

    async def record_fgdm(self, who: Principal, episode_id: uuid.UUID, pp_id: uuid.UUID, version: Precondition,
                          body: FgdmRecord) -> LoadedJourney:
        loaded, ep = await self._begin(who, episode_id, version)
        pp = self._pre_proceedings(ep, pp_id)
        loaded.journey.record_fgdm(ep, pp, offered=body.offered, held=body.held)
        words = "held" if body.held else "offered, not (yet) held" if body.offered else "not offered"
        # No date in the census for FGDM: the line sits on the day it was recorded.
        return await self._pp_updated(who, loaded, ep, pp, "fgdm", f"Family group decision making: {words}.", today())

    async def _pp_updated(self, who: Principal, loaded: LoadedJourney, ep: j.Episode, pp: j.PreProceedings,
                          change: str, summary: str, when: date, significance: str = "medium") -> LoadedJourney:
        letter = pp.letter_before_proceedings_sent
        return await self._finish(who, loaded, ep, "pre_proceedings.updated", summary, when, significance,
                                  pre_proceedings_id=pp.id, change=change, meeting_count=len(pp.meeting_dates),
                                  letter_before_proceedings_sent=letter,
                                  fgdm_offered=pp.fgdm_offered, fgdm_held=pp.fgdm_held)

    async def decide_pre_proceedings(self, who: Principal, episode_id: uuid.UUID, pp_id: uuid.UUID, version: Precondition,
                                     body: PreProceedingsDecision) -> LoadedJourney:
        loaded, ep = await self._begin(who, episode_id, version)
        pp = self._pre_proceedings(ep, pp_id)
        loaded.journey.decide_pre_proceedings(ep, pp, body.decision_date, body.outcome, today(),
                                              body.court_application_date)
        court = body.court_application_date
        summary = f"Pre-proceedings decision: {PP_OUTCOME_WORDS[body.outcome]}." + \
            (f" Court application made on {court.isoformat()}." if court else "")
        return await self._finish(who, loaded, ep, "pre_proceedings.decided", summary, body.decision_date,
                                  pre_proceedings_id=pp.id, start_date=pp.start_date, outcome=body.outcome,
                                  court_application_date=court,
                                  meeting_count=len(pp.meeting_dates), open=pp.is_open)

    async def close(self, who: Principal, episode_id: uuid.UUID, version: Precondition, body: Closure) -> LoadedJourney:
        """Close the episode; with `step_down_to_early_help` an early help episode starts that day.
        Open pre-proceedings refuse closure (INV-17); partners' open service offers and an open
        non-engagement case are reported in the event and the chronology, not closed."""
        loaded, ep = await self._begin(who, episode_id, version)
        loaded.journey.close_episode(ep, body.closure_date, body.reason, today())
        offers, case = await self.queries.open_work(loaded.child.id)
        finished = await self._finish(who, loaded, ep, "episode.closed", f"Episode closed ({body.reason}).",
                                      body.closure_date, reason=body.reason, open_service_offers=offers,
                                      open_non_engagement_case=case)
        self._note_open_work(who, loaded.child.id, ep.id, body.closure_date, offers, case)
        if body.step_down_to_early_help:
            await self.open_early_help(who, loaded.child.id, body.closure_date, body.early_help_lead_agency_id)
        return finished

    @staticmethod
    def _s47(ep: j.Episode, s47_id: uuid.UUID) -> j.Section47:
        found = next((s for s in ep.s47s if s.id == s47_id), None)
        if found is None:
            raise EpisodeNotFound(f"No s47 enquiry {s47_id} in this episode.")
        return found

    @staticmethod
    def _pre_proceedings(ep: j.Episode, pp_id: uuid.UUID) -> j.PreProceedings:
        found = next((pp for pp in ep.pre_proceedings if pp.id == pp_id), None)
        if found is None:
            raise EpisodeNotFound(f"No pre-proceedings {pp_id} in this episode.")
        return found

    @staticmethod
    def _cp_plan(ep: j.Episode, plan_id: uuid.UUID) -> j.CpPlan:
        found = next((p for p in ep.cp_plans if p.id == plan_id), None)
        if found is None:
            raise EpisodeNotFound(f"No child protection plan {plan_id} in this episode.")
        return found


def _census_episode(loaded: LoadedJourney, episode_id: uuid.UUID) -> None:
    # An early help episode shares the table but not the census journey: it has its own routes.
    if episode_id not in loaded.episodes:
        raise EpisodeNotFound(f"Episode {episode_id} is an early help episode: see /v1/early-help-episodes/{episode_id}.")


def _route(step_down: str) -> str:
    return {"cin_plan": "step_down_cin", "early_help": "step_down_early_help"}.get(step_down, "closed")
