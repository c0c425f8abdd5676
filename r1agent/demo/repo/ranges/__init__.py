"""Tiny interval utilities: the demo repository that `r1agent demo` fixes."""

from .merge import merge_ranges, total_length

__all__ = ["merge_ranges", "total_length"]
