"""r1agent: turns an issue into a test-verified patch with DeepSeek-R1."""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"

# Installed (wheel or editable), setuptools maps agent/, tools/, sandbox/ and tui/ onto
# r1agent.*. Run straight from a source checkout, the same folders sit beside this one,
# so the package path is widened to them; the pyproject check keeps this to our checkout.
_root = Path(__file__).resolve().parent.parent
if (_root / "pyproject.toml").is_file() and (_root / "agent" / "__init__.py").is_file():
    if 'name = "r1agent"' in (_root / "pyproject.toml").read_text(encoding="utf-8"):
        __path__.append(str(_root))  # noqa: F821 - __path__ is defined for packages
