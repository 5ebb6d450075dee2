"""Figures kept between requests until the read model or the configuration changes.

Dashboards are read on every page load; between two events nothing they show can
change, so each figure is computed once per *generation*: the events-received
counter with the moment it last moved, and the configuration's version. A new
event, a rebuild or a settings change starts a new generation. Per process and
bounded; nothing child-level is kept (the dataset and dashboards hold counts only).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any


class Memo:
    def __init__(self, size: int = 256) -> None:
        self.size = size
        self.entries: OrderedDict[Hashable, Any] = OrderedDict()
        self.hits = self.misses = 0

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[Any]]) -> Any:
        if key in self.entries:
            self.entries.move_to_end(key)
            self.hits += 1
            return self.entries[key]
        self.misses += 1
        value = await compute()
        self.entries[key] = value
        if len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return value
