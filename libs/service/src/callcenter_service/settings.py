"""Settings every service reads from the environment (names fixed by the public contract)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from callcenter_events.connection import KafkaConnection
from callcenter_events.privacy.master import DEVELOPMENT_MASTER_KEYS
from pydantic import AliasChoices, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_OPERATOR_TOKEN = "dev-operator-token"
DEVELOPMENT_LOOKUP_SECRET = "dev-lookup-secret"


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
    create_topics: bool = Field(
        True,
        validation_alias=AliasChoices("CALLCENTER_CREATE_TOPICS"),
        description="False where topics are made by others (Strimzi KafkaTopics, no Create ACL)",
    )
    log_level: str = Field("INFO", validation_alias=AliasChoices("LOG_LEVEL"))
    otel_enabled: bool = Field(
        False,
        validation_alias=AliasChoices("CALLCENTER_OTEL_ENABLED"),
        description="Export spans over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT",
    )
    max_body_bytes: int = Field(
        256 * 1024, ge=1024, validation_alias=AliasChoices("CALLCENTER_MAX_BODY_BYTES")
    )
    master_keys: SecretStr = Field(
        SecretStr(DEVELOPMENT_MASTER_KEYS),
        validation_alias=AliasChoices("CALLCENTER_MASTER_KEYS"),
        description="id:base64url(32 bytes), comma separated, the first wraps new keys",
    )
    lookup_secret: SecretStr = Field(
        SecretStr(DEVELOPMENT_LOOKUP_SECRET),
        validation_alias=AliasChoices("CALLCENTER_LOOKUP_SECRET"),
        description="Keys the hashes that find a person's subject id; never rotate it casually",
    )
    state_dir: Path | None = Field(
        None,
        validation_alias=AliasChoices("CALLCENTER_STATE_DIR"),
        description="Scratch files rebuilt at each start (subject-key index); default: temp dir",
    )
    host: str = "127.0.0.1"
    port: int = 8000

    @model_validator(mode="after")
    def _kafka_connection_valid(self) -> ServiceSettings:
        """The clients read `KAFKA_SECURITY_PROTOCOL` & co. themselves: refuse bad ones at start."""
        try:
            KafkaConnection()
        except ValidationError as exc:
            raise ValueError("; ".join(str(e["msg"]) for e in exc.errors())) from None
        return self

    @model_validator(mode="after")
    def _no_default_secret_in_production(self) -> ServiceSettings:
        if self.environment != "production":
            return self
        defaults = {
            "CALLCENTER_OPERATOR_TOKEN": (self.operator_token, DEVELOPMENT_OPERATOR_TOKEN),
            "CALLCENTER_MASTER_KEYS": (self.master_keys, DEVELOPMENT_MASTER_KEYS),
            "CALLCENTER_LOOKUP_SECRET": (self.lookup_secret, DEVELOPMENT_LOOKUP_SECRET),
        }
        for name, (value, development) in defaults.items():
            if value.get_secret_value() == development:
                raise ValueError(f"{name} must be set in production")
        return self
