"""Operating the subject keys: `python -m callcenter_service.keys_cli --help`.

    new-master-key ID    print a new master key for CALLCENTER_MASTER_KEYS
    rewrap               re-wrap every subject key under the active (first) master key
    status               how many subject keys there are, per master key

Settings come from the environment, as for the services (KAFKA_BOOTSTRAP_SERVERS,
CALLCENTER_TOPIC_PREFIX, CALLCENTER_MASTER_KEYS, CALLCENTER_LOOKUP_SECRET).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from callcenter_events.privacy import MasterKeys
from rich.console import Console

from callcenter_service.privacy import VaultComponent
from callcenter_service.settings import ServiceSettings
from callcenter_service.wiring import event_producer

app = typer.Typer(help="Subject keys of the personal data (see docs/privacy.md).")
console = Console()
CATCH_UP_S = 60.0
T = TypeVar("T")


@app.command("new-master-key")
def new_master_key(key_id: str) -> None:
    """Print a new master key; put it first in CALLCENTER_MASTER_KEYS to make it active."""
    print(MasterKeys.generate(key_id))


@app.command()
def rewrap() -> None:
    """Re-wrap every subject key under the active master key (after a rotation)."""
    changed = asyncio.run(_with_keys(_rewrap))
    console.print(f"re-wrapped {changed} subject key(s) under the active master key")


@app.command()
def status() -> None:
    """Count the subject keys per master key that wraps them."""
    counts = asyncio.run(_with_keys(_count))
    for master_key_id, count in sorted(counts.items()):
        console.print(f"{master_key_id}: {count}")
    if not counts:
        console.print("no subject keys")


async def _rewrap(keys: VaultComponent) -> int:
    return await keys.vault.rewrap()


async def _count(keys: VaultComponent) -> Counter[str]:
    return Counter(record.wrapped.master_key_id for record in keys.keys.records())


async def _with_keys(action: Callable[[VaultComponent], Awaitable[T]]) -> T:
    settings = ServiceSettings()
    producer = event_producer(settings, "keys-cli")
    await producer.start()
    keys = VaultComponent(settings, producer)
    try:
        await keys.start()
        if not await keys.keys.catch_up(CATCH_UP_S):
            raise TimeoutError(f"could not read the subject keys within {CATCH_UP_S} s")
        return await action(keys)
    finally:
        await keys.stop()
        await producer.stop()


if __name__ == "__main__":
    app()
