"""Hand-off: deliver the verified patch (working tree, or a branch with a commit) and save
every patch to the run directory, so nothing is lost whatever happens to the repo."""

from __future__ import annotations

from pathlib import Path

from r1agent.errors import RepoError
from r1agent.events import Message, Phase
from r1agent.tools.git import (
    apply_to_worktree,
    commit_on_branch,
    commit_worktree_files,
    open_repo,
    save_handoff,
)

from ..prompting import render
from ..state import Candidate, FixState
from .common import AgentRuntime, emitter


def commit_message(state: FixState, cand: Candidate) -> str:
    title = state.issue.strip().splitlines()[0][:60] if state.issue.strip() else "failing tests"
    if cand.commit_message:
        return f"{cand.commit_message}\n\nVerified by r1agent: {', '.join(cand.fail_to_pass) or 'tests pass'}.\n"
    return render("commit.j2", title=title, body="", verified=", ".join(cand.fail_to_pass) or "tests pass")


def handoff(state: FixState, runtime: AgentRuntime) -> dict:
    svc, emit = runtime.context, emitter(runtime)
    best = state.best()
    saved = ""
    if best and best.patch:
        path = svc.run_dir / ("fix.patch" if state.winner else "best-candidate.patch")
        path.write_text(best.patch, encoding="utf-8")
        saved = str(path)
    if not state.winner:
        where = f"; the best candidate is saved at {saved}" if saved else ""
        return {"exit_code": 1, "result": f"no verified fix within budget: {state.stop_reason}{where}"}
    if state.decision == "reject":
        return {"exit_code": 0, "result": f"declined; nothing changed; the verified patch is saved at {saved}"}
    mode = state.handoff.mode
    if mode == "none":
        return {"exit_code": 0, "result": f"verified patch saved at {saved}"}
    emit(Phase("handoff", "applying the verified patch" + (f" on branch {state.handoff.branch}" if mode == "branch" else "")))
    repo = open_repo(Path(state.repo))
    message = commit_message(state, best)
    try:
        if mode == "branch":
            record = commit_on_branch(repo, best.patch, state.handoff.branch, message, state.run_id)
            result = f"committed {record.commit[:10]} on new branch {record.branch} (your checkout is unchanged)"
        else:
            record = apply_to_worktree(repo, best.patch, state.run_id)
            if state.handoff.commit:
                record = commit_worktree_files(repo, record, message)
            result = "applied to the working tree" + (f" and committed {record.commit[:10]}" if record.commit else "")
    except RepoError as e:
        emit(Message(str(e), "error"))
        return {"exit_code": 1, "result": f"not applied: {e}; the verified patch is saved at {saved}"}
    save_handoff(svc.settings.state_dir, record)
    return {"exit_code": 0, "result": result}
