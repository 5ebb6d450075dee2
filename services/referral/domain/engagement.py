"""Service offers, engagement and the non-engaging pathway (DOMAIN.md §7), as plain Python.

Families disengage openly (declining, withdrawing consent) or covertly (missed
appointments, no answer at the door). Each such event is recorded; when enough
of them fall close together a non-engagement case opens and moves, one explicit
step at a time, through the pathway:

    monitoring -> escalation_review -> multi_agency_meeting -> action_plan
               -> escalated (step_up | consult_csc | strategy_discussion) -> closed

A review or meeting may escalate at once, and a case may close from any open
stage; it never moves backwards. A closed case is read-only: new events open a
new case. Every refusal names the rule it breaks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path

import yaml

from shared.errors import IllegalTransition, Unprocessable

REFERENCE = Path(__file__).resolve().parent.parent / "reference"

#: What partners record (DOMAIN.md §7); `attended` is the good news that balances the rest.
ENGAGEMENT_KINDS = (
    "was_not_brought", "no_access_visit", "service_declined", "consent_withdrawn", "service_disengaged", "attended",
)
ESCALATIONS = ("step_up", "consult_csc", "strategy_discussion")
CLOSURE_REASONS = ("engaging", "no_consent", "no_engagement", "moved_away", "handed_to_csc", "no_longer_needed")
#: Closing for these reasons on a chronic neglect case is a manager's decision (Devon 2024 reviews).
MANAGER_DECIDES = frozenset({"no_consent", "no_engagement"})


class PathwayRuleBroken(IllegalTransition):
    """A step the non-engaging pathway does not allow. ``rule`` names the rule."""

    slug, title = "pathway-rule", "The step breaks a rule of the non-engaging pathway"

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail, rule=rule)
        self.rule = rule


class ManagerDecisionRequired(Unprocessable):
    slug, title = "manager-decision-required", "Closing this case needs a manager's decision"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, rule="NE-05", errors=[{
            "field": "body.closure_decided_by", "message": "required for this closure", "code": "missing"}])
        self.rule = "NE-05"


# --- the pathway ---------------------------------------------------------------------


class Stage(StrEnum):
    monitoring = "monitoring"
    escalation_review = "escalation_review"
    multi_agency_meeting = "multi_agency_meeting"
    action_plan = "action_plan"
    escalated = "escalated"
    closed = "closed"


STAGE_ORDER: tuple[Stage, ...] = tuple(Stage)

NEXT: Mapping[Stage, frozenset[Stage]] = {
    Stage.monitoring: frozenset({Stage.escalation_review, Stage.closed}),
    Stage.escalation_review: frozenset({Stage.multi_agency_meeting, Stage.escalated, Stage.closed}),
    Stage.multi_agency_meeting: frozenset({Stage.action_plan, Stage.escalated, Stage.closed}),
    Stage.action_plan: frozenset({Stage.escalated, Stage.closed}),
    Stage.escalated: frozenset({Stage.closed}),
    Stage.closed: frozenset(),
}

RULES = {
    "NE-01": "The pathway moves forward only: monitoring, escalation review, multi-agency meeting, action plan, escalation, closure.",
    "NE-02": "A closed case is read-only; new non-engagement opens a new case.",
    "NE-03": "A step is dated on or after the day the case opened.",
    "NE-04": "An escalation names its route: step_up, consult_csc or strategy_discussion.",
    "NE-05": "Closing a chronic neglect case for lack of consent or engagement needs a manager's decision.",
}


@dataclass
class PathwayCase:
    opened_on: date
    stage: Stage = Stage.monitoring
    escalation: str | None = None
    closed_on: date | None = None
    closure_decided_by: str | None = None

    @property
    def is_open(self) -> bool:
        return self.stage is not Stage.closed

    def _check(self, target: Stage, on: date) -> None:
        if self.stage is Stage.closed:
            raise PathwayRuleBroken("NE-02", "This non-engagement case is closed; it cannot move on.")
        if target not in NEXT[self.stage]:
            raise PathwayRuleBroken(
                "NE-01", f"A case at stage {self.stage.value} cannot move to {target.value}."
            )
        if on < self.opened_on:
            raise PathwayRuleBroken("NE-03", "The step is dated before the case opened.")

    def move_to(self, target: Stage, on: date, escalation: str | None = None) -> None:
        """Move to the next stage (not closure: see :meth:`close`)."""
        if target is Stage.closed:
            raise ValueError("use close() to close a case")
        self._check(target, on)
        if target is Stage.escalated:
            if escalation not in ESCALATIONS:
                raise PathwayRuleBroken("NE-04", "Say how the case is escalated: step_up, consult_csc or strategy_discussion.")
            self.escalation = escalation
        elif escalation is not None:
            raise PathwayRuleBroken("NE-04", "Only an escalation names an escalation route.")
        self.stage = target

    def close(self, on: date, reason: str, *, chronic_neglect: bool, decided_by: str | None) -> None:
        if reason not in CLOSURE_REASONS:
            raise ValueError(f"unknown closure reason {reason!r}")
        self._check(Stage.closed, on)
        if closure_needs_manager(reason, chronic_neglect) and not (decided_by and decided_by.strip()):
            raise ManagerDecisionRequired(
                "This child's neglect is chronic: closing for lack of consent or engagement needs "
                "the deciding manager in closure_decided_by."
            )
        self.stage, self.closed_on, self.closure_decided_by = Stage.closed, on, decided_by


def closure_needs_manager(reason: str, chronic_neglect: bool) -> bool:
    return chronic_neglect and reason in MANAGER_DECIDES


# --- when a case opens -----------------------------------------------------------------


@dataclass(frozen=True)
class Threshold:
    count: int
    window_days: int
    kinds: frozenset[str]
    version: str = "test"

    def __post_init__(self) -> None:
        if self.count < 1 or self.window_days < 1:
            raise ValueError("count and window_days are positive")
        unknown = self.kinds - set(ENGAGEMENT_KINDS)
        if unknown:
            raise ValueError(f"unknown engagement kinds {sorted(unknown)}")


@cache
def configured_threshold() -> Threshold:
    """The partnership's threshold, from versioned reference data."""
    with (REFERENCE / "non_engagement.yaml").open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    t = data["threshold"]
    return Threshold(count=int(t["count"]), window_days=int(t["window_days"]),
                     kinds=frozenset(t["kinds"]), version=str(data["version"]))


def threshold_reached(dates: Iterable[date], count: int, window_days: int) -> bool:
    """Whether ``count`` dates fall within one window of ``window_days`` consecutive days."""
    ordered = sorted(dates)
    span = timedelta(days=window_days)
    return any(ordered[i + count - 1] - ordered[i] < span for i in range(len(ordered) - count + 1))


def threshold_reached_on(dates: Iterable[date], count: int, window_days: int) -> date | None:
    """The first day on which ``count`` dates fell within one window of ``window_days`` days."""
    ordered = sorted(dates)
    span = timedelta(days=window_days)
    return min((ordered[i + count - 1] for i in range(len(ordered) - count + 1)
                if ordered[i + count - 1] - ordered[i] < span), default=None)


def opening_date(events: Iterable[tuple[str, date]], threshold: Threshold, last_closed_on: date | None) -> date | None:
    """The day a new case opens: when the counted events since the last closure first reached the
    threshold, by their own dates (events recorded late, e.g. migrated, keep their days)."""
    dates = [when for kind, when in events
             if kind in threshold.kinds and (last_closed_on is None or when > last_closed_on)]
    return threshold_reached_on(dates, threshold.count, threshold.window_days)


def should_open_case(
    events: Iterable[tuple[str, date]],
    threshold: Threshold,
    *,
    case_open: bool,
    last_closed_on: date | None,
) -> bool:
    """A new case opens when none is open and the counted events since the last closure reach the threshold."""
    if case_open:
        return False
    dates = [
        when for kind, when in events
        if kind in threshold.kinds and (last_closed_on is None or when > last_closed_on)
    ]
    return threshold_reached(dates, threshold.count, threshold.window_days)


# --- service offers ------------------------------------------------------------------------


class OfferStatus(StrEnum):
    offered = "offered"
    accepted = "accepted"
    declined = "declined"
    attending = "attending"
    ended = "ended"


# Initial resistance is not treated as fixed (DOMAIN.md §7): a declined offer can still be accepted.
OFFER_NEXT: Mapping[OfferStatus, frozenset[OfferStatus]] = {
    OfferStatus.offered: frozenset({OfferStatus.accepted, OfferStatus.declined, OfferStatus.ended}),
    OfferStatus.accepted: frozenset({OfferStatus.attending, OfferStatus.ended}),
    OfferStatus.declined: frozenset({OfferStatus.accepted, OfferStatus.ended}),
    OfferStatus.attending: frozenset({OfferStatus.ended}),
    OfferStatus.ended: frozenset(),
}
OFFER_END_OUTCOMES = ("completed", "disengaged", "no_longer_needed", "withdrawn")


def move_offer(current: str, target: OfferStatus, on: date, offered_on: date) -> OfferStatus:
    """The offer's next status, or a refusal naming the rule (SO-01 order, SO-02 dates)."""
    status = OfferStatus(current)
    if target not in OFFER_NEXT[status]:
        if status is OfferStatus.ended:
            raise PathwayRuleBroken("SO-01", "This service offer has ended; make a new offer.")
        raise PathwayRuleBroken(
            "SO-01", f"A {status.value} offer cannot become {target.value} "
            "(offered -> accepted or declined -> attending -> ended).")
    if on < offered_on:
        raise PathwayRuleBroken("SO-02", "The step is dated before the service was offered.")
    return target
