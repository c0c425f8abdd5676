"""Fixtures of the batch tests. The helpers live in batch_world.py: a module named conftest is
imported once per session, so test modules of several folders cannot all import from theirs."""

from __future__ import annotations

import pytest
from batch_world import World, build_world


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    return build_world(tmp_path_factory.mktemp("world"))
