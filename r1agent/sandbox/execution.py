"""What one command run in a sandbox produced, with output capped so a noisy test can't flood memory."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExecResult:
    """Outcome of one command. ``truncated`` says some output was cut (the text says where)."""

    exit_code: int
    stdout: str
    stderr: str
    duration_s: float
    timed_out: bool = False
    truncated: bool = False
    oom_killed: bool = False
    leftover_processes: int = 0

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


class CappedBuffer:
    """Keeps the first and last ``cap // 2`` bytes of a stream; the middle is counted, not stored."""

    def __init__(self, cap: int):
        self.half = max(cap // 2, 1)
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.half - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail += chunk
            if len(self.tail) > 2 * self.half:  # trim in batches, not on every chunk
                del self.tail[: len(self.tail) - self.half]

    @property
    def truncated(self) -> bool:
        return self.total > len(self.head) + min(len(self.tail), self.half)

    def text(self) -> str:
        """The kept output, with a visible note where bytes were dropped."""
        tail = bytes(self.tail[-self.half:])
        head = bytes(self.head).decode("utf-8", "replace")
        if not self.truncated:
            return head + tail.decode("utf-8", "replace")
        dropped = self.total - len(self.head) - len(tail)
        note = f"\n[r1agent: output capped at {2 * self.half} bytes; {dropped} bytes in the middle dropped]\n"
        return head + note + tail.decode("utf-8", "replace")
