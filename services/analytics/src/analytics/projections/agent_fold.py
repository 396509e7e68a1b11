"""One batch of agent facts folded in memory: the timeline rows, the latest status and profile.

A batch of a replay holds thousands of facts of a few hundred agents; folding first leaves the
database one bulk insert and one upsert per table instead of a statement per fact. This is the
replay's hot path, so a change is a plain named tuple.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from callcenter_events import Envelope
from callcenter_events.models import AgentStatusChanged, AgentUpdated, CallConnected

Stamp = tuple[datetime, int]
ON_CALL = "on_call"
CONNECTED = "connected"
"""The `change` of a timeline row that an accepted offer wrote (routing's own are presence,
call_ended and wrapped_up)."""


class Change(NamedTuple):
    """A timeline row: from `changed_at` (ties: by routing's `seq`) the agent is in `status`."""

    agent_id: str
    changed_at: datetime
    seq: int
    status: str
    change: str
    call_id: str | None


@dataclass(slots=True)
class AgentFold:
    changes: dict[tuple[str, datetime, int], Change] = field(default_factory=dict)
    latest: dict[str, Change] = field(default_factory=dict)
    profiles: dict[str, AgentUpdated] = field(default_factory=dict)

    @classmethod
    def of(cls, envelopes: Sequence[Envelope]) -> AgentFold:
        fold = cls()
        for envelope in envelopes:
            event = envelope.data
            if isinstance(event, AgentStatusChanged):
                fold.add(_status_change(event))
            elif isinstance(event, CallConnected):
                fold.add(_connected(event))
            elif isinstance(event, AgentUpdated):
                fold.profile(event)
        return fold

    def add(self, change: Change) -> None:
        self.changes[change[:3]] = change
        known = self.latest.get(change.agent_id)
        if known is None or change[1:3] > known[1:3]:
            self.latest[change.agent_id] = change

    def profile(self, event: AgentUpdated) -> None:
        known = self.profiles.get(event.agent_id)
        if known is None or profile_stamp(event) > profile_stamp(known):
            self.profiles[event.agent_id] = event

    def timeline_rows(self) -> list[dict[str, Any]]:
        return [change._asdict() for change in self.changes.values()]

    def status_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "agent_id": c.agent_id,
                "status": c.status,
                "status_at": c.changed_at,
                "status_seq": c.seq,
            }
            for c in self.latest.values()
        ]


def profile_stamp(event: AgentUpdated) -> Stamp:
    return (event.updated_at.astimezone(UTC), event.seq)


def _status_change(event: AgentStatusChanged) -> Change:
    return Change(
        event.agent_id,
        event.changed_at.astimezone(UTC),
        event.seq,
        event.status.value,
        event.change.value,
        event.call_id,
    )


def _connected(event: CallConnected) -> Change:
    """Accepting an offer puts the agent on the call, whatever their presence."""
    at = event.closed_at.astimezone(UTC)
    return Change(event.agent_id, at, event.seq, ON_CALL, CONNECTED, event.call_id)
