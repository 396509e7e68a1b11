from __future__ import annotations

from callcenter_service import ServiceSettings
from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict


class RoutingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ROUTING_", extra="ignore", populate_by_name=True)

    port: int = 8002
    database_url: str = Field(
        "sqlite:///.local/routing.sqlite3",
        validation_alias=AliasChoices("ROUTING_DATABASE_URL"),
        description="Routing's own store (the recorded decisions, for `GET .../routing`)",
    )
    heartbeat_timeout_s: float = Field(
        60.0,
        gt=0,
        description="An agent not heard from for this long goes offline (open offers withdrawn)",
    )
    snapshot_every_facts: int = Field(
        20_000, ge=1, description="A snapshot after this many facts (restarts fold fewer)"
    )
    snapshot_check_s: float = Field(10.0, gt=0, description="How often that count is checked")
