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


# DfE UPN check letters: remainders 0-22 map to these letters (I, O and S are never used).
_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
_UPN = re.compile(r"^[A-Z][0-9]{11}[0-9A-Z]$")


def upn_is_valid(value: str) -> bool:
    """A unique pupil number: check letter, 11 digits, then a digit (permanent) or a letter (temporary).

    The check letter is the remainder of sum(character value x position) for positions
    2-13, divided by 23, as a letter of ``_UPN_LETTERS``; a letter in position 13 counts
    as its index in the same list (DfE UPN guidance; verify against the year's spec).
    """
    if not _UPN.match(value):
        return False
    total = 0
    for position, char in enumerate(value[1:], start=2):
        if char.isdigit():
            total += int(char) * position
        elif char in _UPN_LETTERS:
            total += _UPN_LETTERS.index(char) * position
        else:
            return False
    return _UPN_LETTERS[total % 23] == value[0]
