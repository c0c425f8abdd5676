"""Runners other than pytest, run for real in the sandbox: a sympy-style bin/test, Django-style
tests/runtests.py, unittest through tests.command with {tests}, and a command that names no test."""

from __future__ import annotations

import pytest

from r1agent.sandbox.docker_backend import DockerBackend
from r1agent.sandbox.runners import sympy_parse, unittest_label, unittest_parse

# A runner in the manner of sympy's bin/test --verbose: "path.py[n] ", then "test_name ok|F|E" per test.
SYMPY_STYLE = {
    "bin/test": (
        "#!/usr/bin/env python\nimport os, sys\n"
        "sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))\n"
        "from runtests import test\n"
        "sys.exit(0 if test([a for a in sys.argv[1:] if not a.startswith('-')]) else 1)\n"
    ),
    "runtests.py": (
        "import glob, importlib.util, sys, traceback\n\n"
        "def test(paths):\n"
        "    ok = True\n"
        "    for path in paths or sorted(glob.glob('mathlib/tests/test_*.py')):\n"
        "        spec = importlib.util.spec_from_file_location('m', path)\n"
        "        mod = importlib.util.module_from_spec(spec)\n"
        "        try:\n"
        "            spec.loader.exec_module(mod)\n"
        "        except Exception:\n"
        "            print(path + '[?]   Failed to import [FAIL]'); ok = False; continue\n"
        "        funcs = [getattr(mod, n) for n in dir(mod) if n.startswith('test_')]\n"
        "        sys.stdout.write('%s[%d] ' % (path, len(funcs)))\n"
        "        for f in funcs:\n"
        "            sys.stdout.write('\\n' + f.__name__ + ' ')\n"
        "            try:\n"
        "                f(); sys.stdout.write('ok')\n"
        "            except AssertionError:\n"
        "                sys.stdout.write('F'); ok = False\n"
        "            except Exception:\n"
        "                sys.stdout.write('E'); ok = False\n"
        "        print(' [OK]\\n')\n"
        "    return ok\n"
    ),
    "mathlib/__init__.py": "def double(x):\n    return x + x\n\n\ndef half(x):\n    return x // 3\n",
    "mathlib/tests/__init__.py": "",
    "mathlib/tests/test_ops.py": (
        "from mathlib import double, half\n\n\ndef test_double():\n    assert double(2) == 4\n\n\n"
        "def test_half():\n    assert half(6) == 3 and half(8) == 4\n\n\ndef test_crash():\n    raise KeyError('x')\n"
    ),
    "mathlib/tests/test_more.py": "from mathlib import double\n\n\ndef test_zero():\n    assert double(0) == 0\n",
}

pytestmark = pytest.mark.docker


def run_all_then(selection, files, name, make_repo, make_settings, docker_client):
    """The whole suite, then ``selection``, in one sandbox of a repo holding ``files``."""
    repo = make_repo(files, name=name)
    with DockerBackend(make_settings(), repo, client=docker_client).create(name) as sb:
        return sb.run_tests(), sb.run_tests(selection)


def test_a_sympy_style_bin_test_is_detected_and_reported_per_test(make_repo, make_settings, docker_client,
                                                                    base_image):
    everything, one_file = run_all_then(["mathlib/tests/test_more.py::test_zero"], SYMPY_STYLE, "mathlib",
                                        make_repo, make_settings, docker_client)
    # with sympy's cache, as its developers run it (without, one sympy file took 289 s instead of 3.4 s)
    assert "bin/test --verbose" in everything.command and "-C" not in everything.command
    assert everything.tests == {
        "mathlib/tests/test_more.py::test_zero": "passed",
        "mathlib/tests/test_ops.py::test_crash": "error",
        "mathlib/tests/test_ops.py::test_double": "passed",
        "mathlib/tests/test_ops.py::test_half": "failed",
    }
    assert one_file.tests == {"mathlib/tests/test_more.py::test_zero": "passed"}


DJANGO_STYLE = {
    # Django's tests/runtests.py takes labels relative to tests/ and --verbosity/--parallel.
    "tests/runtests.py": (
        "import argparse, os, sys, unittest\n"
        "here = os.path.dirname(os.path.abspath(__file__))\n"
        "sys.path[:0] = [here, os.path.dirname(here)]\n"
        "p = argparse.ArgumentParser(); p.add_argument('labels', nargs='*')\n"
        "p.add_argument('--verbosity', type=int, default=1); p.add_argument('--parallel', default='1')\n"
        "a = p.parse_args()\n"
        "loader = unittest.defaultTestLoader\n"
        "suite = loader.loadTestsFromNames(a.labels) if a.labels else loader.discover(here, top_level_dir=here)\n"
        "r = unittest.TextTestRunner(verbosity=a.verbosity).run(suite)\n"
        "sys.exit(not r.wasSuccessful())\n"
    ),
    "shop/__init__.py": "def total(prices):\n    return sum(prices) + 1\n",
    "tests/basket/__init__.py": "",
    "tests/basket/tests.py": (
        "import unittest\nfrom shop import total\n\n\nclass TotalTests(unittest.TestCase):\n"
        "    def test_empty(self):\n        self.assertEqual(total([]), 0)\n\n"
        "    def test_type(self):\n        self.assertIsInstance(total([1]), int)\n\n"
        "    @unittest.skip('later')\n    def test_later(self):\n        pass\n"
    ),
}


def test_a_django_style_runtests_is_detected_and_reported_in_swebench_ids(make_repo, make_settings, docker_client,
                                                                            base_image):
    everything, one = run_all_then(["test_type (basket.tests.TotalTests)"], DJANGO_STYLE, "shop",
                                   make_repo, make_settings, docker_client)
    assert everything.tests == {
        "test_empty (basket.tests.TotalTests)": "failed",
        "test_type (basket.tests.TotalTests)": "passed",
        "test_later (basket.tests.TotalTests)": "skipped",
    }
    assert "tests/runtests.py --verbosity 2" in one.command and "basket.tests.TotalTests.test_type" in one.command
    assert one.tests == {"test_type (basket.tests.TotalTests)": "passed"}


def test_unittest_through_a_placeholder_command_and_a_command_that_names_no_test(make_repo, make_settings,
                                                                                 docker_client, base_image):
    files = {"shop/__init__.py": DJANGO_STYLE["shop/__init__.py"], "test_shop.py": DJANGO_STYLE["tests/basket/tests.py"]}
    repo = make_repo(files, name="unit")
    settings = make_settings()
    settings.tests.command = "python -m unittest -v {tests} 2>&1"
    with DockerBackend(settings, repo, client=docker_client).create("unittest") as sb:
        chosen = sb.run_tests(["test_shop.py"])
    assert chosen.command == "python -m unittest -v test_shop.py 2>&1"
    assert chosen.tests["test_empty (test_shop.TotalTests)"] == "failed"
    assert chosen.tests["test_type (test_shop.TotalTests)"] == "passed"
    settings.tests.command = "python -c 'import shop; assert shop.total([]) == 0'"
    with DockerBackend(settings, repo, client=docker_client).create("bare") as sb:
        bare = sb.run_tests()
    assert bare.tests == {f"tests.command ({settings.tests.command})": "failed"}


def test_parsers_read_colored_and_311_style_output():
    sympy_out = ("sympy/core/tests/test_a.py[3] \n\x1b[32mtest_x ok\x1b[0m\ntest_y Slow w\ntest_z f\n"
                 "                                                           [OK]\nsympy/core/tests/test_b.py[?]   "
                 "Failed to import                                         [FAIL]\n")
    assert sympy_parse(sympy_out) == {"sympy/core/tests/test_a.py::test_x": "passed",
                                      "sympy/core/tests/test_a.py::test_y": "skipped",
                                      "sympy/core/tests/test_a.py::test_z": "xfail",
                                      "sympy/core/tests/test_b.py": "error"}
    unit_out = "test_a (pkg.tests.T.test_a) ... ok\ntest_b (pkg.tests.T)\nDocstring line ... FAIL\n"
    assert unittest_parse(unit_out) == {"test_a (pkg.tests.T)": "passed", "test_b (pkg.tests.T)": "failed"}
    assert unittest_label("tests/basket/tests.py", "tests/") == "basket.tests"


def test_grading_runs_a_sympy_style_bin_test_as_swebench_does_without_its_cache(make_repo, make_settings,
                                                                                 docker_client, base_image):
    from r1agent.sandbox.runners import SYMPY, as_swebench_runs

    repo = make_repo(SYMPY_STYLE, name="mathlib-graded")
    with DockerBackend(make_settings(), repo, client=docker_client).create("graded") as sb:
        graded = sb.run_tests(["mathlib/tests/test_more.py"], runner=as_swebench_runs(SYMPY))
    assert "bin/test -C --verbose mathlib/tests/test_more.py" in graded.command
    assert graded.tests == {"mathlib/tests/test_more.py::test_zero": "passed"}
