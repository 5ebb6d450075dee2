"""Event types this service consumes, and the counters each one moves.

Reporting emits nothing. Every event received, known or not, is kept in the
event log (the read model is rebuilt from it) and counted once under
``events_received``; the types in ``domain.projection.PROJECTED`` also move the
read model. The names are the emitters' own (docs/events.md); they are repeated
here rather than imported so that no service depends on another's code.
"""

from __future__ import annotations

from services.reporting.domain.projection import PROJECTED

EVENTS_RECEIVED = "events_received"
CHILDREN_REGISTERED = "children_registered"
AGENCIES_REGISTERED = "agencies_registered"
EVENTS_UNREADABLE = "events_unreadable"

#: event type -> the counters it increments besides ``events_received``.
COUNTERS: dict[str, tuple[str, ...]] = {
    "child.registered": (CHILDREN_REGISTERED,),
    "agency.registered": (AGENCIES_REGISTERED,),
}

CONSUMED = sorted({t for types in PROJECTED.values() for t in types})
EMITTED: list[str] = []
