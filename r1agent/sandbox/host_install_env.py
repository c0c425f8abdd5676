"""What a container needs to reach the package index the way the host does: CA bundle, index URLs, proxies.

Read from the host each time (settings, pip's own config, the environment); nothing is hard-coded.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from r1agent.errors import SandboxError

DEFAULT_CA_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem")
CONTAINER_CA_PATH = "/tmp/r1agent-host-ca.pem"
_PIP_KEYS = {"index-url": "PIP_INDEX_URL", "extra-index-url": "PIP_EXTRA_INDEX_URL", "trusted-host": "PIP_TRUSTED_HOST"}
# The same settings in uv's words (the sandbox installs with uv).
_UV_VARS = {"PIP_INDEX_URL": "UV_DEFAULT_INDEX", "PIP_EXTRA_INDEX_URL": "UV_INDEX", "PIP_TRUSTED_HOST": "UV_INSECURE_HOST"}
_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")


@dataclass(frozen=True)
class InstallEnv:
    """The CA bundle to copy in (None: trust the image's own) and environment variables for pip."""

    ca_bundle: Path | None
    environment: dict[str, str] = field(default_factory=dict)


def _pip_config() -> dict[str, str]:
    """pip's merged config as {'index-url': ...}; later (more specific) files win, as in pip."""
    try:
        out = subprocess.run(
            [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {}
    found: dict[str, str] = {}
    for line in out.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            found[key.rsplit(".", 1)[-1]] = value.strip().strip("'\"")
    return found


def _reachable_urls(value: str) -> str:
    """Keep http(s) index URLs only: file:// indexes of the host do not exist inside a container."""
    return " ".join(u for u in value.split() if u.startswith(("http://", "https://")))


def host_install_env(ca_bundle_setting: str | None) -> InstallEnv:
    """Collect the host's CA bundle, pip index settings and proxies for the dependency install."""
    if ca_bundle_setting:
        ca = Path(ca_bundle_setting).expanduser()
        if not ca.is_file():
            raise SandboxError(f"sandbox.ca_bundle {ca} is not a file; point it at a PEM bundle or unset it")
    else:
        ca = next((Path(p) for p in DEFAULT_CA_BUNDLES if Path(p).is_file()), None)
    env: dict[str, str] = {}
    config = _pip_config()
    for key, var in _PIP_KEYS.items():
        value = os.environ.get(var) or config.get(key, "")
        value = _reachable_urls(value) if key != "trusted-host" else value
        if value:
            env[var] = env[_UV_VARS[var]] = value
    for var in _PROXY_VARS:
        if os.environ.get(var):
            env[var] = os.environ[var]
    if ca is not None:
        for var in ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
            env[var] = CONTAINER_CA_PATH
    return InstallEnv(ca_bundle=ca, environment=env)
