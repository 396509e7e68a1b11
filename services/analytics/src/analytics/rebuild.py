"""Rebuilding a projection from offset zero beside the live build, then swapping it in.

The newest registered version of the projection is built as a new generation in its own tables
(or an unfinished build of that version is resumed: its rows and positions were stored together,
so a killed rebuild goes on where it stopped and ends with the same tables). Once it is no
further behind the log than the live build, it is made live in one transaction; the service's
instances notice and go on updating it from its positions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from callcenter_events.store import in_db_thread
from callcenter_service.wiring import event_producer
from sqlalchemy import Engine

from analytics import catalog
from analytics.builds import Build, BuildProjection
from analytics.projection import AnalyticsProjection
from analytics.running import BuildRun, LogEnds, ready_to_swap
from analytics.settings import AnalyticsSettings
from analytics.supervisor import Projections

CHECK_EVERY_S = 0.5


@dataclass(frozen=True, slots=True)
class Progress:
    position: int
    total: int
    lag: int


OnProgress = Callable[[Build, Progress], None]


async def rebuild(
    engine: Engine,
    settings: AnalyticsSettings,
    registered: Sequence[AnalyticsProjection],
    name: str,
    *,
    restart: bool = False,
    on_progress: OnProgress = lambda _build, _progress: None,
) -> Build:
    """Build `name` anew and make it live; answers the build that became live."""
    projection = Projections(registered).newest(name)
    await in_db_thread(engine, catalog.create_catalog, engine)
    build = await in_db_thread(engine, _build_to_run, engine, projection, restart)
    producer = event_producer(settings, "analytics-rebuild")
    ends = LogEnds(settings.kafka_bootstrap_servers)
    run = BuildRun(engine, projection, build, settings, producer)
    await producer.start()
    await ends.start()
    try:
        await run.start()
        await _until_caught_up(engine, run, registered, settings.topic_prefix, ends, on_progress)
        await in_db_thread(engine, catalog.make_live, engine, run.projection)
    finally:
        await run.stop()
        await ends.stop()
        await producer.stop()
    return build


def _build_to_run(engine: Engine, projection: AnalyticsProjection, restart: bool) -> Build:
    unfinished = [
        record
        for record in catalog.records(engine, projection.name)
        if record.build.version == projection.version
        and record.state is catalog.BuildState.BUILDING
    ]
    if restart:
        for record in unfinished:
            catalog.drop_build(engine, record)
    elif unfinished:
        return unfinished[0].build
    generation = catalog.next_generation(engine, projection.name, projection.version)
    build = Build(projection.name, projection.version, generation)
    catalog.register(engine, BuildProjection(projection, build))
    return build


async def _until_caught_up(
    engine: Engine,
    run: BuildRun,
    registered: Sequence[AnalyticsProjection],
    topic_prefix: str,
    ends: LogEnds,
    on_progress: OnProgress,
) -> None:
    topics = [topic.name(topic_prefix) for topic in run.projection.topics]
    live = await _live_projection(engine, registered, run.build.name)
    while True:
        position, lag, ready = await ready_to_swap(engine, run.projection, live, topics, ends)
        on_progress(run.build, Progress(position, position + lag, lag))
        if ready:
            return
        await asyncio.sleep(CHECK_EVERY_S)


async def _live_projection(
    engine: Engine, registered: Sequence[AnalyticsProjection], name: str
) -> BuildProjection | None:
    live = await in_db_thread(engine, catalog.live_build, engine, name)
    projection = None if live is None else Projections(registered).get(live)
    return None if live is None or projection is None else BuildProjection(projection, live)
