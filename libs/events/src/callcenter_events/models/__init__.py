"""The event models of the platform. Importing this package registers every event type."""

from callcenter_events.models.calls import CallQueued, CallReceived, Direction

__all__ = ["CallQueued", "CallReceived", "Direction"]
