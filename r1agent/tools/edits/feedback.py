"""The short text the model reads after a refused answer: what failed, the real lines, what not to resend."""

from __future__ import annotations

from r1agent.tools.edits.model import BlockOutcome, Reason, Status

MAX_FAILURES_SHOWN = 6


def _numbers(outcomes: list[BlockOutcome]) -> str:
    return ", ".join(str(o.index) for o in outcomes)


def _where(o: BlockOutcome) -> str:
    return f"Block {o.index}" + (f" ({o.path})" if o.path else "")


def render_feedback(applied: list[BlockOutcome], failed: list[BlockOutcome], changed: list[str]) -> str:
    done = [o for o in applied if o.status is Status.APPLIED]
    already = [o for o in applied if o.status is Status.ALREADY_APPLIED]
    lines: list[str] = []
    if any(o.reason is Reason.NO_EDITS for o in failed):
        return "No edit blocks found in the answer; write SEARCH/REPLACE blocks as instructed."
    if not failed:
        if changed:
            lines.append(f"Applied {len(done)} edit block(s) to {', '.join(changed)}.")
        else:
            lines.append("Nothing changed: every edit block is already applied.")
        lines += [f"{_where(o)}: {o.message}." for o in already]
        return "\n".join(lines)
    total = len(applied) + len(failed)
    lines.append(f"{len(failed)} of {total} edit block(s) failed, so no file was changed.")
    for o in failed[:MAX_FAILURES_SHOWN]:
        lines.append(f"{_where(o)}: {o.message}.")
        if o.closest:
            lines.append(f"Closest lines in {o.path}:")
            lines.append(o.closest)
    if len(failed) > MAX_FAILURES_SHOWN:
        lines.append(f"(and {len(failed) - MAX_FAILURES_SHOWN} more failed blocks: {_numbers(failed[MAX_FAILURES_SHOWN:])})")
    lines += [f"{_where(o)}: {o.message}; do not resend it." for o in already]
    if done:
        many = len(done) > 1
        lines.append(f"Block{'s' if many else ''} {_numbers(done)} applied cleanly; "
                     f"do not resend {'them' if many else 'it'}.")
    lines.append("Reply with corrected blocks for the failed ones only, copying SEARCH lines exactly from the file.")
    return "\n".join(lines)
