"""Closed-loop maximum load with wrk (Debian's wrk 4), and the parsing of its report."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.servers import BenchError

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_PERCENTILE = re.compile(r"^\s*(\d+(?:\.\d+)?)%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.MULTILINE)
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_TOTAL = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h),", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


@dataclass(frozen=True, slots=True)
class WrkResult:
    requests_per_s: float
    requests: int
    seconds: float
    percentiles_ms: dict[float, float]
    non_2xx: int
    socket_errors: int
    output: str

    @property
    def p50_ms(self) -> float:
        return self.percentiles_ms[50.0]

    @property
    def p99_ms(self) -> float:
        return self.percentiles_ms[99.0]

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors

    @property
    def socket_error_detail(self) -> str:
        """wrk's own line, e.g. `Socket errors: connect 0, read 0, write 0, timeout 2`."""
        found = _SOCKET.search(self.output)
        return found.group(0) if found else ""


def ensure_wrk() -> str:
    """The path of wrk; installs Debian's package when it is missing and we are root."""
    found = shutil.which("wrk")
    if found:
        return found
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        raise BenchError(
            "wrk is not installed and cannot be installed here (needs root and apt-get); "
            "install it with `sudo apt-get install -y wrk` and run again"
        )
    print("wrk is missing: installing it with apt-get (Debian package wrk)", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}

    def apt_get(*args: str) -> int:
        done = subprocess.run(
            [apt, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, check=False
        )
        return done.returncode

    if apt_get("install", "-y", "wrk") != 0:
        apt_get("update")
        apt_get("install", "-y", "wrk")
    found = shutil.which("wrk")
    if found is None:
        raise BenchError("`apt-get install -y wrk` failed; install wrk by hand and run again")
    return found


# Per thread: a random prefix from /dev/urandom (every wrk run, warm-up or measured, and every
# thread gets its own), then a counter; wrk.format() builds the request from wrk.method etc.
_FRESH_IDEMPOTENCY_KEY = """
local prefix, counter = '', 0

function init(args)
  local urandom = assert(io.open('/dev/urandom', 'rb'))
  local bytes = urandom:read(8)
  urandom:close()
  prefix = (bytes:gsub('.', function(c) return string.format('%02x', c:byte()) end)) .. '-'
end

function request()
  counter = counter + 1
  wrk.headers['Idempotency-Key'] = prefix .. counter
  return wrk.format()
end
"""


def write_post_script(
    path: Path, body: str, token: str, *, fresh_idempotency_key: bool = False
) -> Path:
    """A wrk Lua script that POSTs `body` as JSON with a Bearer token.

    With `fresh_idempotency_key` every request carries an `Idempotency-Key` never sent before.
    """
    # A JSON string literal of ASCII text is also a valid Lua string literal.
    path.write_text(
        f"wrk.method = 'POST'\n"
        f"wrk.body = {json.dumps(body)}\n"
        f"wrk.headers['Content-Type'] = 'application/json'\n"
        f"wrk.headers['Authorization'] = {json.dumps('Bearer ' + token)}\n"
        + (_FRESH_IDEMPOTENCY_KEY if fresh_idempotency_key else "")
    )
    return path


def run_wrk(
    wrk: str, url: str, script: Path, *, seconds: float, threads: int, connections: int
) -> WrkResult:
    command = [
        wrk,
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={max(1, round(seconds))}s",
        "--latency",
        f"--script={script}",
        url,
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


def parse_wrk(output: str) -> WrkResult:
    rate = _RATE.search(output)
    total = _TOTAL.search(output)
    percentiles = {float(p): float(v) * _UNITS_MS[u] for p, v, u in _PERCENTILE.findall(output)}
    if rate is None or total is None or 50.0 not in percentiles or 99.0 not in percentiles:
        raise BenchError(f"cannot read wrk's report (was --latency given?):\n{output}")
    non_2xx = _NON_2XX.search(output)
    socket = _SOCKET.search(output)
    return WrkResult(
        requests_per_s=float(rate.group(1)),
        requests=int(total.group(1)),
        seconds=float(total.group(2)) * _UNITS_MS[total.group(3)] / 1000,
        percentiles_ms=percentiles,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in socket.groups()) if socket else 0,
        output=output,
    )
