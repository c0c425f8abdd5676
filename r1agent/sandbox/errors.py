"""Sandbox failures a user can act on, each with a one-line message."""

from __future__ import annotations

from r1agent.errors import SandboxError


class PatchError(SandboxError):
    """A patch did not apply inside the sandbox; ``rejects`` holds git's full report."""

    def __init__(self, message: str, rejects: str = ""):
        super().__init__(message)
        self.rejects = rejects


class DependencyInstallError(SandboxError):
    """Installing the repo's dependencies failed; ``source`` is the file, ``output_tail`` pip's last lines."""

    def __init__(self, message: str, source: str, output_tail: str):
        super().__init__(message)
        self.source = source
        self.output_tail = output_tail
