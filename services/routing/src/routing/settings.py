from __future__ import annotations

from callcenter_service import ServiceSettings
from pydantic_settings import SettingsConfigDict


class RoutingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ROUTING_", extra="ignore", populate_by_name=True)

    port: int = 8002
