"""Routing's facts: the engine's effects as events for the log, and back again (pure).

Times travel as RFC 3339 datetimes with microseconds; the service's clock counts whole
microseconds, so a fact read back gives the engine the very time it was made at.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from callcenter_events import Event
from callcenter_events import models as ev
from callcenter_events.models.calls import CallQueued

from routing.domain import decisions as fx
from routing.domain.model import (
    EscalationStep,
    Offer,
    Policy,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
OFFER_CLOSED: dict[str, type[ev.OfferClosed]] = {
    "accepted": ev.CallConnected,
    "rejected": ev.OfferRejected,
    "missed": ev.OfferMissed,
    "withdrawn": ev.OfferWithdrawn,
}
OUTCOME_OF = {model.event_type: outcome for outcome, model in OFFER_CLOSED.items()}
FACT_TYPES = frozenset(
    {
        "call.queued",
        "call.offered",
        "call.dequeued",
        "call.escalated",
        "agent.updated",
        "agent.status_changed",
        "routing_policy.set",
        *OUTCOME_OF,
    }
)


def moment(seconds: float) -> datetime:
    return EPOCH + timedelta(microseconds=round(seconds * 1_000_000))


def seconds(at: datetime) -> float:
    return (at - EPOCH) // MICROSECOND / 1_000_000


def event_of(effect: fx.Effect, seq: int) -> Event:
    """The event that records `effect` as routing's fact number `seq`."""
    if isinstance(effect, fx.OfferMade):
        return _offered(effect, seq)
    if isinstance(effect, fx.OfferEnded):
        offer = effect.offer
        return OFFER_CLOSED[effect.outcome](seq=seq, closed_at=moment(effect.time), **_offer(offer))
    if isinstance(effect, fx.AgentChanged):
        return _status_changed(effect, seq)
    return _call_or_profile(effect, seq)


def _offer(offer: Offer) -> dict[str, object]:
    return {
        "offer_id": offer.offer_id,
        "call_id": offer.call_id,
        "tenant_id": offer.tenant_id,
        "agent_id": offer.agent_id,
        "offered_at": moment(offer.made_at),
        "expires_at": moment(offer.expires_at),
    }


def _offered(made: fx.OfferMade, seq: int) -> ev.CallOffered:
    decision = made.decision
    return ev.CallOffered(
        seq=seq,
        **_offer(made.offer),
        step=decision.step,
        requirements=decision.requirements,
        selection=decision.selection,
        candidates=[  # built from the engine's own values: no validation needed
            ev.CandidateRecord.model_construct(
                agent_id=c.agent_id, eligible=c.eligible, score=c.score, reason=c.reason
            )
            for c in decision.candidates
        ],
        tie_break=decision.tie_break,
        eligible_count=decision.eligible_count,
        not_listed=decision.not_listed,
    )


def _status_changed(changed: fx.AgentChanged, seq: int) -> ev.AgentStatusChanged:
    return ev.AgentStatusChanged(
        seq=seq,
        agent_id=changed.agent_id,
        status=changed.status,
        presence=changed.presence,
        change=ev.AgentChange(changed.change),
        reason=changed.reason,
        call_id=changed.call_id,
        changed_at=moment(changed.time),
    )


def _call_or_profile(effect: fx.Effect, seq: int) -> Event:
    if isinstance(effect, fx.CallEnqueued):
        return CallQueued(
            seq=seq,
            call_id=effect.call_id,
            tenant_id=effect.tenant_id,
            priority=effect.priority,
            requirements=effect.requirements,
            queued_at=moment(effect.time),
        )
    if isinstance(effect, fx.CallRemoved):
        return ev.CallDequeued(
            seq=seq,
            call_id=effect.call_id,
            tenant_id=effect.tenant_id,
            reason=effect.reason,
            dequeued_at=moment(effect.time),
        )
    if isinstance(effect, fx.CallEscalated):
        return ev.CallEscalated(
            seq=seq,
            call_id=effect.call_id,
            tenant_id=effect.tenant_id,
            step=effect.step,
            requirements=effect.requirements,
            escalated_at=moment(effect.time),
        )
    if isinstance(effect, fx.AgentUpdated):
        return ev.AgentUpdated(
            seq=seq,
            agent_id=effect.agent_id,
            name=effect.name,
            skills=effect.skills,
            capacity=effect.capacity,
            updated_at=moment(effect.time),
        )
    assert isinstance(effect, fx.PolicySet)
    return policy_event(effect.tenant_id, effect.policy, effect.time, seq)


def policy_event(tenant_id: str, policy: Policy, at: float, seq: int) -> ev.RoutingPolicySet:
    return ev.RoutingPolicySet(
        seq=seq,
        tenant_id=tenant_id,
        selection=policy.selection,
        offer_timeout_s=policy.offer_timeout_s,
        escalation=[
            ev.EscalationStepRecord(
                after_s=step.after_s,
                drop_skills=sorted(step.drop_skills),
                min_levels=dict(step.min_levels),
            )
            for step in policy.escalation
        ],
        wrap_up_limit_s=policy.wrap_up_limit_s,
        set_at=moment(at),
    )


def policy_of(event: ev.RoutingPolicySet) -> Policy:
    return Policy(
        selection=event.selection,
        offer_timeout_s=event.offer_timeout_s,
        escalation=tuple(
            EscalationStep(step.after_s, frozenset(step.drop_skills), dict(step.min_levels))
            for step in event.escalation
        ),
        wrap_up_limit_s=event.wrap_up_limit_s,
    )


def effect_of(event: Event) -> fx.Effect:
    """The engine effect an event records (for `Engine.restore`)."""
    if isinstance(event, ev.CallOffered):
        return _made(event)
    if isinstance(event, ev.OfferClosed):
        offer = Offer(
            event.offer_id,
            event.call_id,
            event.tenant_id,
            event.agent_id,
            seconds(event.offered_at),
            seconds(event.expires_at),
        )
        outcome = OUTCOME_OF[event.event_type]
        return fx.OfferEnded(offer, outcome, seconds(event.closed_at))  # type: ignore[arg-type]
    if isinstance(event, ev.AgentStatusChanged):
        return fx.AgentChanged(
            event.agent_id,
            event.status,
            event.reason,
            seconds(event.changed_at),
            event.change.value,
            event.presence,
            event.call_id,
        )
    return _call_or_profile_effect(event)


def _made(event: ev.CallOffered) -> fx.OfferMade:
    offer = Offer(
        event.offer_id,
        event.call_id,
        event.tenant_id,
        event.agent_id,
        seconds(event.offered_at),
        seconds(event.expires_at),
    )
    decision = fx.Decision(
        time=offer.made_at,
        call_id=event.call_id,
        tenant_id=event.tenant_id,
        agent_id=event.agent_id,
        offer_id=event.offer_id,
        step=event.step,
        requirements=dict(event.requirements),
        selection=event.selection,
        candidates=tuple(
            fx.Candidate(c.agent_id, c.eligible, c.score, c.reason) for c in event.candidates
        ),
        tie_break=event.tie_break,
        eligible_count=event.eligible_count,
        not_listed=event.not_listed,
    )
    return fx.OfferMade(decision, offer)


def _call_or_profile_effect(event: Event) -> fx.Effect:
    if isinstance(event, CallQueued):
        return fx.CallEnqueued(
            event.call_id,
            event.tenant_id,
            event.priority,
            dict(event.requirements),
            seconds(event.queued_at),
        )
    if isinstance(event, ev.CallDequeued):
        return fx.CallRemoved(
            event.call_id, event.tenant_id, event.reason, seconds(event.dequeued_at)
        )
    if isinstance(event, ev.CallEscalated):
        return fx.CallEscalated(
            event.call_id,
            event.tenant_id,
            event.step,
            dict(event.requirements),
            seconds(event.escalated_at),
        )
    if isinstance(event, ev.AgentUpdated):
        return fx.AgentUpdated(
            event.agent_id,
            event.name,
            dict(event.skills),
            event.capacity,
            seconds(event.updated_at),
        )
    if isinstance(event, ev.RoutingPolicySet):
        return fx.PolicySet(event.tenant_id, policy_of(event), seconds(event.set_at))
    raise TypeError(f"{type(event).__name__} is not a routing fact")
