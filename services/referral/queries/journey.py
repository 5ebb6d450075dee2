"""Loading and saving one child's journey: rows <-> the plain state machine."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.referral.domain import journey as j
from services.referral.models import (
    Child,
    CinPlan,
    Conference,
    CoreGroup,
    CpPlan,
    Episode,
    NonEngagementCase,
    PreProceedings,
    Section47,
    ServiceOffer,
    StatutoryAssessment,
    StrategyDiscussion,
)
from services.referral.queries.children import visible_to
from shared.db import utcnow
from shared.tokens import Principal


@dataclass
class LoadedJourney:
    child: Child
    journey: j.Journey
    episodes: dict[uuid.UUID, Episode] = field(default_factory=dict)
    assessments: dict[uuid.UUID, StatutoryAssessment] = field(default_factory=dict)
    s47s: dict[uuid.UUID, Section47] = field(default_factory=dict)
    cp_plans: dict[uuid.UUID, CpPlan] = field(default_factory=dict)
    cin_plans: dict[uuid.UUID, CinPlan] = field(default_factory=dict)
    pre_proceedings: dict[uuid.UUID, PreProceedings] = field(default_factory=dict)
    conferences: list[Conference] = field(default_factory=list)
    strategy_discussions: list[StrategyDiscussion] = field(default_factory=list)
    core_groups: list[CoreGroup] = field(default_factory=list)


class JourneyQueries:
    def __init__(self, session: AsyncSession, full_access_types: Sequence[str]) -> None:
        self.session = session
        self.full_access_types = full_access_types

    async def child_of_episode(self, who: Principal, episode_id: uuid.UUID) -> uuid.UUID | None:
        stmt = (
            select(Episode.child_id)
            .join(Child, col(Child.id) == col(Episode.child_id))
            .where(Episode.id == episode_id, visible_to(who, self.full_access_types))
        )
        return (await self.session.exec(stmt)).first()

    async def visible_child(self, who: Principal, child_id: uuid.UUID) -> Child | None:
        stmt = select(Child).where(Child.id == child_id, visible_to(who, self.full_access_types))
        return (await self.session.exec(stmt)).first()

    async def episodes_of(self, who: Principal, child_id: uuid.UUID) -> Sequence[Episode]:
        stmt = (
            select(Episode)
            .join(Child, col(Child.id) == col(Episode.child_id))
            .where(Episode.child_id == child_id, visible_to(who, self.full_access_types))
            .order_by(col(Episode.referral_date), col(Episode.created_at))
        )
        return (await self.session.exec(stmt)).all()

    async def load(self, child: Child, *, for_update: bool = False) -> LoadedJourney:
        """The child's whole statutory journey (a handful of rows), locked on PostgreSQL when changing it."""
        stmt = select(Episode).where(Episode.child_id == child.id, Episode.kind == "cin")
        if for_update and self.session.bind.dialect.name == "postgresql":  # type: ignore[union-attr]
            # Serialise changes to one child's journey: the census rules span its episodes.
            await self.session.exec(select(Child.id).where(Child.id == child.id).with_for_update())
        episodes = list((await self.session.exec(stmt.order_by(col(Episode.referral_date), col(Episode.created_at)))).all())
        ids = [e.id for e in episodes]
        loaded = LoadedJourney(
            child=child,
            journey=j.Journey(birth_date=child.birth_date, expected_birth_date=child.expected_birth_date,
                              death_date=child.death_date,
                              plans_elsewhere=j.PlansElsewhere(child.cp_plans_elsewhere,
                                                               child.cp_plans_elsewhere_latest_end_date)),
        )
        if not ids:
            return loaded
        assessments = (await self.session.exec(
            select(StatutoryAssessment).where(col(StatutoryAssessment.episode_id).in_(ids)).order_by(col(StatutoryAssessment.start_date), col(StatutoryAssessment.created_at)))).all()
        s47s = (await self.session.exec(
            select(Section47).where(col(Section47.episode_id).in_(ids)).order_by(col(Section47.start_date), col(Section47.created_at)))).all()
        cps = (await self.session.exec(
            select(CpPlan).where(col(CpPlan.episode_id).in_(ids)).order_by(col(CpPlan.start_date)))).all()
        cins = (await self.session.exec(
            select(CinPlan).where(col(CinPlan.episode_id).in_(ids)).order_by(col(CinPlan.start_date), col(CinPlan.created_at)))).all()
        loaded.conferences = list((await self.session.exec(
            select(Conference).where(col(Conference.episode_id).in_(ids)).order_by(col(Conference.held_date), col(Conference.created_at)))).all())
        loaded.strategy_discussions = list((await self.session.exec(
            select(StrategyDiscussion).where(col(StrategyDiscussion.episode_id).in_(ids)).order_by(col(StrategyDiscussion.held_date)))).all())
        pps = (await self.session.exec(
            select(PreProceedings).where(col(PreProceedings.episode_id).in_(ids)).order_by(col(PreProceedings.start_date), col(PreProceedings.created_at)))).all()
        cp_ids = [p.id for p in cps]
        if cp_ids:
            loaded.core_groups = list((await self.session.exec(
                select(CoreGroup).where(col(CoreGroup.cp_plan_id).in_(cp_ids)).order_by(col(CoreGroup.held_date)))).all())
        by_episode: dict[uuid.UUID, j.Episode] = {}
        for row in episodes:
            ep = j.Episode(referral_date=row.referral_date, referral_source=row.referral_source, id=row.id, nfa=row.nfa,
                           primary_need=row.primary_need, closure_date=row.closure_date,
                           reason_for_closure=row.reason_for_closure, icpc_date=row.icpc_date)
            by_episode[row.id] = ep
            loaded.episodes[row.id] = row
            loaded.journey.episodes.append(ep)
        for a in assessments:
            by_episode[a.episode_id].assessments.append(
                j.Assessment(start_date=a.start_date, id=a.id, authorised_date=a.authorised_date, factors=tuple(a.factors)))
            loaded.assessments[a.id] = a
        for s in s47s:
            by_episode[s.episode_id].s47s.append(
                j.Section47(start_date=s.start_date, id=s.id, icpc_date=s.icpc_date, icpc_not_required=s.icpc_not_required))
            loaded.s47s[s.id] = s
        reviews: dict[uuid.UUID, list[Conference]] = {}
        for c in loaded.conferences:
            if c.kind == "review" and c.cp_plan_id is not None:
                reviews.setdefault(c.cp_plan_id, []).append(c)
        for p in cps:
            by_episode[p.episode_id].cp_plans.append(j.CpPlan(
                start_date=p.start_date, initial_category=p.initial_category, latest_category=p.latest_category,
                previous_plans=p.previous_plans, previous_plan_end_date=p.previous_plan_end_date, id=p.id, end_date=p.end_date,
                review_dates=[c.held_date for c in reviews.get(p.id, [])]))
            loaded.cp_plans[p.id] = p
        for cin in cins:
            by_episode[cin.episode_id].cin_plans.append(j.CinPlan(start_date=cin.start_date, id=cin.id, end_date=cin.end_date))
            loaded.cin_plans[cin.id] = cin
        for pp in pps:
            by_episode[pp.episode_id].pre_proceedings.append(j.PreProceedings(
                start_date=pp.start_date, id=pp.id, letter_before_proceedings_sent=pp.letter_before_proceedings_sent,
                fgdm_offered=pp.fgdm_offered, fgdm_held=pp.fgdm_held,
                meeting_dates=[date.fromisoformat(d) for d in pp.meeting_dates], decision_date=pp.decision_date,
                outcome=pp.outcome, court_application_date=pp.court_application_date))
            loaded.pre_proceedings[pp.id] = pp
        return loaded

    async def save(self, loaded: LoadedJourney, changed_episode: uuid.UUID | None) -> None:
        """Write the state machine back to rows; the changed episode's version moves on."""
        now = utcnow()
        child = loaded.child
        elsewhere = loaded.journey.plans_elsewhere
        if (child.death_date != loaded.journey.death_date
                or (child.cp_plans_elsewhere, child.cp_plans_elsewhere_latest_end_date) != (elsewhere.count, elsewhere.latest_end_date)):
            child.death_date = loaded.journey.death_date
            child.cp_plans_elsewhere, child.cp_plans_elsewhere_latest_end_date = elsewhere.count, elsewhere.latest_end_date
            child.version += 1
            child.updated_at = now
            self.session.add(child)
        for ep in loaded.journey.episodes:
            row = loaded.episodes.get(ep.id)
            if row is None:
                row = Episode(id=ep.id, child_id=child.id, referral_date=ep.referral_date,
                              referral_source=ep.referral_source)
                loaded.episodes[ep.id] = row
            row.nfa, row.primary_need = ep.nfa, ep.primary_need
            row.closure_date, row.reason_for_closure = ep.closure_date, ep.reason_for_closure
            row.icpc_date = ep.icpc_date
            if ep.id == changed_episode:
                row.version += 1
                row.updated_at = now
            self.session.add(row)
        await self.session.flush()
        for ep in loaded.journey.episodes:
            for a in ep.assessments:
                arow = loaded.assessments.get(a.id) or StatutoryAssessment(id=a.id, episode_id=ep.id, start_date=a.start_date)
                arow.authorised_date, arow.factors = a.authorised_date, list(a.factors)
                loaded.assessments[a.id] = arow
                self.session.add(arow)
            for s in ep.s47s:
                srow = loaded.s47s.get(s.id)
                if srow is None:
                    raise RuntimeError("s47 rows are created with their target date by the domain")
                srow.icpc_date, srow.icpc_not_required = s.icpc_date, s.icpc_not_required
                self.session.add(srow)
            for p in ep.cp_plans:
                prow = loaded.cp_plans.get(p.id) or CpPlan(
                    id=p.id, episode_id=ep.id, start_date=p.start_date, initial_category=p.initial_category,
                    latest_category=p.latest_category, previous_plans=p.previous_plans,
                    previous_plan_end_date=p.previous_plan_end_date)
                prow.end_date, prow.latest_category = p.end_date, p.latest_category
                loaded.cp_plans[p.id] = prow
                self.session.add(prow)
            for c in ep.cin_plans:
                crow = loaded.cin_plans.get(c.id) or CinPlan(id=c.id, episode_id=ep.id, start_date=c.start_date)
                crow.end_date = c.end_date
                loaded.cin_plans[c.id] = crow
                self.session.add(crow)
            for pp in ep.pre_proceedings:
                self._save_pre_proceedings(loaded, ep.id, pp)
        await self.session.flush()

    def _save_pre_proceedings(self, loaded: LoadedJourney, episode_id: uuid.UUID, pp: j.PreProceedings) -> None:
        row = loaded.pre_proceedings.get(pp.id)
        if row is None:
            row = PreProceedings(id=pp.id, episode_id=episode_id, start_date=pp.start_date)
            loaded.pre_proceedings[pp.id] = row
        values = {
            "letter_before_proceedings_sent": pp.letter_before_proceedings_sent, "fgdm_offered": pp.fgdm_offered,
            "fgdm_held": pp.fgdm_held, "meeting_dates": [d.isoformat() for d in pp.meeting_dates],
            "decision_date": pp.decision_date, "outcome": pp.outcome, "court_application_date": pp.court_application_date,
        }
        changed = {k: v for k, v in values.items() if getattr(row, k) != v}
        if changed:
            for k, v in changed.items():
                setattr(row, k, v)
            if row in self.session:  # an existing record moves on; a new one starts at version 1
                row.version += 1
        self.session.add(row)

    async def open_work(self, child_id: uuid.UUID) -> tuple[int, bool]:
        """What partners still have open for the child: service offers not ended, and whether a
        non-engagement case is open (INV-17: reported on closure, never closed for them)."""
        offers = (await self.session.exec(select(func.count()).select_from(ServiceOffer).where(
            ServiceOffer.child_id == child_id, ServiceOffer.status != "ended"))).one()
        case = (await self.session.exec(select(NonEngagementCase.id).where(
            NonEngagementCase.child_id == child_id, NonEngagementCase.stage != "closed").limit(1))).first()
        return int(offers), case is not None

    def add(self, *rows: object) -> None:
        self.session.add_all(rows)

    async def open_early_help(self, child_id: uuid.UUID) -> Episode | None:
        stmt = select(Episode).where(Episode.child_id == child_id, Episode.kind == "early_help",
                                     col(Episode.closure_date).is_(None))
        return (await self.session.exec(stmt)).first()

    async def early_help_episode(self, who: Principal, episode_id: uuid.UUID, *, for_update: bool = False) -> Episode | None:
        stmt = (
            select(Episode)
            .join(Child, col(Child.id) == col(Episode.child_id))
            .where(Episode.id == episode_id, Episode.kind == "early_help", visible_to(who, self.full_access_types))
        )
        if for_update and self.session.bind.dialect.name == "postgresql":  # type: ignore[union-attr]
            stmt = stmt.with_for_update(of=Episode)
        return (await self.session.exec(stmt)).first()

    async def early_help_of(self, child_id: uuid.UUID) -> Sequence[Episode]:
        stmt = select(Episode).where(Episode.child_id == child_id, Episode.kind == "early_help").order_by(
            col(Episode.referral_date), col(Episode.created_at))
        return (await self.session.exec(stmt)).all()
