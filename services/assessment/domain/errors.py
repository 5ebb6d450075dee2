from __future__ import annotations

from shared.errors import Conflict, NotFound


class ToolkitNotFound(NotFound):
    slug, title = "toolkit-not-found", "No such toolkit"


class ToolkitVersionNotFound(NotFound):
    slug, title = "toolkit-version-not-found", "No such published version of this toolkit"


class PublishedVersionImmutable(Conflict):
    slug, title = "published-version-immutable", "A published toolkit version cannot change"
