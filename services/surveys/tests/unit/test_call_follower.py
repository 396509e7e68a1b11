"""A completed inbound call invites its caller to the tenant's post-call survey, once."""

from __future__ import annotations

from pathlib import Path

from callcenter_events import Envelope, wrap
from callcenter_events.bus import InMemoryBus
from callcenter_events.models import CallWrappedUp, TenantCreated, TenantSettings
from callcenter_events.store import make_engine
from callcenter_events.testing import RECEIVED_AT, call_received
from callcenter_events.topics import CALLS, SURVEYS
from callcenter_service.directory import TenantDirectory
from sqlmodel import Session
from surveys.handlers import CallFollower, invitation_id_of
from surveys.surveystore import SurveyProjection, SurveyVersion

QUESTION = {"id": "nps", "type": "nps", "text": "Recommend us?"}


def _wrapped_up(call_id: str, tenant_id: str = "acme") -> Envelope:
    event = CallWrappedUp(
        call_id=call_id, tenant_id=tenant_id, disposition="solved", wrapped_up_at=RECEIVED_AT
    )
    return wrap(event, source="/test", correlation_id=f"corr-{call_id}")


def _directory(**surveys: str | None) -> TenantDirectory:
    directory = TenantDirectory()
    for tenant, survey in surveys.items():
        settings = TenantSettings(post_call_survey_id=survey)
        event = TenantCreated(
            tenant_id=tenant, name=tenant, settings=settings, created_at=RECEIVED_AT
        )
        directory.apply(wrap(event, source="/test", correlation_id="c"))
    return directory


async def test_an_inbound_call_wrapped_up_invites_its_caller_once(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/surveys.sqlite3")
    SurveyProjection().create_tables(engine)
    with Session(engine) as session:
        session.add(
            SurveyVersion(
                survey_id="sv-1",
                version=2,
                tenant_id="acme",
                name="After the call",
                kind="post_call",
                questions=[QUESTION],
                defined_at=RECEIVED_AT,
            )
        )
        session.commit()
    bus = InMemoryBus()
    inbound = call_received("c-in")
    for envelope in (
        inbound,
        call_received("c-out", direction="outbound"),
        call_received("c-other", tenant_id="globex"),
        _wrapped_up("c-in"),
        _wrapped_up("c-out"),
        _wrapped_up("c-other", "globex"),
    ):
        await bus.publish(envelope)
    follower = CallFollower(engine, lambda: _directory(acme="sv-1", globex=None), bus)
    follower.create_tables()
    await bus.deliver(follower.handle, group="surveys", topics=[CALLS.name()], reader=None)
    await bus.publish(_wrapped_up("c-in"))  # the wrap-up delivered again (a new envelope)
    await bus.deliver(follower.handle, group="surveys", topics=[CALLS.name()], reader=None)

    invited = [e for e in bus.envelopes(SURVEYS.name()) if e.type == "survey.invited"]
    assert {e.id for e in invited} == {invitation_id_of("c-in")}, "one invitation, same id"
    event = invited[0].data
    assert (event.call_id, event.survey_id, event.version) == ("c-in", "sv-1", 2)  # type: ignore[attr-defined]
    assert invited[0].data_subject == inbound.data_subject, "sealed for the caller"
