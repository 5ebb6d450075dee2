"""Event types this service consumes, and the counters each one moves.

Reporting emits nothing. Every event received, known or not, is kept in the
event log (the read model can be rebuilt from it) and counted once under
``events_received``. The names are the emitters' own; they are repeated here
rather than imported so that no service depends on another's code.
"""

from __future__ import annotations

EVENTS_RECEIVED = "events_received"
CHILDREN_REGISTERED = "children_registered"
AGENCIES_REGISTERED = "agencies_registered"

#: event type -> the counters it increments besides ``events_received``.
COUNTERS: dict[str, tuple[str, ...]] = {
    "child.registered": (CHILDREN_REGISTERED,),
    "agency.registered": (AGENCIES_REGISTERED,),
}

CONSUMED = sorted(COUNTERS)
EMITTED: list[str] = []
