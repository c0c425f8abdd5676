"""Reading git-style patches, in one place and with one parser (unidiff): the files a patch touches,
its diffstat, and the changed lines candidates are compared by. The TUI's diff view reads hunks from
the same parse."""

from __future__ import annotations

from unidiff import PatchedFile, PatchSet, UnidiffParseError


def parse(patch: str) -> list[PatchedFile]:
    """The patch's files. Text that is not a unified diff holds none: every patch read here was made
    by r1agent or git, so a parse error means "no diff", never a partial one."""
    if not patch.strip():
        return []
    try:
        return list(PatchSet(patch))
    except UnidiffParseError:
        return []


def touched_files(patch: str) -> list[str]:
    """Every path the patch touches: created, modified or removed (the new name of a rename)."""
    return list(dict.fromkeys(f.path for f in parse(patch)))


def kept_files(patch: str) -> list[str]:
    """The paths the patch leaves in place: created or modified, not removed."""
    return list(dict.fromkeys(f.path for f in parse(patch) if not f.is_removed_file))


def diffstat(patch: str) -> dict[str, list[int]]:
    """{path: [added, removed]}."""
    return {f.path: [f.added, f.removed] for f in parse(patch)}


def changed_lines(patch: str) -> tuple[str, ...]:
    """The patch reduced to its paths and changed lines, whitespace folded and blank changes dropped,
    so that two equal fixes, written with other spacing or context, compare equal."""
    out: list[str] = []
    for f in parse(patch):
        out.append(f.path)
        for hunk in f:
            for line in hunk:
                if (line.is_added or line.is_removed) and line.value.strip():
                    out.append(line.line_type + " ".join(line.value.split()))
    return tuple(out)
