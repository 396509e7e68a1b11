"""Every analytics projection the service runs: adding one is a module and a line here.

Several versions of one projection may be listed: the newest is built beside the live one and
takes its place once caught up; the older stays listed until every instance runs the newer.
"""

from __future__ import annotations

from analytics.projection import AnalyticsProjection
from analytics.projections.agents import AgentsProjection
from analytics.projections.calls import CallsProjection
from analytics.projections.dispositions import DispositionsProjection
from analytics.projections.surveys import SurveysProjection

PROJECTIONS: tuple[AnalyticsProjection, ...] = (
    AgentsProjection(),
    CallsProjection(),
    DispositionsProjection(),
    SurveysProjection(),
)
