"""The worked example of docs/projections.md: a row per wrapped-up call, repeats change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from analytics.projections.dispositions import DispositionsProjection
from analytics.testing import live_store
from callcenter_events import Batch, Envelope, wrap
from callcenter_events.models import CallWrappedUp
from sqlalchemy import text
from sqlmodel import create_engine

BERLIN_WINTER = timezone(timedelta(hours=1))


def wrapped(call_id: str, disposition: str, at: datetime) -> Envelope:
    event = CallWrappedUp(
        call_id=call_id, tenant_id="acme", disposition=disposition, wrapped_up_at=at
    )
    return wrap(event, source="/test", correlation_id=call_id)


def test_dispositions_per_utc_day_once_per_call(database_url: str) -> None:
    engine = create_engine(database_url)
    store = live_store(engine, DispositionsProjection())
    late = datetime(2026, 11, 3, 0, 30, tzinfo=BERLIN_WINTER)  # still Nov 2 in UTC
    events = [
        wrapped("a", "solved", datetime(2026, 11, 2, 9, tzinfo=UTC)),
        wrapped("b", "callback", late),
        wrapped("c", "solved", datetime(2026, 11, 3, 9, tzinfo=UTC)),
    ]
    store.apply(Batch(events, {("calls", 0): 3}))
    store.apply(Batch(events[:2], {("calls", 0): 5}))  # delivered again
    query = text(
        "SELECT day, disposition, count(*) FROM analytics_dispositions "
        "GROUP BY day, disposition ORDER BY day, disposition"
    )
    with engine.connect() as connection:
        rows = [(str(day), disposition, n) for day, disposition, n in connection.execute(query)]
    assert rows == [
        ("2026-11-02", "callback", 1),
        ("2026-11-02", "solved", 1),
        ("2026-11-03", "solved", 1),
    ]
    engine.dispose()
