from __future__ import annotations

from callcenter_service import ServiceSettings
from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore", populate_by_name=True)

    port: int = 8001
    database_url: str = Field(
        "sqlite:///.local/intake.sqlite3",
        validation_alias=AliasChoices("INTAKE_DATABASE_URL"),
        description="Intake's own store (idempotency keys); never shared with another service",
    )
