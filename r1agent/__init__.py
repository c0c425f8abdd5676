"""r1agent: turns an issue into a test-verified patch with DeepSeek-R1."""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from pathlib import Path

__version__ = "0.1.0"

_SUBPACKAGES = ("agent", "tools", "sandbox", "tui")


class _SourceTreeFinder(importlib.abc.MetaPathFinder):
    """Run straight from a source checkout, map r1agent.agent/.tools/.sandbox/.tui onto the
    sibling folders, as setuptools' package-dir does for wheels and editable installs."""

    def __init__(self, root: Path):
        self.root = root

    def find_spec(self, name, path=None, target=None):
        parent, _, sub = name.rpartition(".")
        if parent != __name__ or sub not in _SUBPACKAGES:
            return None
        folder = self.root / sub
        return importlib.util.spec_from_file_location(
            name, folder / "__init__.py", submodule_search_locations=[str(folder)]
        )


def _install_source_tree_finder() -> None:
    root = Path(__file__).resolve().parent.parent
    pyproject = root / "pyproject.toml"
    if not (pyproject.is_file() and (root / "agent" / "__init__.py").is_file()):
        return  # installed from a wheel: setuptools placed the subpackages inside this one
    if 'name = "r1agent"' not in pyproject.read_text(encoding="utf-8"):
        return
    if not any(isinstance(f, _SourceTreeFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _SourceTreeFinder(root))  # the r1agent imported decides where its parts are


_install_source_tree_finder()
