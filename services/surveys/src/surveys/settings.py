from __future__ import annotations

from callcenter_service import ServiceSettings
from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict


class SurveysSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SURVEYS_", extra="ignore", populate_by_name=True)

    port: int = 8003
    database_url: str = Field(
        "sqlite:///.local/surveys.sqlite3",
        validation_alias=AliasChoices("SURVEYS_DATABASE_URL"),
        description="Surveys' own store (customers, consent ledger); never shared",
    )
    max_import_bytes: int = Field(
        2 * 1024**3,
        ge=1024,
        description="The largest customer list `POST /v1/customers/import` reads (streamed)",
    )
    dial_interval_s: float = Field(
        1.0, gt=0, le=60, description="How often the dialer looks for calls that fit"
    )
