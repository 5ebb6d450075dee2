"""Event types this service emits (thin: ids and dates only)."""

AGENCY_REGISTERED = "agency.registered"
CHILD_REGISTERED = "child.registered"

EMITTED = [AGENCY_REGISTERED, CHILD_REGISTERED]
