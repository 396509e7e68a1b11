"""What every call-center service shares: app factory, health, metrics, logs, problems, auth."""

from callcenter_service.app import create_service_app, serve
from callcenter_service.auth import Operator
from callcenter_service.problems import ProblemError
from callcenter_service.settings import ServiceSettings

__all__ = ["Operator", "ProblemError", "ServiceSettings", "create_service_app", "serve"]
