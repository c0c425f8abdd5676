"""The snapshot file format: a pickle whose arrays and strings are read in place from the mapped file."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from testkit import write_repo

from r1agent.settings import Settings
from r1agent.tools import index, mapped
from r1agent.tools.index import update_index
from r1agent.tools.repomap import build_repo_map

FIXTURES = Path(__file__).parents[1] / "fixtures" / "tags"


@pytest.fixture
def columns(tmp_path):
    settings = Settings(cache_dir=tmp_path / "cache")
    repo = write_repo(tmp_path / "polyglot", {p.name: p.read_text() for p in FIXTURES.iterdir()})
    update_index(repo, settings)
    return index.load_snapshot(repo, settings).columns


def test_a_loaded_file_equals_what_was_dumped_and_its_arrays_are_views_of_the_file(tmp_path, columns):
    path = tmp_path / "snap"
    mapped.dump(("name", columns), path)
    name, loaded = mapped.load(path)
    assert name == "name" and loaded.same_as(columns)
    assert list(loaded.def_signature) == list(columns.def_signature)
    assert loaded.def_qualname[len(columns.def_qualname) - 1] == columns.def_qualname[-1]
    for array in (loaded.def_name, loaded.ref_name, loaded.def_at):
        assert not array.flags.writeable and not array.flags.owndata  # read in place, never copied
        assert array.ctypes.data % 64 == 0  # aligned, so numpy takes its fast paths


def test_a_file_replaced_while_loaded_leaves_the_loaded_one_intact(tmp_path, columns):
    path = tmp_path / "snap"
    mapped.dump(columns, path)
    first = mapped.load(path)
    mapped.dump(index.Columns.from_records([]), path)  # replaced by rename, as the index does
    assert first.same_as(columns) and list(first.def_signature) == list(columns.def_signature)
    assert mapped.load(path).paths == []


@pytest.mark.parametrize("damage", ["empty", "plain pickle", "header cut", "buffers cut", "bad offset"])
def test_a_damaged_file_raises_the_errors_the_index_answers_by_rebuilding(tmp_path, columns, damage):
    path = tmp_path / "snap"
    mapped.dump(columns, path)
    data = path.read_bytes()
    path.write_bytes({
        "empty": b"",
        "plain pickle": pickle.dumps(columns),
        "header cut": data[:20],
        "buffers cut": data[:len(data) - 100],
        "bad offset": data[:24] + (10**12).to_bytes(8, "little") + data[32:],
    }[damage])
    with pytest.raises((ValueError, pickle.UnpicklingError, EOFError)):
        mapped.load(path)


def test_maps_rendered_from_a_loaded_snapshot_equal_maps_built_from_scratch(tmp_path):
    files = {f"pkg/m{i}.py": f"def f{i}(x):\n    return f{(i + 1) % 30}(x)\n" for i in range(30)}
    repo = write_repo(tmp_path / "repo", files)
    settings = Settings(cache_dir=tmp_path / "cache")
    build_repo_map(repo, settings, budget=300)
    for k in range(3):  # each run as a fresh process makes it: the snapshot read from the file
        with open(repo / f"pkg/m{k}.py", "a") as f:
            f.write(f"\n\ndef added_{k}(x):\n    return f{k + 5}(x)\n")
        index._recent.clear()
        kept = build_repo_map(repo, settings, budget=300)
        index._recent.clear()
        fresh = build_repo_map(repo, Settings(cache_dir=tmp_path / f"fresh{k}"), budget=300)
        assert kept == fresh and f"added_{k}" in index.load_snapshot(repo, settings).columns.names
    assert np.all(index.load_snapshot(repo, settings).columns.def_start > 0)


def test_a_failed_write_leaves_the_old_file_and_no_partial_one(tmp_path, columns, monkeypatch):
    (tmp_path / "out").mkdir()
    path = tmp_path / "out" / "snap"
    mapped.dump(columns, path)
    before = path.read_bytes()

    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(mapped.os, "replace", full_disk)
    with pytest.raises(OSError):
        mapped.dump(index.Columns.from_records([]), path)
    assert path.read_bytes() == before and [p.name for p in path.parent.iterdir()] == ["snap"]
