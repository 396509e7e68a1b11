"""The registry of event types, their schema versions and their upcasters.

Every event type has one model (its current schema version), one owning service, one topic and
the name of the field that is its partition key. Old versions stay readable forever: an upcaster
turns the data of version N into the data of version N + 1, and the registry chains them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

from callcenter_events.topics import Topic

JsonObject = dict[str, Any]
Upcaster = Callable[[JsonObject], JsonObject]


class Event(BaseModel):
    """Base of every event model: a frozen value; unknown fields are ignored (additive changes).

    Numbers are finite: JSON has no NaN or infinity, so an event holding one could be read (some
    parsers take `NaN`, `Infinity`, `1e400`) but never written again. Nested models say so too.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", allow_inf_nan=False)

    event_type: ClassVar[str]
    schema_version: ClassVar[int]


M = TypeVar("M", bound=Event)


@dataclass(frozen=True, slots=True)
class EventSpec:
    """What the registry knows of one event type."""

    event_type: str
    version: int
    model: type[Event]
    topic: Topic
    key_field: str
    owner: str


class UnknownEventTypeError(LookupError):
    pass


class UnsupportedSchemaVersionError(ValueError):
    pass


class EventRegistry:
    def __init__(self) -> None:
        self._specs: dict[str, EventSpec] = {}
        self._by_model: dict[type[Event], EventSpec] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def register(
        self, type_: str, *, version: int, topic: Topic, key: str, owner: str
    ) -> Callable[[type[M]], type[M]]:
        """Class decorator: `@registry.register("call.received", version=2, ...)`."""

        def decorate(model: type[M]) -> type[M]:
            if type_ in self._specs:
                raise ValueError(f"event type {type_!r} is registered twice")
            if key not in model.model_fields:
                raise ValueError(f"{model.__name__} has no partition key field {key!r}")
            model.event_type = type_
            model.schema_version = version
            spec = EventSpec(type_, version, model, topic, key, owner)
            self._specs[type_] = spec
            self._by_model[model] = spec
            return model

        return decorate

    def upcaster(self, type_: str, *, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator for a function that turns version `from_version` into the next version."""

        def decorate(fn: Upcaster) -> Upcaster:
            self._upcasters[(type_, from_version)] = fn
            return fn

        return decorate

    def spec(self, type_: str) -> EventSpec:
        try:
            return self._specs[type_]
        except KeyError:
            raise UnknownEventTypeError(f"unknown event type {type_!r}") from None

    def spec_of(self, event: Event) -> EventSpec:
        return self._by_model[type(event)]

    def is_known(self, type_: str) -> bool:
        return type_ in self._specs

    def specs(self) -> list[EventSpec]:
        return sorted(self._specs.values(), key=lambda s: s.event_type)

    def upcast(self, type_: str, version: int, data: JsonObject) -> JsonObject:
        """Bring `data` written as `version` of `type_` up to the current version."""
        current = self.spec(type_).version
        if version > current:
            raise UnsupportedSchemaVersionError(
                f"unknown future schema version {version} of {type_!r} "
                f"(this reader knows up to {current})"
            )
        if version < 1:
            raise UnsupportedSchemaVersionError(
                f"schema version {version} of {type_!r} is not valid"
            )
        for step in range(version, current):
            upcaster = self._upcasters.get((type_, step))
            if upcaster is None:
                raise UnsupportedSchemaVersionError(f"no upcaster from version {step} of {type_!r}")
            data = upcaster(data)
        return data


REGISTRY = EventRegistry()
"""The platform's one registry; the models in `callcenter_events.models` register themselves."""
