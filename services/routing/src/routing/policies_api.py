"""A tenant's routing policy: selection rule, offer timeout, escalation steps, wrap-up limit."""

from __future__ import annotations

from typing import Annotated

from callcenter_service import CallsReader, Operator, ProblemError
from callcenter_service.directory import TenantDirectory
from callcenter_service.fields import Identifier
from callcenter_service.problems import COMMON_PROBLEMS
from fastapi import APIRouter, Path, Request

from routing.commands import position_of, run, serving_core
from routing.domain import decisions as fx
from routing.domain.model import DEFAULT_POLICY, EscalationStep, Policy
from routing.schemas import EscalationStepIn, RoutingPolicyIn, RoutingPolicyView

router = APIRouter(
    prefix="/v1/routing-policies", tags=["routing policies"], responses=COMMON_PROBLEMS
)
TenantId = Annotated[Identifier, Path(description="The tenant whose calls the policy routes")]


@router.put("/{tenant_id}", response_model=RoutingPolicyView)
async def put_policy(
    tenant_id: TenantId, body: RoutingPolicyIn, request: Request, _caller: Operator
) -> RoutingPolicyView:
    """From now on: waiting calls escalate by the new steps (from when they were queued)."""
    settings = _tenant_settings(request, tenant_id)
    limit = body.wrap_up_limit_s if body.wrap_up_limit_s is not None else settings
    policy = Policy(
        selection=body.selection,
        offer_timeout_s=body.offer_timeout_s,
        escalation=tuple(
            EscalationStep(s.after_s, frozenset(s.drop_skills), dict(s.min_levels))
            for s in body.escalation
        ),
        wrap_up_limit_s=limit,
    )
    recorded = await run(request, lambda engine, now: engine.set_policy(tenant_id, policy, now))
    position = position_of(recorded, lambda e: isinstance(e, fx.PolicySet))
    return _view(tenant_id, policy, position)


@router.get("/{tenant_id}", response_model=RoutingPolicyView)
async def get_policy(
    tenant_id: TenantId, request: Request, caller: CallsReader
) -> RoutingPolicyView:
    """The policy in force (the default one until the operator sets another)."""
    if caller.tenant_id not in (None, tenant_id):
        raise ProblemError(404, f"No tenant {tenant_id!r}.")
    settings = _tenant_settings(request, tenant_id)
    policy = serving_core(request).engine.policies.get(tenant_id)
    if policy is None:
        policy = Policy(wrap_up_limit_s=settings)
    return _view(tenant_id, policy, None)


def _tenant_settings(request: Request, tenant_id: str) -> float:
    """The tenant's wrap-up limit (404 for a tenant that does not exist)."""
    directory: TenantDirectory = request.app.state.directory.directory
    tenant = directory.tenants.get(tenant_id)
    if tenant is None:
        raise ProblemError(404, f"No tenant {tenant_id!r}.")
    return float(tenant.settings.wrap_up_limit_s or DEFAULT_POLICY.wrap_up_limit_s)


def _view(tenant_id: str, policy: Policy, position: str | None) -> RoutingPolicyView:
    return RoutingPolicyView(
        tenant_id=tenant_id,
        selection=policy.selection,
        offer_timeout_s=policy.offer_timeout_s,
        escalation=[
            EscalationStepIn(
                after_s=step.after_s,
                drop_skills=sorted(step.drop_skills),
                min_levels=dict(step.min_levels),
            )
            for step in policy.escalation
        ],
        wrap_up_limit_s=policy.wrap_up_limit_s,
        position=position,
    )
