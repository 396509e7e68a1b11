"""Rotating the master key on the real key topic: old sealed values stay readable throughout."""

from __future__ import annotations

import asyncio

import pytest
from callcenter_events.models import CallReceived
from callcenter_events.privacy import MasterKeys, SubjectRef
from callcenter_events.testing import RECEIVED_AT
from callcenter_service.keys_cli import app
from callcenter_service.privacy import VaultComponent
from callcenter_service.settings import ServiceSettings
from callcenter_service.wiring import event_producer
from typer.testing import CliRunner

pytestmark = [pytest.mark.kafka]

OLD = MasterKeys.generate("m1")
NEW = MasterKeys.generate("m2")
PHONE = "+4930777000111"


def _settings(bootstrap: str, prefix: str, masters: str) -> ServiceSettings:
    return ServiceSettings(
        KAFKA_BOOTSTRAP_SERVERS=bootstrap,
        CALLCENTER_TOPIC_PREFIX=prefix,
        CALLCENTER_MASTER_KEYS=masters,
    )


async def _with_vault(settings: ServiceSettings, token: str | None) -> tuple[str | None, str]:
    """Seal a call for PHONE (when `token` is None) or reveal `token`; answers both values."""
    producer = event_producer(settings, "test")
    await producer.start()
    keys = VaultComponent(settings, producer)
    await keys.start()
    try:
        assert await keys.keys.catch_up(10)
        if token is None:
            call = CallReceived(
                call_id="c-1",
                tenant_id="acme",
                caller_phone=PHONE,
                language="de",
                topic="billing",
                received_at=RECEIVED_AT,
            )
            sealed, _ = await keys.vault.seal_event(call, SubjectRef("acme", "phone", PHONE))
            assert sealed.caller_phone is not None
            return None, sealed.caller_phone
        return await keys.vault.reveal(token, "caller_phone"), token
    finally:
        await keys.stop()
        await producer.stop()


def test_a_rotated_master_key_keeps_sealed_values_readable(
    kafka_bootstrap: str, topic_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, token = asyncio.run(_with_vault(_settings(kafka_bootstrap, topic_prefix, OLD), None))
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    monkeypatch.setenv("CALLCENTER_TOPIC_PREFIX", topic_prefix)
    monkeypatch.setenv("CALLCENTER_MASTER_KEYS", f"{NEW},{OLD}")
    runner = CliRunner()

    before = runner.invoke(app, ["status"])
    assert before.exit_code == 0, before.output
    assert "m1: 1" in before.output
    rewrapped = runner.invoke(app, ["rewrap"])
    assert rewrapped.exit_code == 0, rewrapped.output
    assert "re-wrapped 1 subject key" in rewrapped.output
    after = runner.invoke(app, ["status"])
    assert "m2: 1" in after.output
    assert "m1:" not in after.output

    only_new = _settings(kafka_bootstrap, topic_prefix, NEW)
    revealed, _ = asyncio.run(_with_vault(only_new, token))
    assert revealed == PHONE, "the old master key is no longer needed"


def test_a_new_master_key_is_printed_in_the_form_the_services_read() -> None:
    result = CliRunner().invoke(app, ["new-master-key", "k7"])
    assert result.exit_code == 0
    assert MasterKeys.parse(result.output.strip()).active_id == "k7"
