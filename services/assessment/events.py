"""Event types this service emits and consumes (thin: ids and dates only).

None yet: toolkit definitions are reference data, not child-level changes.
Assessments (draft → submitted → authorised) will emit here.
"""

EMITTED: list[str] = []
CONSUMED: list[str] = []
