"""Post-call survey invitations: the telephony asks which survey to put to a caller."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from callcenter_events.store import as_utc
from callcenter_service import SurveysReader
from callcenter_service.problems import COMMON_PROBLEMS
from callcenter_service.projection import ProjectionRunner
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from surveys.surveystore import Invitation, invitations_of_call

router = APIRouter(prefix="/v1/invitations", tags=["surveys"], responses=COMMON_PROBLEMS)


class InvitationView(BaseModel):
    invitation_id: str
    survey_id: str
    version: int
    call_id: str
    invited_at: datetime
    answered: bool


class InvitationList(BaseModel):
    invitations: list[InvitationView]


@router.get("", response_model=InvitationList)
async def list_invitations(
    request: Request,
    caller: SurveysReader,
    call_id: Annotated[str, Query(max_length=64, description="The completed inbound call")],
) -> InvitationList:
    """The invitations a completed call produced (the tenant's post-call survey); may be empty."""
    runner: ProjectionRunner = request.app.state.surveys
    found = await runner.lookup(invitations_of_call, call_id)
    return InvitationList(invitations=[_view(row) for row in found if caller.sees(row.tenant_id)])


def _view(row: Invitation) -> InvitationView:
    return InvitationView(
        invitation_id=row.invitation_id,
        survey_id=row.survey_id,
        version=row.version,
        call_id=row.call_id,
        invited_at=as_utc(row.invited_at),
        answered=row.response_id is not None,
    )
