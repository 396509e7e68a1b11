"""The dialer: while this instance is the owner, it requests the campaign calls that fit now.

Every tick it counts, per line (tenant and language), the available agents with the skill
`campaign` and the campaign calls still waiting, and requests at most the difference: progressive
pacing, never more than one waiting call per available qualified agent. Whom it calls the pure
`surveys.dialing` rules decide; each request carries the evidence (consent statement, local
time). A request's call id follows from campaign, person and attempt, so a request repeated
after a crash or by a second owner names the same call, which intake and the projection take
once. One instance dials at a time: the holder of the `callcenter.dialer-owner.v1` partition.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime

import structlog
from callcenter_events import Envelope, Position, utc_now, wrap
from callcenter_events.models import OutboundCallRequested
from callcenter_events.producer import EventProducer
from callcenter_events.store import in_db_thread
from callcenter_events.topics import DIALER_OWNER
from callcenter_service.ownership import OwnerElection
from callcenter_service.projection import ProjectionRunner
from prometheus_client import Counter as MetricCounter
from sqlalchemy import Engine

from surveys.campaignreads import Reachable, agents_and_waiting, candidates
from surveys.campaignreads import running_campaigns as running
from surveys.campaigntables import Campaign
from surveys.dialing.eligibility import local_time
from surveys.dialing.pacing import Line, room
from surveys.dialing.plan import Candidate, pick
from surveys.settings import SurveysSettings

log = structlog.get_logger(__name__)
SOURCE = "/callcenter/surveys/dialer"
SCAN = 500
OWN_WRITES_WAIT_S = 5.0
REQUESTED = MetricCounter(
    "callcenter_surveys_calls_requested_total", "Campaign calls requested by the dialer"
)


def call_id_of(campaign_id: str, subject_id: str, attempt: int) -> str:
    digest = hashlib.sha256(f"{campaign_id}|{subject_id}|{attempt}".encode()).hexdigest()
    return f"oc-{digest[:24]}"


class Dialer:
    def __init__(
        self,
        campaigns: ProjectionRunner,
        producer: EventProducer,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._campaigns = campaigns
        self._producer = producer
        self._clock = clock
        self._cursors: dict[str, int] = {}

    @property
    def _engine(self) -> Engine:
        return self._campaigns.store.engine

    async def tick(self) -> int:
        """Request what fits now; answers how many calls were requested."""
        agents, waiting = await in_db_thread(self._engine, agents_and_waiting, self._engine)
        free = room(agents, waiting)
        if not free:
            return 0
        now = self._clock()
        envelopes: list[Envelope] = []
        for found in await in_db_thread(self._engine, running, self._engine):
            if any(free[line] > 0 for line in free if line[0] == found.tenant_id):
                envelopes += await self._dial(found, free, now)
        if envelopes:
            positions = await self._producer.publish_all(envelopes)
            REQUESTED.inc(len(envelopes))
            await self._projected(positions)
        return len(envelopes)

    async def _dial(self, found: Campaign, free: Counter[Line], now: datetime) -> list[Envelope]:
        after = self._cursors.get(found.campaign_id, -1)
        judged, last = await in_db_thread(
            self._engine, candidates, self._engine, found, after, SCAN
        )
        self._cursors[found.campaign_id] = -1 if last is None else last
        offered = [
            Candidate(j.reachable, j.target, j.line) for j in judged if j.reachable is not None
        ]
        chosen = pick(offered, found.campaign_rules(), now, free)
        return [_request(found, c.key, now) for c in chosen]

    async def _projected(self, positions: list[Position]) -> None:
        """Wait (bounded) until the projection shows the requests: the next tick counts them."""
        last = {(p.topic, p.partition): p for p in sorted(positions, key=lambda p: p.offset)}
        deadline = time.monotonic() + OWN_WRITES_WAIT_S
        while time.monotonic() < deadline:
            pending = [
                p
                for p in last.values()
                if not await in_db_thread(self._engine, self._campaigns.reached, p)
            ]
            if not pending:
                return
            await asyncio.sleep(0.02)


def _request(found: Campaign, person: Reachable, now: datetime) -> Envelope:
    attempt = person.attempts + 1
    local = local_time(person.timezone, now)
    event = OutboundCallRequested(
        call_id=call_id_of(found.campaign_id, person.subject_id, attempt),
        tenant_id=found.tenant_id,
        campaign_id=found.campaign_id,
        customer_ref=person.customer_ref,
        phone=person.phone,
        language=person.language,
        attempt=attempt,
        consent_event_id=person.consent_event_id,
        local_time=local.isoformat() if local else "",
        timezone=person.timezone,
        requested_at=now,
    )
    return wrap(
        event,
        source=SOURCE,
        correlation_id=found.campaign_id,
        event_id=f"{event.call_id}.requested",
        data_subject=person.subject_id,
    )


class DialerComponent:
    """Joins the dialer election; while owner, ticks the dialer every interval."""

    name = "dialer"

    def __init__(self, dialer: Dialer, settings: SurveysSettings) -> None:
        self.dialer = dialer
        self._interval_s = settings.dial_interval_s
        self._task: asyncio.Task[None] | None = None
        self._paused = False
        self.election = OwnerElection(
            settings.kafka_bootstrap_servers,
            group_id=f"{settings.topic_prefix}surveys.dialer",
            topic=DIALER_OWNER.name(settings.topic_prefix),
            on_elected=self._elected,
            on_deposed=self._deposed,
            on_paused=self._pause,
        )

    async def start(self) -> None:
        await self.election.start()

    async def stop(self) -> None:
        await self.election.stop()

    def ready(self) -> bool:
        return self.election.running

    async def _elected(self) -> None:
        self._task = asyncio.create_task(self._run(), name="dialer")

    async def _deposed(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _pause(self, paused: bool) -> None:
        self._paused = paused

    async def _run(self) -> None:
        while True:
            if not self._paused:
                try:
                    await self.dialer.tick()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # the broker or the store away: try again next tick
                    log.warning("dialer_tick_failed", error=repr(exc))
            await asyncio.sleep(self._interval_s)
