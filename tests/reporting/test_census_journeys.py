"""Generated journeys, transfer-ins included, exported and checked with the DfE's published rules.

The referral service's own census check (``census_errors``, in tests/referral/test_journey_rules.py)
is ours; here the census return the reporting service writes from the events of random
journeys must pass the DfE rules package (csc-validator-be-cin) for every year it covers:
the API refuses what the census would reject, so whatever it accepts exports cleanly.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.referral.domain import journey as j
from tests.reporting.census_rules import validate
from tests.reporting.journey_census import ReadModelRows, RecordedChild, census_xml, census_years

D0 = date(2024, 4, 1)  # a Monday, the first day of the 2024-25 collection year
TODAY = date(2026, 3, 31)  # the last day of 2025-26: both returns are complete
YEARS = {"2024-25": date(2024, 4, 1), "2025-26": date(2025, 4, 1)}
GAPS = st.one_of(st.just(0), st.integers(0, 6), st.integers(0, 150))

ACTIONS: dict[str, Callable[[RecordedChild, j.Episode | None, date, Any], Any]] = {
    "refer": lambda c, e, d, x: c.refer(d, min(d + timedelta(days=x % 3), TODAY), nfa=x % 5 == 0),
    "assessment": lambda c, e, d, x: c.start_assessment(e, d),  # type: ignore[arg-type]
    "authorise": lambda c, e, d, x: c.authorise(e, d, [["16A"], ["21"], ["16A", "4B"]][x % 3]),  # type: ignore[arg-type]
    "s47": lambda c, e, d, x: c.strategy_discussion(e, d),  # type: ignore[arg-type]
    "conclude_s47": lambda c, e, d, x: c.conclude_s47(e, d),  # type: ignore[arg-type]
    "icpc": lambda c, e, d, x: c.initial_conference(e, d, plan=x % 4 != 0),  # type: ignore[arg-type]
    "transfer_in": lambda c, e, d, x: c.transfer_in(e, d),  # type: ignore[arg-type]
    "review": lambda c, e, d, x: c.review(e, d, end=[None, "cin_plan", "none"][x % 3]),  # type: ignore[arg-type]
    "cin_plan": lambda c, e, d, x: c.end_cin_plan(e, d) if x % 2 and e and e.cin_plans else c.start_cin_plan(e, d),  # type: ignore[arg-type]
    "close": lambda c, e, d, x: c.close(e, d, ["RC1", "RC7", "RC8", "RC9"][x % 4]),  # type: ignore[arg-type]
    "birth": lambda c, e, d, x: c.birth(d),
    "death": lambda c, e, d, x: c.death(d),
}
NEEDS_EPISODE = set(ACTIONS) - {"refer", "birth", "death"}
CONFERENCES = {"icpc", "transfer_in", "review"}
#: Transfer-ins and conferences weighted up: they are what the census rules about conferences are about.
STEP = st.tuples(st.sampled_from([*ACTIONS, "transfer_in", "transfer_in", "icpc", "review", "s47", "close"]),
                 GAPS, st.integers(0, 59))
CHILD = st.tuples(st.booleans(), st.lists(STEP, min_size=1, max_size=30))


def live(serial: int, unborn: bool, steps: list[tuple[str, int, int]]) -> RecordedChild:
    journey = j.Journey(birth_date=None, expected_birth_date=D0 + timedelta(days=120)) if unborn else \
        j.Journey(birth_date=date(2017, 9, 1), expected_birth_date=None)
    child = RecordedChild(serial, journey, TODAY)
    day = D0
    for action, gap, extra in steps:
        day = min(day + timedelta(days=gap), TODAY)
        if action in CONFERENCES and day.weekday() >= 5:  # conferences mostly on a working day
            day = min(day + timedelta(days=7 - day.weekday()), TODAY)
        e = child.journey.open_episode()
        if action in NEEDS_EPISODE and e is None:
            continue
        child.attempt(ACTIONS[action], child, e, day, extra)
    assert j.census_errors(child.journey) == []
    return child


@settings(max_examples=5, deadline=None, derandomize=False,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(st.lists(CHILD, min_size=8, max_size=14))
def test_generated_journeys_export_with_no_dfe_errors(children: list[tuple[bool, list[tuple[str, int, int]]]]) -> None:
    rows = ReadModelRows()
    for serial, (unborn, steps) in enumerate(children):
        rows.receive(live(serial, unborn, steps).events)
    years = census_years()
    for name, start in YEARS.items():
        xml = census_xml(rows, years[name], start)
        outcome = validate(xml, years[name].validator_ruleset)
        assert outcome.errors == {}, (name, outcome.errors, xml.decode())


def test_a_transfer_in_exports_its_conference_at_episode_level() -> None:
    """The bug of issue 10: the transfer-in's DateOfInitialCPC was missing, and 2883 and 2885 failed."""
    child = RecordedChild(1, j.Journey(birth_date=date(2017, 9, 1), expected_birth_date=None), TODAY)
    child.refer(date(2025, 6, 2), date(2025, 6, 2), nfa=False)
    e = child.journey.episodes[0]
    child.transfer_in(e, date(2025, 6, 9))
    child.review(e, date(2025, 9, 8), end="cin_plan")
    rows = ReadModelRows()
    rows.receive(child.events)
    year = census_years()["2025-26"]
    xml = census_xml(rows, year, YEARS["2025-26"])
    assert b"<ReasonForClosure>" not in xml
    assert b"</PrimaryNeedCode><DateOfInitialCPC>2025-06-09</DateOfInitialCPC><ReferralNFA>" in xml
    assert validate(xml, year.validator_ruleset).errors == {}
