"""Two instances of a service side by side: a client-side balancer in front, /metrics behind.

`Balancer` is an httpx transport that plays the Kubernetes Service: requests to a virtual host
(`http://intake.scaleout`) go to one of that service's instances, round robin (`spread`), or
to the one that last answered (`owner`: routing, whose standby refuses commands with 503). An
instance that refuses the connection (killed) is passed over for the next. It counts which
instance answered, so a test can tell how the load divided.

`Scrape` reads an instance's `/metrics`: records consumed per group and topic, the partitions
its consumers hold (`callcenter_consumer_partitions`), whether it is an owner
(`callcenter_owner`), requests per route.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import httpx
from aiokafka import AIOKafkaConsumer
from callcenter_events.connection import client_options
from prometheus_client.parser import text_string_to_metric_families

from callcenter_testkit.load import Urls

SPREAD = "spread"
OWNER = "owner"


class Balancer(httpx.AsyncBaseTransport):
    """Sends each request for a pool's virtual host to one of the pool's instances."""

    def __init__(self, pools: dict[str, Sequence[str]], owner_pools: Iterable[str] = ()) -> None:
        self._pools = {host: [httpx.URL(url) for url in urls] for host, urls in pools.items()}
        self._owner_pools = frozenset(owner_pools)
        self._next: Counter[str] = Counter()
        self._inner = httpx.AsyncHTTPTransport()
        self.answered: Counter[tuple[str, str]] = Counter()
        """(virtual host, instance URL) -> requests that instance answered."""
        self.refused_connection: Counter[str] = Counter()

    @staticmethod
    def url(host: str) -> str:
        return f"http://{host}"

    def urls(self) -> Urls:
        return Urls(self.url("intake"), self.url("routing"), self.url("surveys"))

    def share(self, host: str) -> dict[str, int]:
        return {str(url): self.answered[(host, str(url))] for url in self._pools[host]}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        pool = self._pools.get(host)
        if pool is None:
            return await self._inner.handle_async_request(request)
        start = self._next[host] % len(pool)
        if host not in self._owner_pools:
            self._next[host] += 1
        order = pool[start:] + pool[:start]
        error: httpx.TransportError | None = None
        refused: httpx.Response | None = None  # a standby's 503, answered if nobody does better
        for target in order:
            request.url = request.url.copy_with(host=target.host, port=target.port)
            request.headers["Host"] = f"{target.host}:{target.port}"
            try:
                response = await self._inner.handle_async_request(request)
            except httpx.ConnectError as exc:  # nothing was sent: another instance may take it
                self.refused_connection[str(target)] += 1
                error = exc
                continue
            if host in self._owner_pools:
                if response.status_code == 503:  # a standby (or a rebuilding owner): ask another
                    await response.aread()
                    await response.aclose()
                    refused = refused or response
                    continue
                self._next[host] = pool.index(target)
            self.answered[(host, str(target))] += 1
            return response
        if refused is not None:
            return refused
        assert error is not None
        raise error

    async def aclose(self) -> None:
        await self._inner.aclose()


@dataclass(frozen=True)
class Scrape:
    """One instance's `/metrics` at one moment."""

    samples: dict[tuple[str, frozenset[tuple[str, str]]], float]

    @classmethod
    async def of(cls, client: httpx.AsyncClient, url: str) -> Scrape:
        answer = await client.get(f"{url}/metrics", timeout=10)
        answer.raise_for_status()
        samples = {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(answer.text)
            for sample in family.samples
        }
        return cls(samples)

    def by(self, name: str, *labels: str) -> dict[tuple[str, ...], float]:
        """The samples of `name`, keyed by the values of `labels`."""
        found: dict[tuple[str, ...], float] = {}
        for (sample, sample_labels), value in self.samples.items():
            if sample == name:
                named = dict(sample_labels)
                key = tuple(named.get(label, "") for label in labels)
                found[key] = found.get(key, 0.0) + value
        return found

    def partitions(self) -> dict[tuple[str, str], int]:
        """(group, topic) -> partitions this instance's consumer of that group holds."""
        held = self.by("callcenter_consumer_partitions", "group", "topic")
        return {(group, topic): int(n) for (group, topic), n in held.items()}

    def consumed(self) -> dict[tuple[str, str], int]:
        """(group, topic) -> records consumed so far."""
        got = self.by("callcenter_events_consumed_total", "group", "topic")
        return {(group, topic): int(n) for (group, topic), n in got.items()}

    def owner(self, group_suffix: str) -> bool:
        """Whether this instance owns the election group ending in `group_suffix` (a standby
        that never owned has no such gauge)."""
        gauges = self.by("callcenter_owner", "group").items()
        return any(group.endswith(group_suffix) and value == 1.0 for (group,), value in gauges)

    def requests(self, method: str, route: str) -> int:
        counts = self.by("callcenter_http_request_seconds_count", "method", "route")
        return int(counts.get((method, route), 0))


async def partition_counts(bootstrap: str, topics: Iterable[str]) -> dict[str, int]:
    """How many partitions each topic has (from the broker's metadata)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, **client_options())
    await consumer.start()
    try:
        counts: dict[str, int] = {}
        for topic in topics:
            found = consumer.partitions_for_topic(topic)
            if not found:
                await consumer._client.force_metadata_update()
                found = consumer.partitions_for_topic(topic)
            counts[topic] = len(found or ())
        return counts
    finally:
        await consumer.stop()


def divided(
    first: dict[tuple[str, str], int], second: dict[tuple[str, str], int], sizes: dict[str, int]
) -> list[str]:
    """What is wrong with how two instances hold the partitions of their groups' topics.

    Each (group, topic) must be covered exactly (the two shares add up to the topic's
    partitions: none unread, none read twice), and where the topic has two or more partitions,
    both instances must hold a share.
    """
    wrong = []
    for key in sorted(set(first) | set(second)):
        a, b = first.get(key, 0), second.get(key, 0)
        size = sizes[key[1]]
        if a + b != size:
            wrong.append(f"{key}: {a} + {b} partitions held, the topic has {size}")
        elif size >= 2 and min(a, b) == 0:
            wrong.append(f"{key}: {a} and {b} partitions held, one instance is idle")
    return wrong


def uncovered(held: dict[tuple[str, str], int], sizes: dict[str, int]) -> list[str]:
    """The (group, topic)s of which one instance does not hold every partition."""
    return [
        f"{key}: {n} of {sizes[key[1]]} partitions held"
        for key, n in sorted(held.items())
        if n != sizes[key[1]]
    ]
