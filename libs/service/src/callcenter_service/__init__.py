"""What every call-center service shares: app factory, health, metrics, logs, problems, auth."""

from callcenter_service.app import create_service_app, serve
from callcenter_service.auth import (
    AnalyticsReader,
    Caller,
    CallsReader,
    CallsWriter,
    Operator,
    SurveysReader,
    SurveysWriter,
)
from callcenter_service.directory import Principal
from callcenter_service.problems import ProblemError
from callcenter_service.settings import ServiceSettings

__all__ = [
    "AnalyticsReader",
    "Caller",
    "CallsReader",
    "CallsWriter",
    "Operator",
    "Principal",
    "ProblemError",
    "ServiceSettings",
    "SurveysReader",
    "SurveysWriter",
    "create_service_app",
    "serve",
]
