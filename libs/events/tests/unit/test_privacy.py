"""Sealing personal data per data subject: it opens only under its own key, and erasure is final."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from callcenter_events import decode, encode, wrap
from callcenter_events.codec import UnsealedPersonalDataError
from callcenter_events.models import CallReceived, CallWrappedUp
from callcenter_events.privacy import (
    MasterKeys,
    MemoryKeyStore,
    SealedValueError,
    SubjectRef,
    TamperedValueError,
    UnknownMasterKeyError,
    Vault,
    is_sealed,
)

PHONE = "+4930555010203"
NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
SECRET = hashlib.sha256(b"lookup secret for tests").digest()
OLD_MASTER = MasterKeys.generate("m1")
NEW_MASTER = MasterKeys.generate("m2")


def vault(masters: str = OLD_MASTER, store: MemoryKeyStore | None = None) -> Vault:
    return Vault(MemoryKeyStore() if store is None else store, MasterKeys.parse(masters), SECRET)


def call(**changes: object) -> CallReceived:
    fields: dict[str, object] = {
        "call_id": "c-1",
        "tenant_id": "acme",
        "caller_phone": PHONE,
        "customer_ref": "crm-4711",
        "language": "de",
        "topic": "billing",
        "received_at": NOW,
    }
    return CallReceived.model_validate(fields | changes)


def caller(tenant_id: str = "acme", phone: str = PHONE) -> SubjectRef:
    return SubjectRef(tenant_id, "phone", phone)


async def test_sealed_fields_hide_the_value_and_reveal_it_under_the_key() -> None:
    v = vault()
    sealed, subject_id = await v.seal_event(call(), caller())
    assert subject_id is not None
    assert is_sealed(sealed.caller_phone or "")
    assert is_sealed(sealed.customer_ref or "")
    assert PHONE not in sealed.model_dump_json()
    assert "crm-4711" not in sealed.model_dump_json()
    revealed = await v.reveal_event(sealed)
    assert (revealed.caller_phone, revealed.customer_ref) == (PHONE, "crm-4711")


async def test_the_same_person_gets_the_same_subject_and_another_person_another() -> None:
    v = vault()
    first = await v.subject_for(caller())
    assert await v.subject_for(caller()) == first
    assert await v.subject_for(caller(phone="+4930555010204")) != first
    assert await v.subject_for(caller(tenant_id="globex")) != first


async def test_concurrent_first_calls_of_one_person_create_one_key() -> None:
    import asyncio  # noqa: PLC0415

    store = MemoryKeyStore()
    v = vault(store=store)
    subjects = await asyncio.gather(*(v.subject_for(caller()) for _ in range(20)))
    assert len(set(subjects)) == 1
    assert len(store) == 1


async def test_the_lookup_token_does_not_contain_the_number() -> None:
    v = vault()
    lookup = v.lookup(caller())
    assert PHONE not in lookup
    assert "4930555010203" not in lookup
    assert lookup != Vault(MemoryKeyStore(), MasterKeys.parse(OLD_MASTER), b"x" * 32).lookup(
        caller()
    )


async def test_tampered_ciphertext_is_rejected() -> None:
    v = vault()
    sealed, _ = await v.seal_event(call(), caller())
    token = sealed.caller_phone or ""
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    with pytest.raises(TamperedValueError):
        await v.reveal(flipped, "caller_phone")


async def test_a_value_moved_to_another_field_does_not_open() -> None:
    v = vault()
    sealed, _ = await v.seal_event(call(), caller())
    with pytest.raises(TamperedValueError):
        await v.reveal(sealed.caller_phone, "customer_ref")


async def test_a_value_moved_to_another_subject_does_not_open() -> None:
    v = vault()
    sealed, subject_id = await v.seal_event(call(), caller())
    other = await v.subject_for(caller(phone="+4930555010299"))
    assert subject_id is not None
    moved = (sealed.caller_phone or "").replace(subject_id, other)
    with pytest.raises(TamperedValueError):
        await v.reveal(moved, "caller_phone")


async def test_a_wrong_key_fails() -> None:
    store = MemoryKeyStore()
    sealed, _ = await vault(store=store).seal_event(call(), caller())
    with pytest.raises(UnknownMasterKeyError):
        await vault(NEW_MASTER, store=store).reveal(sealed.caller_phone, "caller_phone")
    impostor = f"m1:{NEW_MASTER.split(':')[1]}"  # the right id, the wrong key
    with pytest.raises(TamperedValueError):
        await vault(impostor, store=store).reveal(sealed.caller_phone, "caller_phone")


async def test_malformed_tokens_are_rejected_clearly() -> None:
    v = vault()
    for token in ("pd1.", "pd1.subject", "pd1.s1.%%%", "pd1.s1.AAAA"):
        with pytest.raises(SealedValueError):
            await v.reveal(token, "caller_phone")


async def test_master_key_rotation_keeps_old_events_readable() -> None:
    store = MemoryKeyStore()
    sealed, _ = await vault(OLD_MASTER, store=store).seal_event(call(), caller())
    rotated = vault(f"{NEW_MASTER},{OLD_MASTER}", store=store)
    assert await rotated.reveal(sealed.caller_phone, "caller_phone") == PHONE
    assert await rotated.rewrap() == 1
    assert await rotated.rewrap() == 0
    only_new = vault(NEW_MASTER, store=store)
    assert await only_new.reveal(sealed.caller_phone, "caller_phone") == PHONE


async def test_erasure_makes_every_copy_unreadable_and_takes_no_new_data() -> None:
    v = vault()
    sealed, subject_id = await v.seal_event(call(), caller())
    assert subject_id is not None
    assert await v.reveal(sealed.caller_phone, "caller_phone") == PHONE  # cached key
    await v.erase([subject_id])
    revealed = await v.reveal_event(sealed)
    assert (revealed.caller_phone, revealed.customer_ref) == (None, None)
    notes = CallWrappedUp(
        call_id="c-1", tenant_id="acme", disposition="done", notes="angry", wrapped_up_at=NOW
    )
    dropped, _ = await v.seal_event(notes, subject_id)
    assert dropped.notes is None
    assert await v.subject_for(caller()) != subject_id  # a new call later: a new key


async def test_events_without_personal_values_need_no_subject() -> None:
    v = vault()
    event, subject_id = await v.seal_event(call(caller_phone=None, customer_ref=None), caller())
    assert subject_id is None
    assert event.caller_phone is None


async def test_the_codec_refuses_personal_data_in_clear_and_carries_the_subject() -> None:
    with pytest.raises(UnsealedPersonalDataError, match="caller_phone"):
        encode(wrap(call(), source="/test", correlation_id="c"))
    v = vault()
    sealed, subject_id = await v.seal_event(call(), caller())
    envelope = wrap(sealed, source="/test", correlation_id="c", data_subject=subject_id)
    record = encode(envelope)
    assert PHONE.encode() not in (record.value or b"")
    assert decode(record).data_subject == subject_id
    assert decode(record).data == sealed


def test_master_keys_are_checked_when_read() -> None:
    for text in ("", "m1", "m1:short", "m1:" + "A" * 43 + ",m:2:x"):
        with pytest.raises(ValueError, match="master key"):
            MasterKeys.parse(text)


async def test_a_customers_call_seals_the_number_for_whoever_has_that_number() -> None:
    v = vault()
    customer = SubjectRef("acme", "customer", "crm-4711")
    sealed, subject_id = await v.seal_event(call(), customer, overrides={"caller_phone": caller()})
    assert subject_id == await v.subject_for(customer)
    await v.erase(v.subjects_of(caller()))
    revealed = await v.reveal_event(sealed)
    assert (revealed.caller_phone, revealed.customer_ref) == (None, "crm-4711")
