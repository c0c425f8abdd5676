from ranges import merge_ranges, total_length


def test_disjoint_ranges_stay_apart():
    assert merge_ranges([(5, 6), (1, 2)]) == [(1, 2), (5, 6)]


def test_overlapping_ranges_merge():
    assert merge_ranges([(1, 4), (2, 6)]) == [(1, 6)]


def test_nested_range_is_absorbed():
    assert merge_ranges([(1, 10), (3, 4)]) == [(1, 10)]


def test_touching_ranges_merge():
    assert merge_ranges([(1, 3), (3, 5)]) == [(1, 5)]


def test_total_length_counts_overlap_once():
    assert total_length([(1, 4), (3, 6)]) == 5


def test_empty_input():
    assert merge_ranges([]) == []
