"""ETags from row versions; If-Match required on changes (428 without, 412 when it does not match).

If-Match follows RFC 9110 §13.1.1: ``*`` matches any current version, a list of entity tags
matches when any one of them does, and comparison is strong, so a weak tag (``W/"3"``) or
any tag that is not exactly one we sent (``"03"``, ``"abc"``) never matches: 412, like a stale
one. Only a header that is not ``*`` or a list of entity tags at all is 400.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request, Response

from shared.errors import InvalidIfMatch, PreconditionFailed, PreconditionRequired

# entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; etagc = %x21 / %x23-7E / obs-text (RFC 9110 §8.8.3)
_ENTITY_TAG = re.compile(r'(W/)?"([\x21\x23-\x7e\x80-\xff]*)"')
_OWS = re.compile(r"[ \t]*")
MAX_TAGS = 50


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


@dataclass(frozen=True)
class Precondition:
    """A parsed If-Match: ``*`` (any version) or the strong tags it lists."""

    any_version: bool = False
    tags: frozenset[str] = frozenset()

    def matches(self, version: int) -> bool:
        return self.any_version or etag(version)[1:-1] in self.tags


def parse_if_match(value: str) -> Precondition:
    """Parse an If-Match field value (several header lines already joined with commas)."""
    if value.strip() == "*":
        return Precondition(any_version=True)
    strong: set[str] = set()
    elements, pos, end = 0, 0, len(value)
    while True:
        pos = _OWS.match(value, pos).end()  # type: ignore[union-attr]
        if pos == end:
            break
        if value[pos] == ",":  # RFC 9110 §5.6.1: empty list elements are ignored
            pos += 1
            continue
        # A tag may itself contain commas, so scan tag by tag rather than split on them.
        match = _ENTITY_TAG.match(value, pos)
        if match is None:
            raise InvalidIfMatch('If-Match must be "*" or entity tags such as "3", separated by commas.')
        elements += 1
        if match.group(1) is None:  # strong comparison: a weak tag never matches
            strong.add(match.group(2))
        pos = _OWS.match(value, match.end()).end()  # type: ignore[union-attr]
        if pos < end and value[pos] != ",":
            raise InvalidIfMatch('If-Match must be "*" or entity tags such as "3", separated by commas.')
    if elements == 0 or elements > MAX_TAGS:
        raise InvalidIfMatch(f'If-Match must be "*" or 1-{MAX_TAGS} entity tags such as "3".')
    return Precondition(tags=frozenset(strong))


def require_if_match(
    request: Request,
    if_match: Annotated[str | None, Header(description='The ETag you last read, e.g. "3" (or several, comma-separated, '
                                                        'or "*" for whatever version is current).')] = None,
) -> Precondition:
    if if_match is None:
        raise PreconditionRequired("Send If-Match with the ETag you last read.")
    # Several If-Match lines are one comma-separated list (RFC 9110 §5.3).
    return parse_if_match(", ".join(request.headers.getlist("if-match")))



IfMatch = Annotated[Precondition, Depends(require_if_match)]


def check_version(current: int, expected: Precondition) -> None:
    if not expected.matches(current):
        raise PreconditionFailed(f"The record is at version {current}; read it again before changing it.")
