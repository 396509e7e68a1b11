"""For tests of a projection and its queries: a live build on an engine, without the broker."""

from __future__ import annotations

from callcenter_events.store import ProjectionStore
from sqlalchemy import Engine

from analytics.builds import Build, BuildProjection
from analytics.projection import AnalyticsProjection


def live_store(engine: Engine, projection: AnalyticsProjection) -> ProjectionStore:
    """A store for `projection`'s first build, its tables created and shown under the views.

    `store.apply(Batch(envelopes, {(topic, partition): next_offset}))` projects a batch as the
    service would; queries read the stable names.
    """
    build = BuildProjection(projection, Build(projection.name, projection.version))
    store = ProjectionStore(engine, build)
    store.create_tables()
    with engine.begin() as connection:
        build.show(connection)
    return store
