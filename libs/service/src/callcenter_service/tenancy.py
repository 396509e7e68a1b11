"""Which tenant a request acts for: a key's own, or the one the operator names."""

from __future__ import annotations

from fastapi import Request

from callcenter_service.directory import Principal, TenantDirectory
from callcenter_service.problems import ProblemError

CATCH_UP_S = 2.0


async def acting_tenant(request: Request, caller: Principal, named: str | None) -> str:
    """A key acts for its own tenant (naming another is 404); the operator names an existing one.

    A tenant this instance does not know yet (created in intake a moment ago) is looked for
    once more after reading the tenants topic to its end.
    """
    if caller.tenant_id is not None:
        if named not in (None, caller.tenant_id):
            raise ProblemError(404, f"No tenant {named!r}.")
        return caller.tenant_id
    if named is None:
        raise ProblemError(422, "The operator must name `tenant_id`.")
    directory: TenantDirectory = request.app.state.directory.directory
    if named not in directory.tenants:
        await request.app.state.directory.catch_up(CATCH_UP_S)
    if named not in directory.tenants:
        raise ProblemError(404, f"No tenant {named!r}.")
    return named
