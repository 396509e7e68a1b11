"""How every Kafka client of the platform connects: TLS and SASL settings, read in one place.

The environment decides (the same variables in every service, set by the Kubernetes manifests):

* `KAFKA_SECURITY_PROTOCOL`: `PLAINTEXT` (default), `SSL`, `SASL_PLAINTEXT` or `SASL_SSL`;
* `KAFKA_SASL_MECHANISM`: `SCRAM-SHA-512` (default), `SCRAM-SHA-256` or `PLAIN`;
* `KAFKA_SASL_USERNAME`, `KAFKA_SASL_PASSWORD`: required with a SASL protocol, refused without;
* `KAFKA_SSL_CAFILE`: the CA that signed the brokers' certificates (system CAs when unset);
* `KAFKA_SSL_CERTFILE`, `KAFKA_SSL_KEYFILE`: the client's certificate and key (mutual TLS).

Every client (producer, consumers, admin clients) takes an optional `connection`; without one it
reads the environment, so no client of a service can connect differently from the others.
Settings that cannot work (SASL without credentials, TLS files with a plaintext protocol, a
missing file) are refused when read, naming the variable. The password is a `SecretStr`: it
appears in no repr and no log, only in the options handed to aiokafka.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from ssl import SSLContext
from typing import Any, Literal

from aiokafka.helpers import create_ssl_context
from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]


class KafkaConnection(BaseSettings):
    """TLS and SASL settings of the platform's Kafka clients (`KafkaConnection()` reads the env)."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    security_protocol: SecurityProtocol = Field(
        "PLAINTEXT", validation_alias=AliasChoices("KAFKA_SECURITY_PROTOCOL")
    )
    sasl_mechanism: SaslMechanism = Field(
        "SCRAM-SHA-512", validation_alias=AliasChoices("KAFKA_SASL_MECHANISM")
    )
    sasl_username: str | None = Field(None, validation_alias=AliasChoices("KAFKA_SASL_USERNAME"))
    sasl_password: SecretStr | None = Field(
        None, validation_alias=AliasChoices("KAFKA_SASL_PASSWORD")
    )
    ssl_cafile: Path | None = Field(None, validation_alias=AliasChoices("KAFKA_SSL_CAFILE"))
    ssl_certfile: Path | None = Field(None, validation_alias=AliasChoices("KAFKA_SSL_CERTFILE"))
    ssl_keyfile: Path | None = Field(None, validation_alias=AliasChoices("KAFKA_SSL_KEYFILE"))

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> KafkaConnection:
        """The settings a process with exactly this environment would read (tests, tools)."""
        return cls.model_validate(dict(environ))

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    @model_validator(mode="after")
    def _consistent(self) -> KafkaConnection:
        _check_sasl(self)
        _check_tls(self)
        return self

    def client_options(self) -> dict[str, Any]:
        """The keyword arguments for aiokafka's producer, consumer and admin client.

        Empty for `PLAINTEXT`, so clients are built exactly as before. Holds the password in
        clear: hand it to aiokafka, never log it.
        """
        options: dict[str, Any] = {}
        if self.security_protocol == "PLAINTEXT":
            return options
        options["security_protocol"] = self.security_protocol
        if self.uses_sasl:
            assert self.sasl_password is not None  # checked by the validator
            options["sasl_mechanism"] = self.sasl_mechanism
            options["sasl_plain_username"] = self.sasl_username
            options["sasl_plain_password"] = self.sasl_password.get_secret_value()
        if self.uses_tls:
            options["ssl_context"] = self.ssl_context()
        return options

    def ssl_context(self) -> SSLContext:
        """A client TLS context that verifies the broker's certificate and host name."""
        context: SSLContext = create_ssl_context(
            cafile=self.ssl_cafile, certfile=self.ssl_certfile, keyfile=self.ssl_keyfile
        )
        return context

    def describe(self) -> dict[str, str | None]:
        """What a log line may say about the connection (no secret)."""
        return {
            "security_protocol": self.security_protocol,
            "sasl_mechanism": self.sasl_mechanism if self.uses_sasl else None,
            "sasl_username": self.sasl_username if self.uses_sasl else None,
        }


def _check_sasl(connection: KafkaConnection) -> None:
    protocol = connection.security_protocol
    has_password = connection.sasl_password is not None and bool(
        connection.sasl_password.get_secret_value()
    )
    if connection.uses_sasl:
        if not connection.sasl_username:
            raise ValueError(
                f"KAFKA_SASL_USERNAME must be set when KAFKA_SECURITY_PROTOCOL={protocol}"
            )
        if not has_password:
            raise ValueError(
                f"KAFKA_SASL_PASSWORD must be set when KAFKA_SECURITY_PROTOCOL={protocol}"
            )
    elif connection.sasl_username or has_password:
        raise ValueError(
            "KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD are set but"
            f" KAFKA_SECURITY_PROTOCOL={protocol} does not use SASL: set it to SASL_SSL"
        )


def _check_tls(connection: KafkaConnection) -> None:
    files = {
        "KAFKA_SSL_CAFILE": connection.ssl_cafile,
        "KAFKA_SSL_CERTFILE": connection.ssl_certfile,
        "KAFKA_SSL_KEYFILE": connection.ssl_keyfile,
    }
    given = {name: path for name, path in files.items() if path is not None}
    if given and not connection.uses_tls:
        raise ValueError(
            f"{', '.join(given)} set but KAFKA_SECURITY_PROTOCOL={connection.security_protocol}"
            " does not use TLS: set it to SSL or SASL_SSL"
        )
    for name, path in given.items():
        if not path.is_file():
            raise ValueError(f"{name}={path}: no such file")
    if connection.ssl_keyfile is not None and connection.ssl_certfile is None:
        raise ValueError("KAFKA_SSL_KEYFILE is set without KAFKA_SSL_CERTFILE")


def client_options(connection: KafkaConnection | None = None) -> dict[str, Any]:
    """The security options of a client: `connection`'s, or the environment's when None."""
    return (connection if connection is not None else KafkaConnection()).client_options()
