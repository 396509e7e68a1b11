"""The analytics projections. Adding one: a module with a `Projection` and a line here."""

from callcenter_events.store import Projection

from analytics.projections.calls import CallsProjection

PROJECTIONS: tuple[Projection, ...] = (CallsProjection(),)

__all__ = ["PROJECTIONS", "CallsProjection"]
