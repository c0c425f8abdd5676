"""The console script: --help, --version, `ask`, and `scripted-endpoint`, with bad input as exit 2."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
from testkit import html_server

from r1agent import __version__
from r1agent.cli import COMMANDS, main
from r1agent.scripted import ScriptedEndpoint, ScriptedTurn
from r1agent.settings import user_config_path


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def test_help_lists_every_registered_command_and_version_prints(capsys):
    code, out, _ = run_cli(capsys, "--help")
    assert code == 0 and "Exit codes" in out
    for name in COMMANDS:
        assert name in out
    code, out, _ = run_cli(capsys, "--version")
    assert (code, out.strip()) == (0, f"r1agent, version {__version__}")


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_registered_command_has_its_own_help(capsys, name):
    code, out, _ = run_cli(capsys, name, "--help")
    assert code == 0 and f"Usage: r1agent {name}" in out


def test_ask_streams_reasoning_then_answer_and_reports_tokens(capsys, tmp_path):
    turn = ScriptedTurn("Greeting, so greet back.", "Hello!")
    with ScriptedEndpoint([turn], reasoning_field="inline", think_opener=False) as ep:
        code, out, err = run_cli(capsys, "-C", str(tmp_path), "ask", "--endpoint", ep.base_url, "hi")
        sent = ep.requests[-1]["messages"]
    assert code == 0
    assert out.index("Greeting, so greet back.") < out.index("Hello!")
    assert "prompt +" in err and "reasoning" in err and "first token after" in err
    assert sent == [{"role": "user", "content": "hi"}]


def test_ask_json_output(capsys, tmp_path):
    with ScriptedEndpoint([ScriptedTurn("why", "because")]) as ep:
        code, out, _ = run_cli(capsys, "-C", str(tmp_path), "ask", "--json", "--endpoint", ep.base_url, "q")
    data = json.loads(out)
    assert code == 0 and (data["reasoning"], data["answer"], data["model"]) == ("why", "because", "deepseek-r1")


@pytest.fixture
def html_url():
    with html_server() as url:
        yield url


@pytest.fixture
def closed_url():
    with ScriptedEndpoint([ScriptedTurn("r", "a")]) as ep:
        url = ep.base_url
    return url


@pytest.fixture
def scripted_url():
    with ScriptedEndpoint([ScriptedTurn("r", "a")]) as ep:
        yield ep.base_url


@pytest.mark.parametrize(("case", "expected"), [
    ("unreachable", r"cannot reach the endpoint at http://127\.0\.0\.1:\d+/v1: .*refused"),
    ("not openai", r"is not an OpenAI-compatible endpoint: GET /models did not return a model list \(text/html\)"),
    ("missing model", r"model 'deepseek-r1-0528' is not served by .*; it serves: deepseek-r1"),
    ("malformed config", r"config\.toml: invalid TOML"),
])
def test_ask_bad_setup_is_one_line_and_exit_2(capsys, tmp_path, request, case, expected):
    argv = ["-C", str(tmp_path), "ask"]
    if case == "unreachable":
        argv += ["--endpoint", request.getfixturevalue("closed_url")]
    elif case == "not openai":
        argv += ["--endpoint", request.getfixturevalue("html_url")]
    elif case == "missing model":
        argv += ["--endpoint", request.getfixturevalue("scripted_url"), "--model", "deepseek-r1-0528"]
    else:
        user_config_path().parent.mkdir(parents=True)
        user_config_path().write_text("[endpoint]\nbase_url = \n", encoding="utf-8")
    code, out, err = run_cli(capsys, *argv, "hello")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and err.startswith("r1agent: error: ")
    import re

    assert re.search(expected, err), err


def test_scripted_endpoint_command_serves_a_script_until_interrupted(tmp_path):
    script = tmp_path / "turns.jsonl"
    script.write_text(json.dumps({"reasoning": "Offline rehearsal.", "answer": "It works."}) + "\n", encoding="utf-8")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "r1agent", "scripted-endpoint", "--script", str(script), "--port", "0",
         "--reasoning-field", "reasoning_content"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        base_url = server.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        ask = subprocess.run([sys.executable, "-m", "r1agent", "-C", str(tmp_path), "ask", "--json",
                              "--endpoint", base_url, "Does it work?"],
                             capture_output=True, text=True, env=env, timeout=60)
        assert ask.returncode == 0, ask.stderr
        assert json.loads(ask.stdout)["answer"] == "It works."
    finally:
        server.send_signal(signal.SIGINT)
        _, err = server.communicate(timeout=10)
    assert server.returncode == 0 and "stopped" in err


def test_scripted_endpoint_command_refuses_a_bad_script(capsys, tmp_path):
    script = tmp_path / "turns.jsonl"
    script.write_text('{"answer": "no reasoning key"}\n', encoding="utf-8")
    code, _, err = run_cli(capsys, "scripted-endpoint", "--script", str(script))
    assert code == 2 and "turns.jsonl:1: reasoning: Field required" in err
