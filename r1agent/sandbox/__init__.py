"""Where code runs: Docker and local backends, images, exec, test runs and reports."""

from r1agent.errors import SandboxError
from r1agent.sandbox.backend import Backend, open_backend
from r1agent.sandbox.cleanup import PruneCounts
from r1agent.sandbox.errors import DependencyInstallError, PatchError
from r1agent.sandbox.execution import ExecResult
from r1agent.sandbox.grading import Grade, grade
from r1agent.sandbox.report import TestReport
from r1agent.sandbox.sandbox import Sandbox

__all__ = [
    "Backend", "DependencyInstallError", "ExecResult", "Grade", "PatchError", "PruneCounts", "Sandbox",
    "SandboxError", "TestReport", "grade", "open_backend",
]
