"""Event types this service emits and consumes (thin: ids, dates, numbers; never free text).

``assessment.submitted`` and ``assessment.authorised`` carry the assessment,
child and agency ids, the toolkit id and version, the lineage and revision
(``amends_id`` for an amendment), the previous assessment, the window dates,
the practitioner's area grades as numbers, and when it happened
(``submitted_at`` / ``authorised_at``; ``supersedes_id`` when an authorised
amendment replaces an earlier revision). Receivers fetch details with their
own token, so the read is authorised and audited.
"""

EMITTED: list[str] = ["assessment.submitted", "assessment.authorised"]
CONSUMED: list[str] = []
