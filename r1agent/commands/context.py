"""`r1agent context`: print exactly what R1's first prompt will hold, and what each part costs."""

from __future__ import annotations

import json
from pathlib import Path

import click

from r1agent.issue_input import resolve_issue


@click.command("context")
@click.argument("issue", required=False)
@click.option("--issue-file", type=click.Path(path_type=Path), help="Read the issue from a file.")
@click.option("--test", "tests", multiple=True, metavar="NODEID", help="A failing test that must pass (repeatable).")
@click.option("--json", "as_json", is_flag=True,
              help='Print {"tokens", "map", "files": [{"path", "whole", "spans": [{"start", "end", "text"}]}], ...}.')
@click.pass_obj
def context_command(app, issue, issue_file, tests, as_json) -> None:
    """Show the first prompt `r1agent fix` would send for this issue: the repo map, each file whole or as
    excerpts, the issue, with token counts per part (estimated for DeepSeek's tokenizer)."""
    from r1agent.agent.prompting import first_prompt, prompt_budget
    from r1agent.messages import build_messages
    from r1agent.profiles import PROFILES
    from r1agent.progress_bar import progress_bar
    from r1agent.tools.context import build_context_pack
    from r1agent.tools.files import repo_root
    from r1agent.tools.tokens import estimate_tokens

    text = resolve_issue(issue, issue_file, tests)
    root = repo_root(app.repo)
    settings = app.load().settings
    pinned = sorted({t.split("::")[0] for t in tests})
    with progress_bar() as on_event:
        prompt = first_prompt(root, text, settings, target_tests=list(tests), pinned=pinned,
                              build_context=build_context_pack, on_event=on_event)
    messages = build_messages(PROFILES[settings.endpoint.profile], prompt.instructions, prompt.request)
    total = sum(estimate_tokens(m.content) for m in messages)
    pack = prompt.pack
    if as_json:
        click.echo(json.dumps({
            "tokens": total, "budget": prompt_budget(settings), "parts": prompt.parts(), "map": pack.repo_map,
            "files": [f.to_dict() for f in pack.files],
            "messages": [{"role": m.role, "content": m.content} for m in messages],
        }, indent=2))
        return
    for m in messages:
        if len(messages) > 1:
            click.echo(f"===== {m.role} =====")
        click.echo(m.content, nl=not m.content.endswith("\n"))
    click.echo(f"===== tokens (estimated): {total} of {prompt_budget(settings)} the model leaves for a prompt =====")
    for part, n in prompt.parts().items():
        click.echo(f"{n:7d}  {part}")
