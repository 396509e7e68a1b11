"""Which thresholds of a tenant were in force at a moment: its settings history, read once.

A report computes each call with the thresholds in force when the call was received, so a
change of the thresholds applies to the calls after it, and no figure is ever stale.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from datetime import datetime

from callcenter_events.models import TenantSettings
from callcenter_events.store import as_utc
from sqlalchemy import Connection, select

from analytics.calls_kpis import Thresholds
from analytics.projections.calls_tables import TENANT_THRESHOLDS

_DEFAULTS = TenantSettings()
DEFAULT = Thresholds(_DEFAULTS.service_level_threshold_s, _DEFAULTS.short_abandon_s)
"""Before a tenant's first known settings (the platform's defaults: 20 s and 5 s)."""


class ThresholdHistory:
    def __init__(self, changes: list[tuple[str, datetime, Thresholds]]) -> None:
        self._times: defaultdict[str, list[datetime]] = defaultdict(list)
        self._sets: defaultdict[str, list[Thresholds]] = defaultdict(list)
        for tenant_id, at, thresholds in sorted(changes, key=lambda c: (c[0], c[1])):
            self._times[tenant_id].append(at)
            self._sets[tenant_id].append(thresholds)

    def at(self, tenant_id: str, moment: datetime) -> Thresholds:
        """The set that took effect last at or before `moment`."""
        index = bisect_right(self._times.get(tenant_id, []), moment)
        return self._sets[tenant_id][index - 1] if index else DEFAULT

    @classmethod
    def load(cls, connection: Connection, tenant_id: str | None) -> ThresholdHistory:
        table = TENANT_THRESHOLDS
        statement = select(
            table.c.tenant_id,
            table.c.effective_at,
            table.c.service_level_threshold_s,
            table.c.short_abandon_s,
        )
        if tenant_id is not None:
            statement = statement.where(table.c.tenant_id == tenant_id)
        return cls(
            [
                (row[0], as_utc(row[1]), Thresholds(row[2], row[3]))
                for row in connection.execute(statement)
            ]
        )
