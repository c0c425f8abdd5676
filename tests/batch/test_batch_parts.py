"""The batch's small parts with real pieces: endpoint choice from real /metrics of scripted R1
endpoints on 127.0.0.1, and the sandbox bound shared by processes through flock slots."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import httpx

from r1agent.batch.endpoints import EndpointChooser, metrics_url, queue_length
from r1agent.batch.slots import SandboxSlots
from r1agent.scripted import ScriptedEndpoint, ScriptedTurn

TURN = ScriptedTurn(reasoning="thinking " * 20, answer="done", match=".")


def test_metrics_url_sits_beside_v1():
    assert metrics_url("http://gpu1:8000/v1") == "http://gpu1:8000/metrics"
    assert metrics_url("https://h/proxy/v1/") == "https://h/proxy/metrics"


def _busy(ep: ScriptedEndpoint) -> threading.Thread:
    body = {"model": "deepseek-r1", "messages": [{"role": "user", "content": "go"}], "stream": True}
    t = threading.Thread(target=lambda: httpx.post(f"{ep.base_url}/chat/completions", json=body, timeout=60).read())
    t.start()
    return t


def test_chooser_sends_an_instance_to_the_endpoint_with_the_shorter_queue():
    with ScriptedEndpoint([TURN], token_delay=0.2) as busy, ScriptedEndpoint([TURN]) as idle:
        worker = _busy(busy)
        deadline = time.time() + 10
        while queue_length(busy.base_url) != 1 and time.time() < deadline:
            time.sleep(0.05)
        assert queue_length(busy.base_url) == 1 and queue_length(idle.base_url) == 0
        chooser = EndpointChooser([busy.base_url, idle.base_url])
        assert chooser.acquire() == idle.base_url
        # The idle one now holds an instance that has not asked yet: 1 against 1, the first wins.
        assert chooser.acquire() == busy.base_url
        worker.join()


def test_chooser_spreads_instances_when_no_metrics_answer():
    chooser = EndpointChooser(["http://127.0.0.1:9/v1", "http://127.0.0.1:10/v1"])
    first, second = chooser.acquire(), chooser.acquire()
    assert {first, second} == {"http://127.0.0.1:9/v1", "http://127.0.0.1:10/v1"}
    chooser.release(first)
    assert chooser.acquire() == first


HOLDER = """
import sys, time
from pathlib import Path
from r1agent.batch.slots import SandboxSlots
with SandboxSlots(Path(sys.argv[1]), 1).hold():
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_slot_held_by_another_process_is_freed_when_that_process_is_killed(tmp_path):
    slots = SandboxSlots(tmp_path, 1)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    got = threading.Event()

    def take() -> None:
        with slots.hold():
            got.set()

    waiter = threading.Thread(target=take)
    waiter.start()
    assert not got.wait(0.5)  # the only slot is taken
    holder.kill()
    holder.wait()
    assert got.wait(10)
    waiter.join()


def test_bad_instances_file_is_refused_before_anything_is_written(tmp_path, capsys):
    from batch_world import run_cli

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"instance_id": "x", "repo": "acme/calc", "problem_statement": "p"}\n')
    out = tmp_path / "out"
    assert run_cli(["batch", str(bad), "--out", str(out)]) == 2
    assert "bad.jsonl:1: " in capsys.readouterr().err
    assert not out.exists()


def test_report_of_a_missing_batch_says_so(tmp_path, capsys):
    from batch_world import run_cli

    assert run_cli(["batch", "report", str(tmp_path)]) == 2
    assert "no records.jsonl" in capsys.readouterr().err


def test_bare_test_names_resolve_to_the_test_patch_files_that_define_them():
    from r1agent.batch.evaluate import qualify
    from r1agent.diffs import kept_files

    patch = ("diff --git a/sympy/core/tests/test_function.py b/sympy/core/tests/test_function.py\n"
             "--- a/sympy/core/tests/test_function.py\n+++ b/sympy/core/tests/test_function.py\n"
             "@@ -1,2 +1,3 @@\n def test_Function():\n     pass\n+# more\n")
    assert kept_files(patch) == ["sympy/core/tests/test_function.py"]
    files = {"sympy/core/tests/test_function.py": "def test_Function():\n    pass\n\n\ndef test_Lambda():\n    pass\n"}
    got = qualify(["test_Function", "test_Lambda", "test_missing", "a/b.py::test_x"], files)
    assert got == {"test_Function": "sympy/core/tests/test_function.py::test_Function",
                   "test_Lambda": "sympy/core/tests/test_function.py::test_Lambda"}


def test_swebench_ids_cut_at_a_space_stand_for_the_tests_they_begin():
    from r1agent.batch.evaluate import by_expected_id, test_files_of

    expected = ["t.py::test_x[multi", "t.py::test_y", "u.py::C::test_z"]
    assert test_files_of([*expected, "[100%]", "["]) == ["t.py", "u.py"]
    tests = {"t.py::test_x[multi line]": "passed", "t.py::test_x[multi word]": "failed", "t.py::test_y": "passed",
             "t.py::test_x[single]": "passed"}
    got = by_expected_id(expected, tests)
    assert got["t.py::test_x[multi"] == "failed" and got["t.py::test_y"] == "passed"
    assert "u.py::C::test_z" not in got  # missing stays missing (graded as failed)
    assert by_expected_id(["t.py::test_x[multi"], {"t.py::test_x[multi line]": "passed"})["t.py::test_x[multi"] == "passed"


def test_swebench_ids_of_tests_parametrized_by_an_absolute_path_keep_its_last_part():
    from r1agent.batch.evaluate import by_expected_id

    expected = ["tests/test_self.py::T::test_stdin[/mymodule.py]", "tests/test_self.py::T::test_stdin[mymodule.py]"]
    tests = {"tests/test_self.py::T::test_stdin[/work/mymodule.py-mymodule-/work/mymodule.py]": "passed",
             "tests/test_self.py::T::test_stdin[mymodule.py]": "failed"}
    got = by_expected_id(expected, tests)
    assert got["tests/test_self.py::T::test_stdin[/mymodule.py]"] == "passed"
    assert got["tests/test_self.py::T::test_stdin[mymodule.py]"] == "failed"  # a relative one is its own id
    got = by_expected_id(["a.py::t[/m.py-2]", "a.py::t[/m.py-1]"], {"a.py::t[/x/m.py-1]": "passed",
                                                                    "a.py::t[/y/m.py-2]": "failed"})
    assert (got["a.py::t[/m.py-1]"], got["a.py::t[/m.py-2]"]) == ("passed", "failed")
    assert by_expected_id(["a.py::t[/m.py]"], {"a.py::t[/x/m.py]": "failed", "a.py::t[/y/m.py]": "passed"})[
        "a.py::t[/m.py]"] == "failed"  # two tests under one name: it passes only if both do
