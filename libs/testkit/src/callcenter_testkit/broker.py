"""A broker of the test's own (`deploy/kafka.sh` with its own ports and state directory) that
the test may stop and start again with its data, without touching the shared broker.

`deploy/kafka.sh up` makes it (fresh storage, the project's single-node settings); `stop()`
sends SIGTERM (Kafka's controlled shutdown) and waits for the exit; `start_again()` runs the
very same command line again over the same data, as a restarted pod would; `down()` stops it
for good with `deploy/kafka.sh down`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from callcenter_testkit.processes import free_port

REPO = Path(__file__).resolve().parents[4]
SCRIPT = REPO / "deploy" / "kafka.sh"
START_TIMEOUT_S = 300.0
STOP_TIMEOUT_S = 60.0
HEAP = "-Xms128m -Xmx384m"


class DedicatedBroker:
    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.port = free_port()
        self.controller_port = free_port()
        self.bootstrap = f"localhost:{self.port}"
        self._command: list[str] = []
        self._process: subprocess.Popen[bytes] | None = None
        self._env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"} | {
            "KAFKA_STATE_DIR": str(state_dir),
            "KAFKA_PORT": str(self.port),
            "KAFKA_CONTROLLER_PORT": str(self.controller_port),
            "KAFKA_HEAP_OPTS": HEAP,
        }

    @property
    def _pid_file(self) -> Path:
        return self.state_dir / "kafka.pid"

    def up(self) -> str:
        """A fresh broker, ready; its bootstrap address."""
        done = subprocess.run(
            [SCRIPT, "up"],
            env=self._env,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"kafka.sh up failed ({done.returncode}):\n{done.stderr}")
        return self.bootstrap

    def stop(self) -> float:
        """SIGTERM and wait until the broker exited; seconds it took."""
        pid = int(self._pid_file.read_text())
        self._command = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]
        began = time.monotonic()
        os.kill(pid, signal.SIGTERM)
        if self._process is not None:  # started again by us: our child
            try:
                self._process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(10)
            return time.monotonic() - began
        while Path(f"/proc/{pid}").exists() and _state(pid) != "Z":
            if time.monotonic() - began > STOP_TIMEOUT_S:
                os.kill(pid, signal.SIGKILL)
            time.sleep(0.1)
        return time.monotonic() - began

    async def start_again(self, timeout: float = 120.0) -> float:
        """The same broker (same command line, same data) started again; seconds to ready."""
        assert self._command, "stop() first"
        began = time.monotonic()
        process = self._process = self._launch()
        self._pid_file.write_text(f"{process.pid}\n")
        while not await self._answers():
            if process.poll() is not None:
                raise RuntimeError(f"the broker exited with {process.returncode}")
            if time.monotonic() - began > timeout:
                raise TimeoutError(f"the broker was not ready in {timeout} s")
            await asyncio.sleep(0.2)
        return time.monotonic() - began

    def _launch(self) -> subprocess.Popen[bytes]:
        with (self.state_dir / "logs" / "kafka.out").open("ab") as out:
            return subprocess.Popen(
                self._command,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def down(self) -> None:
        """Stop it for good (our own child, once started again, is stopped and reaped here)."""
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(10)
            self._pid_file.unlink(missing_ok=True)
        subprocess.run([SCRIPT, "down"], env=self._env, capture_output=True, check=False)

    async def _answers(self) -> bool:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=3000)
        try:
            await admin.start()
            await admin.list_topics()
        except Exception:
            return False
        finally:
            with contextlib.suppress(Exception):
                await admin.close()
        return True


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (OSError, IndexError):
        return "Z"
