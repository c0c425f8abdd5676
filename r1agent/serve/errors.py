"""Errors of the serve commands; each is a one-line R1AgentError, some with a detail block."""

from __future__ import annotations

from r1agent.errors import R1AgentError


class ServeError(R1AgentError):
    """A serve-side failure the user can fix: bad model name, no GPUs, vLLM missing."""


class PlanRefused(ServeError):
    """The model cannot be served on these GPUs; ``detail`` holds the arithmetic."""

    def __init__(self, message: str, detail: str = ""):
        super().__init__(message)
        self.detail = detail


class ServerDied(ServeError):
    """The server process exited; ``log_tail`` holds the end of its log."""

    def __init__(self, message: str, log_tail: str = ""):
        super().__init__(message)
        self.log_tail = log_tail


class DoctorFailed(R1AgentError):
    """At least one doctor check failed (the table above says which and how to fix it)."""
