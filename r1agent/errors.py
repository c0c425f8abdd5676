"""Errors a user can cause. Each carries a one-line message; the CLI maps them to exit code 2."""

from __future__ import annotations


class R1AgentError(Exception):
    """Base of every user-facing error: bad input, bad setup, unreachable services."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(message.strip().splitlines()[0] if message.strip() else message)


class ConfigError(R1AgentError):
    """A settings file, environment variable or flag holds a bad value."""


class EndpointError(R1AgentError):
    """The model endpoint is unreachable, not OpenAI-compatible, or lacks the model."""


class ModelOutputError(R1AgentError):
    """The model answered with something we cannot use."""


class RepoError(R1AgentError):
    """The target is not a git repository, or its state forbids the operation."""


class SandboxError(R1AgentError):
    """The sandbox cannot be created or used (no Docker engine, no permission, bad image)."""


class EditError(R1AgentError):
    """An edit is refused: outside the repo, binary, or otherwise unsafe."""


class InputError(R1AgentError):
    """A file or argument given on the command line is unusable."""


class PromptTooLongError(R1AgentError):
    """A prompt cannot fit the model's context, even with older feedback trimmed; it is never sent."""


class BaselineError(R1AgentError):
    """The repo's tests cannot run on the unchanged code (a collection crash, an INTERNALERROR, no tests,
    the suite killed for memory or time): a setup problem, never a result to fix against."""
