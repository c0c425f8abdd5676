"""Hand-off: deliver the verified patch (working tree, or a branch with a commit) and save
every patch to the run directory, so nothing is lost whatever happens to the repo."""

from __future__ import annotations

from pathlib import Path

from r1agent.errors import RepoError
from r1agent.events import Message, Phase
from r1agent.tools.git import (
    Handoff,
    apply_to_worktree,
    begin_handoff,
    commit_on_branch,
    commit_worktree_files,
    is_applied,
    load_handoff,
    made_commit,
    made_commit_on,
    open_repo,
    save_handoff,
    worktree_record,
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
    state_dir = svc.settings.state_dir
    done = load_handoff(state_dir, repo.working_tree_dir)
    if done and done.run_id == state.run_id and done.patch == best.patch:
        return {"exit_code": 0, "result": _said(done)}  # a resumed run whose hand-off had finished
    # Each step below checks whether a killed attempt of this run already made it, so it happens once.
    note = begin_handoff(state_dir, repo, state.run_id)
    try:
        if mode == "branch":
            branch = state.handoff.branch
            made = made_commit_on(repo, branch, note["head"], message)
            record = Handoff(run_id=state.run_id, repo=str(repo.working_tree_dir), mode="branch", patch=best.patch,
                             branch=branch, commit=made) if made else \
                commit_on_branch(repo, best.patch, branch, message, state.run_id)
        else:
            record = worktree_record(repo, best.patch, state.run_id) if is_applied(repo, best.patch) \
                else apply_to_worktree(repo, best.patch, state.run_id)
            if state.handoff.commit:
                made = made_commit(repo, note["head"], message)
                if made:
                    record.commit = made
                else:
                    record = commit_worktree_files(repo, record, message)
    except RepoError as e:
        emit(Message(str(e), "error"))
        return {"exit_code": 1, "result": f"not applied: {e}; the verified patch is saved at {saved}"}
    save_handoff(state_dir, record)
    return {"exit_code": 0, "result": _said(record)}


def _said(record) -> str:
    if record.mode == "branch":
        return f"committed {record.commit[:10]} on new branch {record.branch} (your checkout is unchanged)"
    return "applied to the working tree" + (f" and committed {record.commit[:10]}" if record.commit else "")
