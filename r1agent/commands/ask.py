"""`r1agent ask`: one prompt to the configured endpoint; shows R1 thinking, then its answer.

It is also the quickest check that an endpoint works: every setup problem (unreachable,
not OpenAI-compatible, missing model, bad config) ends in one line and exit code 2.
"""

from __future__ import annotations

import json

import click

from r1agent.events import AnswerDelta, Event, Message, ReasoningDelta


class _Printer:
    """Prints reasoning dimmed and the answer plain, each section once, as the deltas stream in."""

    def __init__(self, show_reasoning: bool):
        self.show_reasoning = show_reasoning
        self.section: str | None = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, ReasoningDelta) and self.show_reasoning:
            self._enter("reasoning", "thinking…")
            click.secho(event.text, dim=True, nl=False)
        elif isinstance(event, AnswerDelta):
            self._enter("answer", "answer:" if self.show_reasoning else None)
            click.echo(event.text, nl=False)
        elif isinstance(event, Message):
            self._enter(None, None)
            click.secho(f"r1agent: {event.text}", err=True, fg="yellow")

    def _enter(self, section: str | None, title: str | None) -> None:
        if section == self.section:
            return
        if self.section is not None:
            click.echo()
        self.section = section
        if title:
            click.secho(title, bold=True)


@click.command()
@click.argument("prompt")
@click.option("--instructions", default="", help="Instructions placed as the profile says (system or user turn).")
@click.option("--endpoint", "base_url", default=None, help="Base URL; overrides endpoint.base_url.")
@click.option("--model", default=None, help="Served model name; overrides endpoint.model.")
@click.option("--max-tokens", type=click.IntRange(1), default=None, help="Cap on completion tokens.")
@click.option("--no-reasoning", is_flag=True, help="Print only the answer.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object: model, reasoning, answer, usage.")
@click.pass_obj
def ask(app, prompt: str, instructions: str, base_url: str | None, model: str | None, max_tokens: int | None,
        no_reasoning: bool, as_json: bool) -> None:
    """Ask R1 one question and stream its reasoning and answer."""
    from r1agent.llm import R1Client  # the openai SDK is slow to import: keep `r1agent --help` fast

    settings = app.load(**{"endpoint.base_url": base_url, "endpoint.model": model}).settings
    client = R1Client(settings.endpoint)
    client.check()
    messages = client.build_messages(instructions, prompt)
    printer = None if as_json else _Printer(show_reasoning=not no_reasoning)
    result = client.complete(messages, max_tokens=max_tokens, on_event=printer)
    choice, usage = result.choices[0], result.usage
    if as_json:
        click.echo(json.dumps({
            "model": result.model, "reasoning": choice.reasoning, "answer": choice.answer,
            "finish_reason": choice.finish_reason,
            "usage": {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
                      "reasoning_tokens": usage.reasoning_tokens, "ttft_s": usage.ttft_s,
                      "duration_s": usage.duration_s},
        }, indent=2))
        return
    click.echo()
    ttft = f"{usage.ttft_s:.2f}s" if usage.ttft_s is not None else "n/a"
    click.secho(
        f"{result.model}: {usage.prompt_tokens} prompt + {usage.completion_tokens} completion tokens"
        f" ({usage.reasoning_tokens} reasoning); first token after {ttft}; {usage.duration_s:.2f}s in all",
        err=True, dim=True,
    )
