"""A bounded memory of recently seen event ids, so a redelivered duplicate is dropped."""

from __future__ import annotations

from collections import OrderedDict


class RecentIds:
    def __init__(self, capacity: int = 20_000) -> None:
        self._capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def seen(self, event_id: str) -> bool:
        """True if `event_id` was seen before; remembers it otherwise."""
        if event_id in self._ids:
            self._ids.move_to_end(event_id)
            return True
        self._ids[event_id] = None
        if len(self._ids) > self._capacity:
            self._ids.popitem(last=False)
        return False

    def __len__(self) -> int:
        return len(self._ids)
