"""The analytics projections. Adding one: a module with a `Projection` and a line here."""

from callcenter_events.store import Projection

from analytics.projections.calls import CallsProjection
from analytics.projections.surveys import SurveysProjection

PROJECTIONS: tuple[Projection, ...] = (CallsProjection(), SurveysProjection())

__all__ = ["PROJECTIONS", "CallsProjection", "SurveysProjection"]
