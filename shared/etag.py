"""ETags from row versions; If-Match required on changes (428 without, 412 when stale)."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header, Response

from shared.errors import MalformedIfMatch, PreconditionFailed, PreconditionRequired

_ETAG = re.compile(r'^(?:W/)?"(\d{1,18})"$')


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


def require_if_match(
    if_match: Annotated[str | None, Header(description='The ETag you last read, e.g. "3".')] = None,
) -> int:
    if if_match is None:
        raise PreconditionRequired("Send If-Match with the ETag you last read.")
    match = _ETAG.match(if_match.strip())
    if match is None:
        raise MalformedIfMatch('If-Match must be an ETag such as "3".')
    return int(match.group(1))


IfMatch = Annotated[int, Depends(require_if_match)]


def check_version(current: int, expected: int) -> None:
    if current != expected:
        raise PreconditionFailed(f"The record is at version {current}; read it again before changing it.")
