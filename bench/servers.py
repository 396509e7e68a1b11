"""Starting the HTTP servers under test as subprocesses, waiting for them, stopping them."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
READY_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 15.0


class BenchError(RuntimeError):
    """The benchmark cannot run (a missing tool, a server that does not start, ...)."""


@dataclass(frozen=True, slots=True)
class Server:
    name: str
    pid: int
    host: str
    port: int

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process used so far (from /proc)."""
        return process_cpu_seconds(self.pid)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # fields[0] is the state (field 3); utime and stime are fields 14 and 15
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def process_memory_mb(pid: int, field: str = "VmRSS") -> float:
    """A memory figure of a process from /proc (`VmRSS` now, `VmHWM` its peak), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise BenchError(f"no {field} in /proc/{pid}/status")


def _answers(host: str, port: int, path: str) -> bool:
    conn = http.client.HTTPConnection(host, port, timeout=2)
    try:
        conn.request("GET", path)
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextmanager
def running_server(
    name: str,
    args: list[str],
    *,
    port: int,
    ready_path: str,
    env: Mapping[str, str],
    log_dir: Path,
    ready_timeout_s: float = READY_TIMEOUT_S,
) -> Iterator[Server]:
    """Run `python <args>` until the block ends; ready once GET `ready_path` answers 200."""
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, *args],
            env={**os.environ, **env},
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + ready_timeout_s
        while not _answers(HOST, port, ready_path):
            if process.poll() is not None:
                raise BenchError(
                    f"{name} exited with {process.returncode} before it was ready; "
                    f"last lines of {log_path}:\n{_tail(log_path)}"
                )
            if time.monotonic() > deadline:
                raise BenchError(
                    f"{name} did not answer GET {ready_path} with 200 within "
                    f"{ready_timeout_s:.0f} s; last lines of {log_path}:\n{_tail(log_path)}"
                )
            time.sleep(0.1)  # polling interval, not a synchronisation
        yield Server(name=name, pid=process.pid, host=HOST, port=port)
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
