"""Identifier rules: NHS number checksum, LA child id shape."""

from __future__ import annotations

import re

_LA_CHILD_ID = re.compile(r"^[A-Za-z0-9]{1,20}$")


def nhs_number_is_valid(value: str) -> bool:
    """Modulus 11 check digit (NHS Data Dictionary). The 999 range is for testing."""
    if len(value) != 10 or not value.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(value[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(value[9])


def la_child_id_is_valid(value: str) -> bool:
    """CIN census rules 8500/1570: at most 20 alphanumeric characters."""
    return bool(_LA_CHILD_ID.match(value))
