"""Where every build stands: name, version, generation, state, position and lag."""

from __future__ import annotations

from typing import Any

from callcenter_events.store import in_db_thread
from sqlalchemy import Engine

from analytics import catalog
from analytics.builds import BuildProjection
from analytics.running import LogEnds, progress
from analytics.supervisor import Projections


async def build_status(
    engine: Engine, projections: Projections, ends: LogEnds, topic_prefix: str
) -> list[dict[str, Any]]:
    """Live and building builds; position and lag where this code knows the build's topics."""
    found = await in_db_thread(engine, catalog.records, engine)
    rows = []
    for record in found:
        if record.state is catalog.BuildState.RETIRED:
            continue
        projection = projections.get(record.build)
        position: int | None = None
        lag: int | None = None
        if projection is not None:
            topics = [topic.name(topic_prefix) for topic in projection.topics]
            shown = BuildProjection(projection, record.build)
            position, lag = await progress(engine, shown, topics, ends)
        rows.append(
            {
                "name": record.build.name,
                "version": record.build.version,
                "generation": record.build.generation,
                "state": record.state.value,
                "position": position,
                "lag": lag,
                "started_at": record.started_at.isoformat(),
                "live_at": record.live_at.isoformat() if record.live_at else None,
            }
        )
    return rows
