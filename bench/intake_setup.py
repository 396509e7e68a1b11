"""Preparing intake for the load through its own API: a tenant, an API key, checked requests."""

from __future__ import annotations

import http.client
import json
from collections.abc import Mapping
from typing import Any

from bench.servers import BenchError, Server

# The most a tenant may have (`TenantSettings.api_rate_limit_per_s`): far above what one intake
# process serves, so the per-key token bucket is paid for but never answers 429.
RATE_LIMIT_PER_S = 10_000


def post_json(
    server: Server, path: str, body: str, token: str, headers: Mapping[str, str] | None = None
) -> tuple[int, Any]:
    """POST `body` (JSON text) with a Bearer token; answers the status and the decoded body."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=15)
    try:
        sent = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {token}",
            **(headers or {}),
        }
        conn.request("POST", path, body=body, headers=sent)
        answer = conn.getresponse()
        text = answer.read().decode(errors="replace")
    finally:
        conn.close()
    try:
        return answer.status, json.loads(text)
    except ValueError:
        return answer.status, text


def create_tenant(server: Server, operator_token: str, tenant_id: str) -> None:
    body = {
        "tenant_id": tenant_id,
        "name": f"Benchmark tenant {tenant_id}",
        "settings": {"api_rate_limit_per_s": RATE_LIMIT_PER_S},
    }
    status, answer = post_json(server, "/v1/tenants", json.dumps(body), operator_token)
    if status != 201:
        raise BenchError(f"{server.name}: POST /v1/tenants answered {status}: {answer}")


def create_api_key(server: Server, operator_token: str, tenant_id: str) -> str:
    """A new API key of the tenant with the scope `calls:write`."""
    path = f"/v1/tenants/{tenant_id}/api-keys"
    body = json.dumps({"scopes": ["calls:write"], "name": "bench"})
    status, answer = post_json(server, path, body, operator_token)
    if status != 201 or not isinstance(answer, dict) or "api_key" not in answer:
        raise BenchError(f"{server.name}: POST {path} answered {status}: {answer}")
    api_key: str = answer["api_key"]
    return api_key
