"""Settings every service reads from the environment (names fixed by the public contract)."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_OPERATOR_TOKEN = "dev-operator-token"


class ServiceSettings(BaseSettings):
    """Shared settings. Subclasses set an env prefix (`INTAKE_`, ...) for their own fields."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    kafka_bootstrap_servers: str = Field(
        "localhost:9092", validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS")
    )
    operator_token: SecretStr = Field(
        SecretStr(DEVELOPMENT_OPERATOR_TOKEN),
        validation_alias=AliasChoices("CALLCENTER_OPERATOR_TOKEN"),
    )
    environment: Literal["development", "production"] = Field(
        "development", validation_alias=AliasChoices("CALLCENTER_ENV")
    )
    topic_prefix: str = Field("", validation_alias=AliasChoices("CALLCENTER_TOPIC_PREFIX"))
    topic_replication_factor: int = Field(
        1, ge=1, validation_alias=AliasChoices("CALLCENTER_TOPIC_REPLICATION_FACTOR")
    )
    log_level: str = Field("INFO", validation_alias=AliasChoices("LOG_LEVEL"))
    max_body_bytes: int = Field(
        256 * 1024, ge=1024, validation_alias=AliasChoices("CALLCENTER_MAX_BODY_BYTES")
    )
    host: str = "127.0.0.1"
    port: int = 8000

    @model_validator(mode="after")
    def _no_default_secret_in_production(self) -> ServiceSettings:
        token = self.operator_token.get_secret_value()
        if self.environment == "production" and token == DEVELOPMENT_OPERATOR_TOKEN:
            raise ValueError("CALLCENTER_OPERATOR_TOKEN must be set in production")
        return self
