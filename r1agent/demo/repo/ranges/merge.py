"""Merging closed integer ranges such as (1, 3) and (2, 5)."""


def merge_ranges(ranges):
    """Merge overlapping ranges into a sorted list of disjoint ranges."""
    merged = []
    for start, end in sorted(ranges):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def total_length(ranges):
    """Total length covered by the ranges, counting overlaps once."""
    return sum(end - start for start, end in merge_ranges(ranges))
