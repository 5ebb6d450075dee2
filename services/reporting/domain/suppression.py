"""Suppression of small numbers for publication (reference/quarterly_dataset.yaml). Plain Python.

- S1: counts from 1 to 5 are shown as ``c``; S2: 0 stays 0.
- S4: a rate or percentage built on a suppressed count is ``c`` too.
- S5: secondary suppression. When exactly one cell of a breakdown is hidden and
  the total is shown, the next smallest non-zero cell is hidden as well, so the
  hidden value cannot be worked out as total minus the others. (A breakdown
  whose only non-zero cell is hidden has that cell's value as its total, which
  is then itself 1-5 and hidden by S1.)

S3 (rounding national and regional totals) does not apply to one partnership.
"""

from __future__ import annotations

from collections.abc import Sequence

SUPPRESSED = "c"
LOW, HIGH = 1, 5


def primary(count: int) -> bool:
    """S1: would this count be hidden on its own?"""
    return LOW <= count <= HIGH


def secondary(counts: Sequence[int], total_hidden: bool) -> set[int]:
    """Indexes of the cells of one breakdown to hide (S1 then S5), given whether its total is hidden."""
    hidden = {i for i, n in enumerate(counts) if primary(n)}
    if len(hidden) == 1 and not total_hidden:
        candidates = sorted((n, i) for i, n in enumerate(counts) if i not in hidden and n > 0)
        if candidates:
            hidden.add(candidates[0][1])
    return hidden
