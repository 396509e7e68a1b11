"""A service started as a real process (`python -m <service>`), as operations would run it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServiceProcess:
    def __init__(self, module: str, *, port: int, env: dict[str, str], log_dir: Path) -> None:
        self.module = module
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._env = os.environ | env | {f"{module.upper()}_PORT": str(port)}
        self._log_path = log_dir / f"{module}-{port}.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> ServiceProcess:
        log = self._log_path.open("ab")
        self._process = subprocess.Popen(
            [sys.executable, "-m", self.module], env=self._env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        return self

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"{self.module} exited early; log:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{self.module} not ready in {timeout}s; log:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, nothing flushed; what a crash or an OOM kill does."""
        self._signal(signal.SIGKILL)

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM and wait: the graceful shutdown an orchestrator asks for."""
        if self._process is None or self._process.poll() is not None:
            return self._process.returncode if self._process else None
        self._signal(signal.SIGTERM)
        try:
            return self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return self._process.wait(5)

    @property
    def log_path(self) -> Path:
        """Where the process's stdout and stderr go (its JSON log lines)."""
        return self._log_path

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def log_tail(self, lines: int = 40) -> str:
        if not self._log_path.exists():
            return "(no log)"
        return "\n".join(self._log_path.read_text(errors="replace").splitlines()[-lines:])

    def _signal(self, signum: int) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signum)
            if signum == signal.SIGKILL:
                self._process.wait(10)
