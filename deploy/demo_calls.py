"""A small, endless stream of demo calls for `make run`, printing the numbers as they move."""

from __future__ import annotations

import asyncio
import os
import random

import httpx

INTAKE = os.environ.get("DEMO_INTAKE_URL", "http://127.0.0.1:8001")
ANALYTICS = os.environ.get("DEMO_ANALYTICS_URL", "http://127.0.0.1:8004")
TENANTS = ("acme-energy", "globex-telecom", "initech-shop")
TOPICS = ("billing", "outage", "contract", "returns")
LANGUAGES = ("de", "en", "fr")
CALLS_PER_SECOND = float(os.environ.get("DEMO_CALLS_PER_SECOND", "0.6"))
PATIENCE_S = float(os.environ.get("DEMO_PATIENCE_S", "60"))  # mean wait before a caller hangs up


def _call(rng: random.Random) -> dict[str, object]:
    return {
        "tenant_id": rng.choice(TENANTS),
        "customer_ref": f"customer-{rng.randrange(5000)}",
        "language": rng.choice(LANGUAGES),
        "topic": rng.choice(TOPICS),
        "priority": rng.choice((0, 0, 0, 5, 9)),
    }


async def _offered_today(client: httpx.AsyncClient, position: str) -> dict[str, int]:
    answer = await client.get(
        f"{ANALYTICS}/v1/analytics/calls", params={"interval": "day", "min_position": position}
    )
    rows = answer.json().get("rows", []) if answer.status_code == 200 else []
    latest = max((row["period_start"] for row in rows), default="")
    return {row["tenant_id"]: row["offered"] for row in rows if row["period_start"] == latest}


async def _hang_up_if_waiting(
    client: httpx.AsyncClient, accepted: dict[str, str], patience: float
) -> None:
    """A caller who has waited longer than their patience hangs up (abandoned)."""
    await asyncio.sleep(patience)
    call = await client.get(f"{INTAKE}/v1/calls/{accepted['call_id']}")
    if call.status_code == 200 and call.json()["state"] in ("queued", "offered"):
        await client.post(f"{INTAKE}/v1/calls/{accepted['call_id']}/hangup", json={"by": "caller"})


async def main() -> None:
    token = os.environ.get("CALLCENTER_OPERATOR_TOKEN", "dev-operator-token")
    rng = random.Random()
    async with httpx.AsyncClient(
        headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as client:
        for tenant in TENANTS:  # 409 when a previous run created it: fine
            await client.post(f"{INTAKE}/v1/tenants", json={"tenant_id": tenant, "name": tenant})
        sent = 0
        callers: set[asyncio.Task[None]] = set()
        while True:
            answer = await client.post(f"{INTAKE}/v1/calls", json=_call(rng))
            sent += 1
            if answer.status_code == 202:
                patience = rng.expovariate(1 / PATIENCE_S)
                caller = asyncio.create_task(_hang_up_if_waiting(client, answer.json(), patience))
                callers.add(caller)
                caller.add_done_callback(callers.discard)
            if sent % 10 == 0 and answer.status_code == 202:
                offered = await _offered_today(client, answer.json()["position"])
                summary = ", ".join(
                    f"{tenant} {count}" for tenant, count in sorted(offered.items())
                )
                print(f"demo: {sent} calls sent; offered today: {summary}", flush=True)
            await asyncio.sleep(rng.expovariate(CALLS_PER_SECOND))


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    except httpx.TransportError as exc:
        print(f"demo: stopped, the services are not reachable ({exc!r})", flush=True)
