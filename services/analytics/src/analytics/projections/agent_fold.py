"""One batch of agent facts folded in memory: the timeline rows, the latest status and profile.

A batch of a replay holds thousands of facts of a few hundred agents; folding first leaves the
database one bulk insert and one upsert per table instead of a statement per fact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from callcenter_events import Envelope
from callcenter_events.models import AgentStatus, AgentStatusChanged, AgentUpdated, CallConnected

Stamp = tuple[datetime, int]
CONNECTED = "connected"
"""The `change` of a timeline row that an accepted offer wrote (routing's own are presence,
call_ended and wrapped_up)."""


@dataclass(frozen=True, slots=True)
class Change:
    agent_id: str
    at: datetime
    seq: int
    status: str
    change: str
    call_id: str | None

    @property
    def stamp(self) -> Stamp:
        return (self.at, self.seq)


@dataclass(slots=True)
class AgentFold:
    changes: dict[tuple[str, datetime, int], Change] = field(default_factory=dict)
    latest: dict[str, Change] = field(default_factory=dict)
    profiles: dict[str, AgentUpdated] = field(default_factory=dict)

    @classmethod
    def of(cls, envelopes: Sequence[Envelope]) -> AgentFold:
        fold = cls()
        for envelope in envelopes:
            fold.add(envelope.data)
        return fold

    def add(self, event: object) -> None:
        if isinstance(event, AgentStatusChanged):
            self._change(_status_change(event))
        elif isinstance(event, CallConnected):
            self._change(_connected(event))
        elif isinstance(event, AgentUpdated):
            known = self.profiles.get(event.agent_id)
            if known is None or profile_stamp(event) > profile_stamp(known):
                self.profiles[event.agent_id] = event

    def _change(self, change: Change) -> None:
        self.changes[(change.agent_id, change.at, change.seq)] = change
        known = self.latest.get(change.agent_id)
        if known is None or change.stamp > known.stamp:
            self.latest[change.agent_id] = change

    def timeline_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "agent_id": c.agent_id,
                "changed_at": c.at,
                "seq": c.seq,
                "status": c.status,
                "change": c.change,
                "call_id": c.call_id,
            }
            for c in self.changes.values()
        ]

    def status_rows(self) -> list[dict[str, Any]]:
        return [
            {"agent_id": c.agent_id, "status": c.status, "status_at": c.at, "status_seq": c.seq}
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
    return Change(
        event.agent_id, at, event.seq, AgentStatus.ON_CALL.value, CONNECTED, event.call_id
    )
