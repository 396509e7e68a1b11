"""The Kafka connection settings: defaults, validation, aiokafka options, the hidden password."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import pytest
from callcenter_events.connection import KafkaConnection, client_options
from pydantic import ValidationError

SASL = {
    "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
    "KAFKA_SASL_USERNAME": "intake",
    "KAFKA_SASL_PASSWORD": "s3cret-pa55",
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*SASL, "KAFKA_SASL_MECHANISM", "KAFKA_SSL_CAFILE", "KAFKA_SSL_CERTFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("KAFKA_SSL_KEYFILE", raising=False)


@pytest.fixture(scope="module")
def ca_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=test-ca", "-keyout", str(folder / "ca.key")),
            *("-out", str(folder / "ca.pem")),
        ],
        check=True,
        capture_output=True,
    )
    return folder / "ca.pem"


def test_by_default_nothing_changes_for_plaintext_users() -> None:
    assert KafkaConnection.from_environ({}) == KafkaConnection()
    connection = KafkaConnection()
    assert connection.security_protocol == "PLAINTEXT"
    assert connection.sasl_mechanism == "SCRAM-SHA-512"
    assert connection.client_options() == {}
    assert client_options() == {}


def test_sasl_options_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SASL.items():
        monkeypatch.setenv(name, value)
    assert client_options() == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "intake",
        "sasl_plain_password": "s3cret-pa55",
    }


def test_sasl_ssl_builds_a_verifying_tls_context(ca_file: Path) -> None:
    settings = SASL | {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SSL_CAFILE": str(ca_file)}
    connection = KafkaConnection.from_environ(settings)
    options = connection.client_options()
    assert options["security_protocol"] == "SASL_SSL"
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert [c["subject"] for c in context.get_ca_certs()] == [((("commonName", "test-ca"),),)]


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "PLAIN"])
def test_other_sasl_mechanisms_are_allowed(mechanism: str) -> None:
    connection = KafkaConnection.from_environ(SASL | {"KAFKA_SASL_MECHANISM": mechanism})
    assert connection.client_options()["sasl_mechanism"] == mechanism


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "KAFKA_SASL_USERNAME must be set"),
        (SASL | {"KAFKA_SASL_PASSWORD": ""}, "KAFKA_SASL_PASSWORD must be set"),
        ({"KAFKA_SASL_USERNAME": "intake"}, "does not use SASL"),
        ({"KAFKA_SECURITY_PROTOCOL": "TLS"}, "KAFKA_SECURITY_PROTOCOL"),
        (SASL | {"KAFKA_SASL_MECHANISM": "GSSAPI"}, "KAFKA_SASL_MECHANISM"),
        ({"KAFKA_SSL_CAFILE": "/etc/hostname"}, "does not use TLS"),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CAFILE": "/no/such/ca.pem"},
            "KAFKA_SSL_CAFILE=/no/such/ca.pem: no such file",
        ),
    ],
)
def test_settings_that_cannot_work_are_refused_naming_the_variable(
    settings: dict[str, str], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        KafkaConnection.from_environ(settings)


def test_a_key_without_its_certificate_is_refused(ca_file: Path) -> None:
    with pytest.raises(ValidationError, match="KAFKA_SSL_KEYFILE is set without"):
        KafkaConnection.from_environ(
            {"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_KEYFILE": str(ca_file)}
        )


def test_the_password_appears_in_no_repr_or_description() -> None:
    connection = KafkaConnection.from_environ(SASL)
    for text in (repr(connection), str(connection), str(connection.describe())):
        assert "s3cret-pa55" not in text
    assert "s3cret-pa55" not in connection.model_dump_json()
    assert connection.describe()["sasl_username"] == "intake"


def test_a_service_with_bad_kafka_settings_fails_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    from callcenter_service.settings import ServiceSettings  # noqa: PLC0415

    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    with pytest.raises(ValidationError, match="KAFKA_SASL_USERNAME must be set"):
        ServiceSettings()
