"""The projections of a running analytics service: live builds served, newer versions built beside.

For each projection name, the service runs the live build's consumer. When the code registers
a newer version than the live build, it builds that version from offset zero in its own tables
(a consumer group of its own, shared with any other instance) while the live build keeps
serving, and makes it live once it is no further behind the log than the live build. A swap made
elsewhere (another instance, `python -m analytics projections rebuild`) is noticed within
`poll_s`: the service then runs the new live build, which resumes from its stored positions.
A live build whose version the code no longer has keeps being served as it is, unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

import structlog
from callcenter_events.producer import EventProducer
from callcenter_events.store import in_db_thread
from callcenter_service.problems import ProblemError
from callcenter_service.settings import ServiceSettings
from sqlalchemy import Engine

from analytics import catalog
from analytics.builds import Build, BuildProjection
from analytics.projection import AnalyticsProjection
from analytics.running import BuildRun, LogEnds, ready_to_swap

log = structlog.get_logger(__name__)
POLL_S = 1.0


class Projections:
    """By name: every registered version of each projection."""

    def __init__(self, registered: Sequence[AnalyticsProjection]) -> None:
        self.versions: dict[str, dict[int, AnalyticsProjection]] = {}
        for projection in registered:
            self.versions.setdefault(projection.name, {})[projection.version] = projection

    def newest(self, name: str) -> AnalyticsProjection:
        versions = self.versions[name]
        return versions[max(versions)]

    def get(self, build: Build) -> AnalyticsProjection | None:
        return self.versions.get(build.name, {}).get(build.version)


class ProjectionSupervisor:
    name = "projections"

    def __init__(
        self,
        engine: Engine,
        settings: ServiceSettings,
        producer: EventProducer,
        registered: Sequence[AnalyticsProjection],
        *,
        poll_s: float = POLL_S,
    ) -> None:
        self.engine = engine
        self.projections = Projections(registered)
        self._settings = settings
        self.topic_prefix = settings.topic_prefix
        self._producer = producer
        self._poll_s = poll_s
        self.ends = LogEnds(settings.kafka_bootstrap_servers)
        self.live: dict[str, BuildRun | None] = {}
        self.shadow: dict[str, BuildRun] = {}
        self._served: dict[str, Build] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await in_db_thread(self.engine, catalog.create_catalog, self.engine)
        await self.ends.start()
        for name in self.projections.versions:
            await self.settle(name)
        self._task = asyncio.create_task(self._watch(), name="projections")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        runs = [run for run in self.live.values() if run] + list(self.shadow.values())
        for run in runs:
            await run.stop()
        await self.ends.stop()

    def ready(self) -> bool:
        served = all(name in self._served for name in self.projections.versions)
        return served and all(run.ready() for run in self.live.values() if run is not None)

    async def wait_for(self, projection: str, min_position: str | None) -> None:
        run = self.live.get(projection)
        if run is None:
            if min_position:
                raise ProblemError(503, f"Projection {projection!r} is not being updated here.")
            return
        await run.runner.wait_for(min_position)

    async def settle(self, name: str) -> None:
        """Bring this instance in line with the catalog for one projection name."""
        live = await in_db_thread(self.engine, catalog.live_build, self.engine, name)
        if live is None:
            live = await self._first_build(name)
        await self._serve(name, live)
        await self._build_newer(name, live)

    async def _first_build(self, name: str) -> Build:
        """No build is live yet (a new projection): its first build is live from the start."""
        projection = self.projections.newest(name)
        build = await self._unfinished_or_new(projection)
        shown = BuildProjection(projection, build)
        await in_db_thread(self.engine, shown.create_tables, self.engine)
        await in_db_thread(self.engine, catalog.make_live, self.engine, shown)
        return await in_db_thread(self.engine, catalog.live_build, self.engine, name) or build

    async def _serve(self, name: str, live: Build) -> None:
        if self._served.get(name) == live:
            return
        old = self.live.pop(name, None)
        shadow = self.shadow.get(name)
        if shadow is not None and shadow.build == live:
            new: BuildRun | None = self.shadow.pop(name)
        else:
            new = await self._run(live)
        self.live[name], self._served[name] = new, live
        if old is not None:
            await old.stop()
        log.info("projection_serving", projection=name, build=str(live), updating=new is not None)

    async def _build_newer(self, name: str, live: Build) -> None:
        newest = self.projections.newest(name)
        if newest.version <= live.version:  # older code serves a newer build as it is
            await self._drop_shadow(name)
            return
        shadow = self.shadow.get(name)
        if shadow is None:
            build = await self._unfinished_or_new(newest)
            run = await self._run(build)
            assert run is not None
            self.shadow[name] = run
            log.info("projection_building", projection=name, build=str(build))
        elif await self._caught_up(shadow, self.live.get(name)):
            if await in_db_thread(self.engine, catalog.make_live, self.engine, shadow.projection):
                log.info("projection_swapped", projection=name, build=str(shadow.build))
            await self.settle(name)

    async def _caught_up(self, shadow: BuildRun, live: BuildRun | None) -> bool:
        """The new build is no further behind the log than the build it replaces."""
        topics = self._topic_names(shadow)
        live_projection = None if live is None else live.projection
        *_, ready = await ready_to_swap(
            self.engine, shadow.projection, live_projection, topics, self.ends
        )
        return ready

    async def _drop_shadow(self, name: str) -> None:
        shadow = self.shadow.pop(name, None)
        if shadow is not None:
            await shadow.stop()

    async def _unfinished_or_new(self, projection: AnalyticsProjection) -> Build:
        """The unfinished build of this version to resume, or a new generation of it."""
        name, version = projection.name, projection.version
        found = await in_db_thread(self.engine, catalog.records, self.engine, name)
        for record in found:
            if record.build.version == version and record.state is catalog.BuildState.BUILDING:
                return record.build
        generation = await in_db_thread(
            self.engine, catalog.next_generation, self.engine, name, version
        )
        build = Build(name, version, generation)
        shown = BuildProjection(projection, build)
        await in_db_thread(self.engine, catalog.register, self.engine, shown)
        return build

    async def _run(self, build: Build) -> BuildRun | None:
        projection = self.projections.get(build)
        if projection is None:
            log.warning("projection_version_not_in_code", build=str(build))
            return None
        run = BuildRun(self.engine, projection, build, self._settings, self._producer)
        await run.start()
        return run

    def _topic_names(self, run: BuildRun) -> list[str]:
        return [topic.name(self.topic_prefix) for topic in run.projection.topics]

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._poll_s)
            try:
                for name in self.projections.versions:
                    await self.settle(name)
                await in_db_thread(self.engine, catalog.drop_retired, self.engine)
            except Exception as exc:  # the next round tries again; serving goes on
                log.warning("projections_watch_failed", error=repr(exc))
