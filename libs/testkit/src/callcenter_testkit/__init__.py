"""Helpers for integration and end-to-end tests (never imported by the services)."""

from callcenter_testkit.polling import eventually
from callcenter_testkit.processes import ServiceProcess, free_port

__all__ = ["ServiceProcess", "eventually", "free_port"]
