"""The local secured broker for tests: `deploy/kafka-secure.sh` started, users logged in.

The script resolves the broker's jars, makes a CA, the SCRAM users and each service's ACLs, so
a fresh clone with Java, Maven and the project's Python needs nothing else. A broker that was
already running is reused and left running; one started here is stopped by `stop()`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from callcenter_events.connection import KafkaConnection

REPO = Path(__file__).resolve().parents[4]
SCRIPT = REPO / "deploy" / "kafka-secure.sh"
START_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class SecuredBroker:
    """Where it listens, how to reach it, every user's password; `started` if we started it."""

    settings: dict[str, str]
    passwords: dict[str, str]
    started: bool

    @property
    def bootstrap(self) -> str:
        return self.settings["KAFKA_BOOTSTRAP_SERVERS"]

    def env(self, user: str, password: str | None = None) -> dict[str, str]:
        """The environment a service logged in as `user` gets (what the k8s manifests set)."""
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "KAFKA_SECURITY_PROTOCOL": self.settings["KAFKA_SECURITY_PROTOCOL"],
            "KAFKA_SASL_MECHANISM": self.settings["KAFKA_SASL_MECHANISM"],
            "KAFKA_SSL_CAFILE": self.settings["KAFKA_SSL_CAFILE"],
            "KAFKA_SASL_USERNAME": user,
            "KAFKA_SASL_PASSWORD": self.passwords[user] if password is None else password,
        }

    def connection(self, user: str, password: str | None = None) -> KafkaConnection:
        """The connection settings a service reads from that environment."""
        return KafkaConnection.from_environ(self.env(user, password))

    def stop(self) -> None:
        if self.started:
            _run("down")


def start_secured_broker() -> SecuredBroker:
    """Start the secured broker (or reuse the running one) and read its settings."""
    running = subprocess.run([SCRIPT, "status"], capture_output=True, check=False).returncode == 0
    output = _run("up")
    settings = dict(line.split("=", 1) for line in output.splitlines() if "=" in line)
    credentials = Path(settings["KAFKA_CREDENTIALS_FILE"]).read_text()
    passwords = dict(line.split("=", 1) for line in credentials.splitlines() if line)
    return SecuredBroker(settings, passwords, started=not running)


def _run(command: str) -> str:
    done = subprocess.run(
        [SCRIPT, command],
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
        env=os.environ | {"CALLCENTER_PYTHON": sys.executable},
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{SCRIPT.name} {command} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout
