"""Which Debian (or Ubuntu) mirror and release the host uses, read from its apt sources.

The base image is built from the same mirror, so no mirror address lives in our code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from r1agent.errors import SandboxError

APT_DIR = Path("/etc/apt")
DEBOOTSTRAP_SCRIPTS = Path("/usr/share/debootstrap/scripts")


@dataclass(frozen=True)
class AptSource:
    uri: str
    suite: str
    components: tuple[str, ...]


def _deb822_stanzas(text: str) -> list[dict[str, str]]:
    stanzas, current, key = [], {}, None
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        if not line.strip():
            if current:
                stanzas.append(current)
            current, key = {}, None
        elif line[0] in " \t" and key:
            current[key] += " " + line.strip()
        elif ":" in line:
            key, _, value = line.partition(":")
            key = key.strip().lower()
            current[key] = value.strip()
    if current:
        stanzas.append(current)
    return stanzas


def _from_deb822(text: str) -> list[AptSource]:
    out = []
    for st in _deb822_stanzas(text):
        if "deb" not in st.get("types", "").split() or st.get("enabled", "yes").lower() == "no":
            continue
        comps = tuple(st.get("components", "").split())
        for uri in st.get("uris", "").split():
            out += [AptSource(uri, suite, comps) for suite in st.get("suites", "").split()]
    return out


def _from_one_line(text: str) -> list[AptSource]:
    out = []
    for line in text.splitlines():
        line = re.sub(r"\[[^]]*\]", " ", line.split("#", 1)[0]).split()  # drop [options]
        if len(line) >= 3 and line[0] == "deb":
            out.append(AptSource(line[1], line[2], tuple(line[3:])))
    return out


def host_sources(apt_dir: Path = APT_DIR) -> list[AptSource]:
    """Every enabled binary source of the host, in apt's reading order."""
    found: list[AptSource] = []
    main_list = apt_dir / "sources.list"
    if main_list.is_file():
        found += _from_one_line(main_list.read_text(errors="replace"))
    parts = apt_dir / "sources.list.d"
    if parts.is_dir():
        for path in sorted(parts.iterdir()):
            if path.suffix == ".sources":
                found += _from_deb822(path.read_text(errors="replace"))
            elif path.suffix == ".list":
                found += _from_one_line(path.read_text(errors="replace"))
    return found


def release_mirror(apt_dir: Path = APT_DIR, scripts: Path = DEBOOTSTRAP_SCRIPTS) -> AptSource:
    """The first source naming a release debootstrap knows (not -updates/-security) with 'main'."""
    for src in host_sources(apt_dir):
        if src.uri.startswith(("http://", "https://", "file:/")) and "main" in src.components:
            if (scripts / src.suite).exists():
                return src
    raise SandboxError(
        f"no Debian or Ubuntu release mirror found in {apt_dir}/sources.list(.d) to build the base image from; "
        "set sandbox.base_image to an image you have locally (docker images)"
    )
