from __future__ import annotations

from callcenter_service import ServiceSettings
from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict


class AnalyticsSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="ANALYTICS_", extra="ignore", populate_by_name=True
    )

    port: int = 8004
    database_url: str = Field(
        "sqlite:///.local/analytics.sqlite3", validation_alias=AliasChoices("DATABASE_URL")
    )
    builds_poll_s: float = Field(
        1.0, gt=0, description="How often an instance looks for builds to start, swap or drop"
    )
