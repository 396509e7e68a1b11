"""The event models of the platform. Importing this package registers every event type."""

from callcenter_events.models.calls import (
    CallAbandoned,
    CallEnded,
    CallQueued,
    CallReceived,
    CallWrappedUp,
    Direction,
    HangupBy,
    Outcome,
)
from callcenter_events.models.customers import (
    ConsentChange,
    ConsentGiven,
    ConsentWithdrawn,
    CustomerUpdated,
)
from callcenter_events.models.privacy import CallerErased, CustomerErased, SubjectsErased
from callcenter_events.models.surveys import (
    Question,
    QuestionType,
    Scale,
    SurveyAnswered,
    SurveyDefined,
    SurveyKind,
)
from callcenter_events.models.tenants import (
    ApiKeyCreated,
    ApiKeyRevoked,
    Scope,
    TenantCreated,
    TenantSettings,
)

__all__ = [
    "ApiKeyCreated",
    "ApiKeyRevoked",
    "CallAbandoned",
    "CallEnded",
    "CallQueued",
    "CallReceived",
    "CallWrappedUp",
    "CallerErased",
    "ConsentChange",
    "ConsentGiven",
    "ConsentWithdrawn",
    "CustomerErased",
    "CustomerUpdated",
    "Direction",
    "HangupBy",
    "Outcome",
    "Question",
    "QuestionType",
    "Scale",
    "Scope",
    "SubjectsErased",
    "SurveyAnswered",
    "SurveyDefined",
    "SurveyKind",
    "TenantCreated",
    "TenantSettings",
]
