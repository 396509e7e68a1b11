"""The on-disk key index answers exactly as the in-memory one, and leaves no file behind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from callcenter_events.privacy.key_file import KeyChange, KeyFile
from callcenter_events.privacy.keystore import KeyIndex, KeyRecord
from callcenter_events.privacy.master import WrappedKey
from hypothesis import given, settings
from hypothesis import strategies as st

SUBJECTS = [f"s{n}" for n in range(6)]
LOOKUPS = ["la", "lb", "lc"]
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def key_record(subject_id: str, lookup: str = "la", master: str = "m1", n: int = 0) -> KeyRecord:
    return KeyRecord(
        subject_id=subject_id,
        tenant_id="acme",
        lookup=lookup,
        wrapped=WrappedKey(master, bytes([n % 256]) * 60),
        created_at=EPOCH + timedelta(seconds=n),
    )


changes = st.lists(
    st.one_of(
        st.builds(
            key_record,
            st.sampled_from(SUBJECTS),
            st.sampled_from(LOOKUPS),
            st.sampled_from(["m1", "m2"]),
            st.integers(0, 1000),
        ),
        st.sampled_from(SUBJECTS),
    ),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(batches=st.lists(changes, max_size=4))
def test_the_file_answers_as_the_memory_index_for_any_records_and_tombstones(
    batches: list[list[KeyChange]],
) -> None:
    memory, file = KeyIndex(), KeyFile()
    try:
        for batch in batches:
            memory.apply(batch)
            file.apply(batch)
        for subject_id in SUBJECTS:
            assert file.record(subject_id) == memory.record(subject_id)
            assert file.is_erased(subject_id) == memory.is_erased(subject_id)
        for lookup in LOOKUPS:
            assert sorted(file.subjects(lookup)) == sorted(memory.subjects(lookup))
        assert sorted(file.records(), key=_subject) == sorted(memory.records(), key=_subject)
        assert len(file) == len(memory)
    finally:
        file.close()


def test_an_erased_subject_is_never_taken_back_by_a_late_record() -> None:
    file = KeyFile()
    file.apply([key_record("s1"), "s1", key_record("s1", n=7)])
    assert file.record("s1") is None
    assert file.is_erased("s1")
    assert file.subjects("la") == []
    file.close()


def test_the_file_is_gone_from_its_directory_while_it_is_in_use(tmp_path: Path) -> None:
    file = KeyFile(tmp_path / "state")
    file.apply([key_record(f"s{n}", n=n) for n in range(100)])
    assert len(file) == 100
    assert list((tmp_path / "state").iterdir()) == []
    file.close()


def test_records_can_be_rewritten_while_they_are_walked() -> None:
    """As `Vault.rewrap` does: every record read once, each replaced while the walk goes on."""
    file = KeyFile()
    file.apply([key_record(f"s{n:04d}", n=n) for n in range(2500)])
    seen = []
    for record in file.records():
        seen.append(record.subject_id)
        file.apply([key_record(record.subject_id, master="m2")])
    assert len(seen) == len(set(seen)) == 2500
    assert {r.wrapped.master_key_id for r in file.records()} == {"m2"}
    file.close()


def _subject(record: KeyRecord) -> str:
    return record.subject_id
