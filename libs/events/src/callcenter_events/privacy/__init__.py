"""Personal data in events: sealed per data subject, erasable by destroying the subject's key.

Each data subject (a tenant's customer, or a caller known only by phone number) has its own data
key. Personal fields travel sealed (AES-GCM under that key); the subject's key is kept wrapped by
a master key in a compacted topic that every service reads. Erasure destroys the key: every copy
of the sealed values, in the log and in projections, becomes unreadable at once and in every
replay, while the rest of each event (times, topics, counts) stays as it was.
"""

from callcenter_events.privacy.keystore import (
    KeyRecord,
    KeyStore,
    KeyStoreUnavailableError,
    MemoryKeyStore,
)
from callcenter_events.privacy.master import KeyWrapper, MasterKeys, UnknownMasterKeyError
from callcenter_events.privacy.sealing import (
    SEALED_PREFIX,
    SealedValueError,
    TamperedValueError,
    is_sealed,
)
from callcenter_events.privacy.vault import SubjectRef, Vault

__all__ = [
    "SEALED_PREFIX",
    "KeyRecord",
    "KeyStore",
    "KeyStoreUnavailableError",
    "KeyWrapper",
    "MasterKeys",
    "MemoryKeyStore",
    "SealedValueError",
    "SubjectRef",
    "TamperedValueError",
    "UnknownMasterKeyError",
    "Vault",
    "is_sealed",
]
