"""Benchmark (c): the cost of sealing personal data, publishing and replaying with and without.

Producer: `call.received` events without personal data published through `EventProducer`
(acks=all), against the same events carrying a caller's number and a customer reference, each
sealed by the vault right before it is published (intake's way: the call is about the customer,
the number belongs to whoever holds it), and the sealing alone without Kafka. Replay: decoding
records, against decoding them and revealing their personal fields.
"""

from __future__ import annotations

import asyncio
import gc
import random
import resource
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import uvloop
from callcenter_events import Envelope, wrap
from callcenter_events.codec import Record, decode, encode
from callcenter_events.models import CallReceived
from callcenter_events.privacy import MasterKeys, MemoryKeyStore, SubjectRef, Vault
from callcenter_events.privacy.vault import new_lookup_secret
from callcenter_events.producer import EventProducer
from callcenter_events.topics import CALLS

from bench.kafka import create_topic, record_count
from bench.servers import BenchError

TENANT = "acme"
RECEIVED_AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
SEED = 20260301


@dataclass(frozen=True, slots=True)
class PrivacyOptions:
    bootstrap_servers: str
    topic_prefix: str
    events: int  # published each way, sealed alone, then replayed
    callers: int  # distinct callers (each a phone number and a customer reference)
    chunk: int
    window: int

    @property
    def plain_prefix(self) -> str:
        return f"{self.topic_prefix}privacy-plain."

    @property
    def sealed_prefix(self) -> str:
        return f"{self.topic_prefix}privacy-sealed."


@dataclass(frozen=True, slots=True)
class Timing:
    events: int
    seconds: float
    cpu_seconds: float

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds

    @property
    def us_per_event(self) -> float:
        return 1e6 * self.seconds / self.events


@dataclass(frozen=True, slots=True)
class PrivacyResult:
    options: PrivacyOptions
    plain: Timing  # publish, no personal data
    sealed: Timing  # seal, then publish
    sealing: Timing  # seal alone, no Kafka, creating the subjects' keys
    resealing: Timing  # the same again, every subject's key known
    decode: Timing  # decode the sealed records
    reveal: Timing  # decode, then reveal_event
    plain_value_bytes: int
    sealed_value_bytes: float  # mean over the sealed records
    plain_header_bytes: int
    sealed_header_bytes: int
    subjects_created: int  # during the sealed publishing
    replay_subjects: int  # distinct subjects in the replayed records (keys unwrapped once each)
    plain_topic: str
    sealed_topic: str
    plain_stored: int
    sealed_stored: int
    wrong_reveals: int  # of the sampled revealed events, those that differ from the original

    @property
    def publish_ratio(self) -> float:
        return self.sealed.events_per_s / self.plain.events_per_s

    @property
    def replay_ratio(self) -> float:
        return self.reveal.events_per_s / self.decode.events_per_s

    def problems(self) -> list[str]:
        expected = self.options.events
        found = [
            f"{name}: {stored} records in {topic}, expected {expected}"
            for name, topic, stored in (
                ("without personal data", self.plain_topic, self.plain_stored),
                ("sealed", self.sealed_topic, self.sealed_stored),
            )
            if stored != expected
        ]
        if self.wrong_reveals:
            found.append(f"{self.wrong_reveals} revealed events differ from what was sealed")
        return found


@dataclass(frozen=True, slots=True)
class Caller:
    phone: str
    customer_ref: str


def callers(count: int) -> list[Caller]:
    """Distinct German landline numbers, each with its own customer reference."""
    return [Caller(f"+49301{i:07d}", f"CUST-{i:07d}") for i in range(count)]


def calls(options: PrivacyOptions, count: int, *, personal: bool, tag: str) -> list[CallReceived]:
    """`count` calls of callers drawn at random (seeded) from `options.callers` distinct ones."""
    people = callers(options.callers)
    draw = random.Random(f"{SEED}-{tag}")
    events = []
    for i in range(count):
        caller = people[draw.randrange(len(people))]
        events.append(
            CallReceived(
                call_id=f"bench-{tag}-{i:010d}",
                tenant_id=TENANT,
                caller_phone=caller.phone if personal else None,
                customer_ref=caller.customer_ref if personal else None,
                language="de",
                topic="billing",
                received_at=RECEIVED_AT,
            )
        )
    return events


def new_vault(
    store: MemoryKeyStore | None = None,
    master: MasterKeys | None = None,
    lookup_secret: bytes | None = None,
) -> Vault:
    """A vault over a `MemoryKeyStore`: creating a subject key stores it in memory, not Kafka."""
    return Vault(
        store or MemoryKeyStore(),
        master or MasterKeys.parse(MasterKeys.generate("bench")),
        lookup_secret or new_lookup_secret(),
    )


async def seal_call(vault: Vault, event: CallReceived) -> tuple[CallReceived, str | None]:
    """As intake seals a call: about the customer; the number belongs to its holder."""
    if event.caller_phone is None or event.customer_ref is None:
        raise BenchError("the sealed calls need a caller_phone and a customer_ref")
    customer = SubjectRef(event.tenant_id, "customer", event.customer_ref)
    phone = SubjectRef(event.tenant_id, "phone", event.caller_phone)
    return await vault.seal_event(event, customer, overrides={"caller_phone": phone})


def envelope(event: CallReceived, data_subject: str | None = None) -> Envelope:
    return wrap(
        event,
        source="/bench",
        correlation_id=f"corr-{event.call_id}",
        data_subject=data_subject,
    )


def run(options: PrivacyOptions) -> PrivacyResult:
    try:
        return _run(options)
    finally:
        gc.unfreeze()


def _run(options: PrivacyOptions) -> PrivacyResult:
    print(
        f"privacy: building {options.events} call.received events twice "
        f"(without personal data; with {options.callers} distinct callers)",
        flush=True,
    )
    plain_events = calls(options, options.events, personal=False, tag="plain")
    personal_events = calls(options, options.events, personal=True, tag="sealed")
    plain_record = encode(envelope(plain_events[0]))
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        plain_topic = runner.run(
            create_topic(options.bootstrap_servers, options.plain_prefix, CALLS)
        )
        sealed_topic = runner.run(
            create_topic(options.bootstrap_servers, options.sealed_prefix, CALLS)
        )
        print(f"privacy: publish without personal data into {plain_topic}", flush=True)
        plain = runner.run(_publish(options, options.plain_prefix, plain_events, None))
        vault = new_vault()
        print(f"privacy: seal + publish into {sealed_topic}", flush=True)
        sealed = runner.run(_publish(options, options.sealed_prefix, personal_events, vault))
        subjects_created = _subject_count(vault)
        plain_stored = runner.run(
            record_count(options.bootstrap_servers, plain_topic, CALLS.partitions)
        )
        sealed_stored = runner.run(
            record_count(options.bootstrap_servers, sealed_topic, CALLS.partitions)
        )
        del plain_events
        print("privacy: sealing alone (fresh vault, no Kafka)", flush=True)
        master, secret = MasterKeys.parse(MasterKeys.generate("bench")), new_lookup_secret()
        writer = new_vault(master=master, lookup_secret=secret)
        sealing, sealed_events = runner.run(_seal_only(writer, personal_events))
        print("privacy: sealing alone again (every subject known)", flush=True)
        resealing, _ = runner.run(_seal_only(writer, personal_events))

        print(f"privacy: replay of those {options.events} sealed events, in memory", flush=True)
        records = [encode(envelope(event, subject_id)) for event, subject_id in sealed_events]
        del sealed_events
        reader = new_vault(_copy_of_keys(writer), master, secret)
        decoded, revealed = runner.run(_replay(records, reader))
        wrong = runner.run(_check(reader, records, personal_events))
    return PrivacyResult(
        options=options,
        plain=plain,
        sealed=sealed,
        sealing=sealing,
        resealing=resealing,
        decode=decoded,
        reveal=revealed,
        plain_value_bytes=len(plain_record.value or b""),
        sealed_value_bytes=sum(len(r.value or b"") for r in records) / len(records),
        plain_header_bytes=_header_bytes(plain_record),
        sealed_header_bytes=_header_bytes(records[0]),
        subjects_created=subjects_created,
        replay_subjects=_subject_count(writer),
        plain_topic=plain_topic,
        sealed_topic=sealed_topic,
        plain_stored=plain_stored,
        sealed_stored=sealed_stored,
        wrong_reveals=wrong,
    )


def _header_bytes(record: Record) -> int:
    return sum(len(name) + len(value) for name, value in record.headers)


def _chunks(events: Sequence[CallReceived], size: int) -> Iterator[Sequence[CallReceived]]:
    for start in range(0, len(events), size):
        yield events[start : start + size]


async def _publish(
    options: PrivacyOptions, prefix: str, events: Sequence[CallReceived], vault: Vault | None
) -> Timing:
    """Wrap (sealing first when given a vault) and publish, `window` chunks in flight."""
    producer = EventProducer(
        options.bootstrap_servers, client_id="bench-privacy", topic_prefix=prefix
    )
    await producer.start()
    try:
        chunks = _chunks(events, options.chunk)

        async def worker() -> int:
            published = 0
            for chunk in chunks:  # the workers share the iterator: a sliding window of chunks
                if vault is None:
                    envelopes = [envelope(event) for event in chunk]
                else:
                    envelopes = []
                    for event in chunk:
                        sealed, subject_id = await seal_call(vault, event)
                        envelopes.append(envelope(sealed, subject_id))
                published += len(await producer.publish_all(envelopes))
            return published

        _settle()
        cpu_before = _cpu_seconds()
        started = time.perf_counter()
        published = sum(await asyncio.gather(*(worker() for _ in range(options.window))))
        seconds = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu_before
    finally:
        await producer.stop()
    if published != len(events):
        raise BenchError(f"published {published} of {len(events)} events")
    return Timing(published, seconds, cpu)


async def _seal_only(
    vault: Vault, events: Sequence[CallReceived]
) -> tuple[Timing, list[tuple[CallReceived, str | None]]]:
    """Seal every event, one after the other; answers the timing and the sealed events."""
    sealed = []
    _settle()
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    for event in events:
        sealed.append(await seal_call(vault, event))
    seconds = time.perf_counter() - started
    return Timing(len(events), seconds, _cpu_seconds() - cpu_before), sealed


def _subject_count(vault: Vault) -> int:
    return sum(1 for _ in vault.store.records())


def _copy_of_keys(vault: Vault) -> MemoryKeyStore:
    """The subject keys as a replaying process holds them after reading the key topic."""
    store = MemoryKeyStore()
    for record in vault.store.records():
        store.remember(record)
    return store


async def _replay(records: Sequence[Record], vault: Vault) -> tuple[Timing, Timing]:
    """Decode every record; then decode and reveal every record (keys unwrapped once, cached)."""
    _settle()
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    for record in records:
        decode(record)
    decoded = Timing(len(records), time.perf_counter() - started, _cpu_seconds() - cpu_before)

    _settle()
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    for record in records:
        await vault.reveal_event(decode(record).data)
    revealed = Timing(len(records), time.perf_counter() - started, _cpu_seconds() - cpu_before)
    return decoded, revealed


async def _check(vault: Vault, records: Sequence[Record], originals: Sequence[CallReceived]) -> int:
    """Reveal a sample again (untimed) and count the events that differ from the original."""
    wrong = 0
    for index in range(0, len(records), max(1, len(records) // 100)):
        if await vault.reveal_event(decode(records[index]).data) != originals[index]:
            wrong += 1
    return wrong


def _settle() -> None:
    """Collect, then freeze what lives now (the prebuilt inputs) out of the collector's scans.

    The benchmark holds tens of thousands of prebuilt events that no service holds; without
    this, the full collections scanning them slowed the publishing without personal data by a
    third on the 2-core machine. What the timed code itself keeps (subject keys) is still
    collected as in a service.
    """
    gc.collect()
    gc.freeze()


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
