"""Personal data in a service: the vault over the key topic, and the shredder of erased keys.

Every instance reads the subject-keys topic in full (`KafkaKeyStore`, into a local file under
`CALLCENTER_STATE_DIR`), so it can seal and reveal without asking another service. The shredder
follows the erasures in the log and writes the tombstones of their keys: an erasure whose writer
crashed before destroying the keys is still carried out, and replaying it changes nothing.
"""

from __future__ import annotations

import hashlib

import structlog
from callcenter_events import Batch
from callcenter_events.models import SubjectsErased
from callcenter_events.privacy import MasterKeys, Vault
from callcenter_events.privacy.kafka_keys import KafkaKeyStore
from callcenter_events.producer import EventProducer
from callcenter_events.topics import PRIVACY, SUBJECT_KEYS

from callcenter_service.runtime import ConsumerComponent, FollowerComponent
from callcenter_service.settings import ServiceSettings
from callcenter_service.wiring import event_consumer

log = structlog.get_logger(__name__)


class VaultComponent(FollowerComponent):
    """The vault of this instance; ready once every subject key written so far is read."""

    def __init__(self, settings: ServiceSettings, producer: EventProducer) -> None:
        self.keys = KafkaKeyStore(
            settings.kafka_bootstrap_servers,
            SUBJECT_KEYS.name(settings.topic_prefix),
            producer,
            state_dir=settings.state_dir,
        )
        self.vault = Vault(
            self.keys,
            MasterKeys.parse(settings.master_keys.get_secret_value()),
            lookup_secret(settings),
        )
        super().__init__(self.keys, "subject-keys")


def lookup_secret(settings: ServiceSettings) -> bytes:
    return hashlib.sha256(settings.lookup_secret.get_secret_value().encode()).digest()


def shredder(
    settings: ServiceSettings, producer: EventProducer, vault: Vault, *, service: str
) -> ConsumerComponent:
    """The shredder of `service`, a consumer of the erasures in its own group."""
    consumer = event_consumer(
        settings,
        group=f"{service}-shredder",
        topics=[PRIVACY],
        handler=Shredder(vault).handle,
        producer=producer,
    )
    return ConsumerComponent(consumer)


class Shredder:
    """Destroys the keys that erasures name (idempotent: a tombstone twice is one erasure)."""

    def __init__(self, vault: Vault) -> None:
        self._vault = vault

    async def handle(self, batch: Batch) -> None:
        for envelope in batch.envelopes:
            if isinstance(envelope.data, SubjectsErased) and envelope.data.subject_ids:
                await self._vault.erase(envelope.data.subject_ids)
                log.info(
                    "subject_keys_destroyed",
                    erasure_id=envelope.data.erasure_id,
                    subjects=len(envelope.data.subject_ids),
                )
