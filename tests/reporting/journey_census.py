"""Generated journeys as the referral service records them, exported as the reporting service would.

:class:`RecordedChild` drives the referral service's journey state machine
(``services/referral/domain/journey.py``) through the steps its API offers (a
referral decision opens the episode, an initial conference makes the plan on its
day, a transfer-in conference starts one, a review may end it and step down) and
keeps the events ``services/referral/domain/episodes.py`` and ``children.py`` emit
for each accepted step. :func:`census_xml` projects those events with the
reporting service's own projection into an in-memory read model, cuts it as
``ExportQueries.census_batch`` does and writes the return with the census writer.
"""

from __future__ import annotations

import copy
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from services.referral.domain import journey as j
from services.reporting.domain.census import FOOTER, CensusWriter, Window, header
from services.reporting.domain.projection import Event, project
from services.reporting.domain.reference import CensusYear

Row = dict[str, Any]


@dataclass
class RecordedChild:
    """One child's journey, and the events of every step the referral service accepted.

    A step runs as one transaction: :meth:`attempt` puts the journey and the events back as
    they were when the step is refused."""

    serial: int
    journey: j.Journey
    today: date
    events: list[Event] = field(default_factory=list)
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    gender: str = "2"
    disabilities: list[str] = field(default_factory=lambda: ["NONE"])

    def __post_init__(self) -> None:
        self.facts("child.registered", date(2024, 1, 1))

    def attempt(self, change: Any, *args: Any, **kwargs: Any) -> bool:
        before, recorded = copy.deepcopy(self.journey), len(self.events)
        try:
            change(*args, **kwargs)
        except j.RuleBroken:
            self.journey = before
            del self.events[recorded:]
            return False
        return True

    # --- events ------------------------------------------------------------------------------------

    def emit(self, event_type: str, on: date, **data: Any) -> None:
        data = {k: (str(v) if isinstance(v, uuid.UUID) else v) for k, v in data.items()}
        occurred = datetime.combine(on, time(12), tzinfo=UTC)
        self.events.append(Event(str(uuid.uuid4()), event_type, "referral", occurred, {"child_id": str(self.id), **data}))

    def facts(self, event_type: str, on: date) -> None:
        """The census facts of ``services.referral.domain.children.census_facts``."""
        born = self.journey.birth_date
        self.emit(event_type, on, unborn=born is None, birth_date=born.isoformat() if born else None,
                  expected_birth_date=None if born else self.journey.expected_birth_date.isoformat()  # type: ignore[union-attr]
                  if self.journey.expected_birth_date else None,
                  death_date=self.journey.death_date.isoformat() if self.journey.death_date else None,
                  gender=self.gender if born else "0", ethnicity="WBRI",
                  disabilities=list(self.disabilities) if born else [], la_child_id=f"GEN{self.serial:06d}",
                  upn=None, upn_unknown="UN1")

    @staticmethod
    def last(items: list[Any], what: str) -> Any:
        if not items:
            raise j.RuleBroken("none-yet", f"no {what} to act on")
        return items[-1]

    def step(self, e: j.Episode, event_type: str, on: date, **data: Any) -> None:
        self.emit(event_type, on, episode_id=e.id, date=on.isoformat(), **data)

    # --- the API's steps -------------------------------------------------------------------------

    def refer(self, received: date, decided: date, *, nfa: bool) -> None:
        """A referral decision: the episode opens (and an NFA one closes at once)."""
        jr = self.journey
        e = jr.receive_referral(received, "3B", self.today)
        jr.decide(e, nfa=nfa, primary_need=None if nfa else "N1", decided_on=decided, today=self.today)
        self.emit("episode.opened", received, episode_id=e.id, referral_date=received.isoformat(), referral_source="3B",
                  referring_agency_type="health_visiting", nfa=nfa, primary_need=e.primary_need)
        if nfa:
            self.step(e, "episode.closed", decided, reason=e.reason_for_closure)

    def start_assessment(self, e: j.Episode, on: date) -> None:
        a = self.journey.start_assessment(e, on, self.today)
        self.step(e, "assessment.started", on, assessment_id=a.id)

    def authorise(self, e: j.Episode, on: date, factors: list[str]) -> None:
        a = self.last(e.assessments, "assessment")
        self.journey.authorise_assessment(e, a, on, factors, self.today)
        self.step(e, "assessment.authorised", on, assessment_id=a.id, factors=factors)

    def strategy_discussion(self, e: j.Episode, on: date) -> None:
        """Held with an s47 enquiry (the discussion's own checks are the service's, before the journey's)."""
        if on < e.referral_date or not e.is_open:
            raise j.RuleBroken("2889", "outside the episode")
        s = self.journey.start_s47(e, on, self.today)
        self.step(e, "strategy_discussion.held", on, s47_started=True, s47_id=s.id, icpc_target_date=on.isoformat())

    def conclude_s47(self, e: j.Episode, on: date) -> None:
        s = self.last(e.s47s, "s47 enquiry")
        self.journey.conclude_s47_without_icpc(e, s, on, self.today)
        self.step(e, "s47.concluded", on, s47_id=s.id, icpc_required=False)

    def initial_conference(self, e: j.Episode, on: date, *, plan: bool) -> None:
        s = self.last(e.s47s, "s47 enquiry")
        self.journey.hold_icpc(e, s, on, self.today)
        made = self.journey.start_cp_plan(e, on, "NEG", self.today) if plan else None
        self.step(e, "icpc.held", on, s47_id=s.id, plan=plan)
        if made is not None:
            self.step(e, "cp_plan.started", on, cp_plan_id=made.id, category="NEG", previous_plans=made.previous_plans)

    def transfer_in(self, e: j.Episode, on: date) -> None:
        plan = self.journey.hold_transfer_in(e, on, "NEG", self.today)
        self.step(e, "transfer_in.held", on, cp_plan_id=plan.id)
        self.step(e, "cp_plan.started", on, cp_plan_id=plan.id, category="NEG", previous_plans=plan.previous_plans)

    def review(self, e: j.Episode, on: date, *, end: str | None) -> None:
        """A review conference; ``end`` ends the plan there (``cin_plan`` steps down to a CIN plan)."""
        jr, plan = self.journey, self.last(e.cp_plans, "plan")
        jr.review_cp_plan(e, plan, on, self.today, "PHY" if end else None)
        cin = None
        if end is not None:
            jr.end_cp_plan(e, plan, on, self.today)
            cin = jr.start_cin_plan(e, on, self.today) if end == "cin_plan" else None
        self.step(e, "cp_plan.reviewed", on, cp_plan_id=plan.id, latest_category=plan.latest_category)
        if end is not None:
            self.step(e, "cp_plan.ended", on, cp_plan_id=plan.id, step_down=end, latest_category=plan.latest_category)
            if cin is not None:
                self.step(e, "cin_plan.started", on, cin_plan_id=cin.id, stepped_down=True)

    def start_cin_plan(self, e: j.Episode, on: date) -> None:
        plan = self.journey.start_cin_plan(e, on, self.today)
        self.step(e, "cin_plan.started", on, cin_plan_id=plan.id, stepped_down=False)

    def end_cin_plan(self, e: j.Episode, on: date) -> None:
        plan = self.last(e.cin_plans, "plan")
        self.journey.end_cin_plan(e, plan, on, self.today)
        self.step(e, "cin_plan.ended", on, cin_plan_id=plan.id, step_down="none")

    def close(self, e: j.Episode, on: date, reason: str) -> None:
        self.journey.close_episode(e, on, reason, self.today)
        self.step(e, "episode.closed", on, reason=reason)

    def birth(self, on: date) -> None:
        """The birth is recorded with the child's disability (NONE), as the referral service requires."""
        self.journey.record_birth(on, self.today)
        self.facts("child.born", on)

    def death(self, on: date) -> None:
        if self.journey.birth_date is None:
            raise j.RuleBroken("unborn", "an unborn child's death is not recorded here")
        self.journey.record_death(on, self.today)
        self.facts("child.died", on)


# --- the reporting side -----------------------------------------------------------------------------


class ReadModelRows:
    """The read model's rows, applied as ``ReadModelQueries`` applies the projection's writes."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[tuple[Any, ...], Row]] = defaultdict(dict)

    def receive(self, events: Iterable[Event]) -> None:
        for event in events:
            writes, unreadable = project(event)
            assert unreadable is None, (event.type, unreadable)
            for w in writes:
                key = tuple(sorted(w.key.items()))
                row = self.tables[w.table].setdefault(key, dict(w.key))
                if w.newer_than is not None:
                    stored, incoming = row.get(w.newer_than), w.values.get(w.newer_than)
                    if stored is not None and incoming is not None and stored > incoming:
                        continue
                row.update(w.values)

    def rows(self, table: str) -> list[Row]:
        return list(self.tables[table].values())

    def census_batch(self, window: Window) -> dict[str, list[Row]]:
        """What ``ExportQueries.census_batch`` reads for every child with an episode open in the year."""
        episodes = sorted((e for e in self.rows("rm_episode") if e.get("child_id") and e.get("referral_date")
                           and e["referral_date"] <= window.reference
                           and (e.get("closure_date") is None or e["closure_date"] >= window.start)),
                          key=lambda e: (str(e["child_id"]), e["referral_date"]))
        ids = {e["episode_id"] for e in episodes}
        children = {e["child_id"] for e in episodes}
        facts = {r["child_id"]: r for r in self.rows("rm_child")}
        people = [{**r, **{k: facts.get(r["child_id"], {}).get(k) for k in ("gender", "ethnicity", "disabilities")}}
                  for r in self.rows("rm_child_identity") if r["child_id"] in children]

        def of(table: str, order: str) -> list[Row]:
            return sorted((r for r in self.rows(table) if r.get("episode_id") in ids), key=lambda r: r[order])

        plans = of("rm_cp_plan", "start_date")
        plan_ids = {p["cp_plan_id"] for p in plans}
        return {"people": people, "episodes": episodes, "assessments": of("rm_assessment", "start_date"),
                "s47s": of("rm_s47", "start_date"), "cin_plans": of("rm_cin_plan", "start_date"), "cp_plans": plans,
                "reviews": sorted((r for r in self.rows("rm_cp_review") if r["cp_plan_id"] in plan_ids),
                                  key=lambda r: r["review_date"])}


def census_xml(rows: ReadModelRows, year: CensusYear, start: date, la_code: str = "919") -> bytes:
    window = Window(start, date.fromisoformat(year.reference_date))
    writer = CensusWriter(year, window)
    body = writer.children(rows.census_batch(window))
    now = datetime.combine(window.reference, time(12), tzinfo=UTC)
    return (header(year, la_code, "journey-tests", "1", 1, now) + body + FOOTER).encode()


def census_years() -> Mapping[str, CensusYear]:
    from services.reporting.domain.reference import load_census_years

    return load_census_years()
