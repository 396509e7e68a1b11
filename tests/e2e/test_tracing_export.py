"""`CALLCENTER_OTEL_ENABLED=true`: a service exports its spans over OTLP/HTTP, flushed at stop.

A few lines of HTTP server stand in for the collector and keep what is POSTed to /v1/traces.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from callcenter_testkit import ServiceProcess, free_port
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]
OPERATOR = "otel-operator-token"
CALL = {"tenant_id": "acme", "caller_phone": "+4930123456", "language": "de", "topic": "billing"}


class Collector(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Receive)
        self.exports: list[tuple[str, bytes]] = []

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def spans(self) -> list[tuple[str, Any]]:
        """Every span received, with the service name of its resource."""
        found: list[tuple[str, Any]] = []
        for path, body in list(self.exports):
            assert path == "/v1/traces", path
            request = ExportTraceServiceRequest.FromString(body)
            for resource_spans in request.resource_spans:
                attributes = {
                    a.key: a.value.string_value for a in resource_spans.resource.attributes
                }
                for scope_spans in resource_spans.scope_spans:
                    found += [(attributes["service.name"], span) for span in scope_spans.spans]
        return found


class _Receive(BaseHTTPRequestHandler):
    server: Collector

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.exports.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        """Quiet."""


@pytest.fixture
def collector() -> Iterator[Collector]:
    server = Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def start_intake(bootstrap: str, prefix: str, tmp_path: Path, endpoint: str) -> ServiceProcess:
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "CALLCENTER_TOPIC_PREFIX": prefix,
        "CALLCENTER_OPERATOR_TOKEN": OPERATOR,
        "INTAKE_DATABASE_URL": f"sqlite:///{tmp_path / 'intake.sqlite3'}",
        "CALLCENTER_OTEL_ENABLED": "true",
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "600000",  # nothing leaves before the flush at stop
    }
    intake = ServiceProcess("intake", port=free_port(), env=env, log_dir=tmp_path)
    intake.start().wait_ready()
    return intake


def test_spans_are_exported_in_the_callers_trace_and_flushed_at_stop(
    collector: Collector, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)
    intake = start_intake(kafka_bootstrap, topic_prefix, tmp_path, collector.endpoint)
    try:
        auth = {"Authorization": f"Bearer {OPERATOR}"}
        with httpx.Client(base_url=intake.url, headers=auth, timeout=10) as client:
            made = client.post("/v1/tenants", json={"tenant_id": "acme", "name": "Acme"})
            assert made.status_code == 201, made.text
            traceparent = f"00-{trace_id}-{caller_span}-01"
            posted = client.post("/v1/calls", json=CALL, headers={"traceparent": traceparent})
            assert posted.status_code == 202, posted.text
            view = client.get(
                f"/v1/calls/{posted.json()['call_id']}",
                params={"min_position": posted.json()["position"]},
            )
            assert view.status_code == 200, view.text  # projected: its handling span ended
        assert collector.spans() == [], "batched: nothing sent before the stop"
    finally:
        intake.stop()  # SIGTERM: the service shuts down, flushing its spans

    ours = [span for service, span in collector.spans() if span.trace_id.hex() == trace_id]
    assert {service for service, _ in collector.spans()} == {"intake"}
    [server] = [span for span in ours if span.name == "POST /v1/calls"]
    assert server.parent_span_id.hex() == caller_span
    handled = [span for span in ours if span.name == "handle call.received"]
    assert handled, [span.name for span in ours]
    assert all(span.parent_span_id == server.span_id for span in handled)
