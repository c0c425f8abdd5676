"""The instances a batch runs: SWE-bench's instance format, or the simple {repo_path, issue} form."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from r1agent.errors import InputError

_SAFE_ID = re.compile(r"[^A-Za-z0-9._-]+")
_OWNER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")


class Instance(BaseModel):
    """One issue to fix. SWE-bench fields keep SWE-bench's names; ``repo_path`` marks the simple form."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    instance_id: str
    problem_statement: str = Field(min_length=1)
    repo: str = ""
    """``owner/name`` (SWE-bench); empty in the simple form."""
    repo_path: str = ""
    """A local git repo (the simple form); the batch works on a clean clone of it, never on it."""
    base_commit: str = ""
    """Empty in the simple form means the local repo's HEAD."""
    test_patch: str = ""
    patch: str = ""
    """SWE-bench's gold fix; used only by ``batch --gold``, never shown to the model."""
    FAIL_TO_PASS: list[str] = Field(default_factory=list)
    PASS_TO_PASS: list[str] = Field(default_factory=list)
    environment_setup_commit: str = ""
    tests: list[str] = Field(default_factory=list)
    """Simple form only: failing tests the fix must make pass, given to the agent."""

    @field_validator("FAIL_TO_PASS", "PASS_TO_PASS", mode="before")
    @classmethod
    def _json_list(cls, v):
        # SWE-bench's datasets store these lists as JSON-encoded strings.
        if isinstance(v, str):
            try:
                v = json.loads(v) if v.strip() else []
            except json.JSONDecodeError:
                raise ValueError("expected a list of test ids, or a JSON string of one") from None
        return v

    @model_validator(mode="after")
    def _one_form(self) -> Instance:
        if bool(self.repo) == bool(self.repo_path):
            raise ValueError("give either repo (owner/name, with base_commit) or repo_path (a local git repo)")
        if self.repo and not _OWNER_NAME.match(self.repo):
            raise ValueError(f"repo {self.repo!r}: expected owner/name, like psf/requests")
        if self.repo and not self.base_commit:
            raise ValueError("base_commit is required with repo")
        return self

    @property
    def slug(self) -> str:
        """A file-name-safe form of the id, unique per id (a hash suffix when characters were replaced)."""
        safe = _SAFE_ID.sub("-", self.instance_id).strip("-.") or "instance"
        if safe != self.instance_id:
            safe += "-" + hashlib.sha1(self.instance_id.encode()).hexdigest()[:8]
        return safe

    @property
    def repo_name(self) -> str:
        """What the report groups by: owner/name, or the local repo's folder name."""
        return self.repo or Path(self.repo_path).name

    @property
    def evaluable(self) -> bool:
        return bool(self.FAIL_TO_PASS)


def _simple_form(data: dict) -> dict:
    """Map the simple form's field names onto the instance's; derive an id when none is given."""
    if "issue" not in data or "repo_path" not in data:
        return data
    data = dict(data)
    data["problem_statement"] = data.pop("issue")
    if not data.get("instance_id"):
        digest = hashlib.sha1(f"{data['repo_path']}\n{data['problem_statement']}".encode()).hexdigest()[:10]
        data["instance_id"] = f"{Path(str(data['repo_path'])).name}-{digest}"
    return data


def parse_instance(data: dict, where: str) -> Instance:
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected a JSON object per line")
    try:
        return Instance.model_validate(_simple_form(data))
    except ValidationError as e:
        err = e.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "instance"
        raise InputError(f"{where}: {field}: {err['msg']}") from None


def load_instances(path: Path) -> list[Instance]:
    """Every instance of a JSONL file, in order; InputError naming the line of the first bad one."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read: {e}") from None
    instances: list[Instance] = []
    seen: set[str] = set()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(f"{path}:{n}: invalid JSON: {e.msg}") from None
        inst = parse_instance(data, f"{path}:{n}")
        if inst.instance_id in seen:
            raise InputError(f"{path}:{n}: instance_id {inst.instance_id!r} appears twice")
        seen.add(inst.instance_id)
        if inst.repo_path and not Path(inst.repo_path).is_absolute():
            # A relative repo_path means relative to the instances file, wherever the batch starts.
            inst = inst.model_copy(update={"repo_path": str((path.parent / inst.repo_path).resolve())})
        instances.append(inst)
    if not instances:
        raise InputError(f"{path}: no instances")
    return instances
