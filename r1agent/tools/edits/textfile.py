"""A text file as lines plus their own line ends, so edits keep CRLF, a BOM and a missing final newline."""

from __future__ import annotations

from dataclasses import dataclass

BOM = "\ufeff"
BINARY_SNIFF_BYTES = 8192


class BinaryFile(ValueError):
    """The bytes are not UTF-8 text (a NUL byte, or undecodable)."""


def split_lines(text: str) -> list[str]:
    """Lines without their "\\n" (unlike str.splitlines, which also breaks on \\f, \\x1c, U+2028...)."""
    if not text:
        return []
    parts = text.split("\n")
    return parts[:-1] if parts[-1] == "" else parts


def block_lines(text: str) -> list[str]:
    """Lines of a SEARCH or REPLACE text, with any CR left by a CRLF answer removed."""
    return [line.removesuffix("\r") for line in split_lines(text)]


@dataclass
class TextFile:
    lines: list[str]
    ends: list[str]  # per line: "\n", "\r\n", or "" for a last line without newline
    newline: str  # the dominant line end, used for new lines
    bom: bool = False

    @classmethod
    def decode(cls, data: bytes) -> TextFile:
        if b"\x00" in data[:BINARY_SNIFF_BYTES]:
            raise BinaryFile("contains NUL bytes")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise BinaryFile(f"not UTF-8 text ({e.reason} at byte {e.start})") from None
        return cls.from_text(text)

    @classmethod
    def from_text(cls, text: str) -> TextFile:
        bom = text.startswith(BOM)
        text = text.removeprefix(BOM)
        lines, ends = [], []
        for raw in text.split("\n"):
            if raw.endswith("\r"):
                lines.append(raw[:-1])
                ends.append("\r\n")
            else:
                lines.append(raw)
                ends.append("\n")
        # the piece after the last "\n" is either empty (final newline) or a line without one
        last = lines.pop()
        ends.pop()
        if last:
            lines.append(last)
            ends.append("")
        crlf = ends.count("\r\n")
        newline = "\r\n" if crlf > len(ends) - crlf - ends.count("") else "\n"
        return cls(lines, ends, newline, bom)

    @property
    def final_newline(self) -> bool:
        return not self.ends or self.ends[-1] != ""

    def splice(self, start: int, end: int, new: list[str]) -> None:
        """Replace lines [start, end) with ``new``, keeping the file's newline style and final newline."""
        had_final = self.final_newline
        self.lines[start:end] = new
        self.ends[start:end] = [self.newline] * len(new)
        if self.ends:
            if not had_final:
                self.ends[-1] = ""
            elif self.ends[-1] == "":
                self.ends[-1] = self.newline
            for k in range(len(self.ends) - 1):
                if self.ends[k] == "":
                    self.ends[k] = self.newline

    def text(self) -> str:
        return (BOM if self.bom else "") + "".join(line + end for line, end in zip(self.lines, self.ends, strict=True))

    def copy(self) -> TextFile:
        return TextFile(list(self.lines), list(self.ends), self.newline, self.bom)
