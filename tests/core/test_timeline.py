"""The timeline: segments from readings, interpolation, gaps, and one window's energy."""

from __future__ import annotations

import pytest

from pytest_carbon.timeline import Channel, Segment, WindowEnergy, build_segments, segments_window


def test_segments_split_at_failed_reads_and_resets_and_drop_single_readings():
    samples = [(0, 0.0), (10, 1.0), (20, None), (30, 5.0), (40, 6.0), (50, 2.0), (60, 3.0), (70, None), (80, 9.0)]
    segs = build_segments(samples)
    assert [(s.times, s.values) for s in segs] == [([0, 10], [0.0, 1.0]), ([30, 40], [5.0, 6.0]), ([50, 60], [2.0, 3.0])]


def test_duplicate_timestamps_keep_the_first_reading_and_a_time_going_back_splits():
    segs = build_segments([(0, 0.0), (10, 1.0), (10, 2.0), (20, 3.0)])
    assert [(s.times, s.values) for s in segs] == [([0, 10, 20], [0.0, 1.0, 3.0])]
    back = build_segments([(0, 0.0), (10, 1.0), (5, 0.5), (15, 2.0)])
    assert [(s.times, s.values) for s in back] == [([0, 10], [0.0, 1.0]), ([5, 15], [0.5, 2.0])]
    equal = build_segments([(0, 1.0), (10, 1.0)])  # no energy drawn is a reading, not a reset
    assert [(s.times, s.values) for s in equal] == [([0, 10], [1.0, 1.0])]
    assert build_segments([]) == [] and build_segments([(0, 1.0)]) == [] and build_segments([(0, None)]) == []


def test_interpolation():
    s = Segment([0, 10, 30], [0.0, 10.0, 50.0])
    assert (s.start, s.end) == (0, 30)
    assert [s.at(t) for t in (0, 5, 10, 20, 30)] == [0.0, 5.0, 10.0, 30.0, 50.0]
    for t in (-1, 31):
        with pytest.raises(ValueError, match=rf"^time {t} outside segment \[0, 30\]$"):
            s.at(t)


def test_channel_measured_energy_and_gaps():
    ch = Channel("cpu", [Segment([0, 10], [0.0, 4.0]), Segment([20, 40], [100.0, 103.0]), Segment([50], [7.0])])
    assert ch.measured_j() == 7.0
    assert ch.gaps() == [(10, 20), (40, 50)]
    assert Channel("x").gaps() == [] and Channel("x").measured_j() == 0.0
    assert Channel("x", [Segment(), Segment([1, 2], [0.0, 1.0])]).gaps() == []


def test_one_window_on_segments():
    segs = [Segment([0, 10], [0.0, 10.0]), Segment([20, 30], [50.0, 60.0])]
    assert segments_window(segs, 2, 8) == WindowEnergy(6.0, 6.0, 0)
    assert segments_window(segs, 5, 25) == WindowEnergy(None, 10.0, 10)  # 5 + 5 J covered, 10 ns of gap
    assert segments_window(segs, 22, 40) == WindowEnergy(None, 8.0, 10)  # past the last reading
    assert segments_window(segs, -5, 5) == WindowEnergy(None, 5.0, 5)
    assert segments_window(segs, 10, 20) == WindowEnergy(None, 0.0, 10)
    assert segments_window(segs, 4, 4) == WindowEnergy(0.0, 0.0, 0)
    assert segments_window([], 0, 10) == WindowEnergy(None, 0.0, 10)


def test_a_lower_reading_at_the_same_instant_is_a_reset():
    segs = build_segments([(0, 0.0), (10, 5.0), (20, 6.0), (20, 1.0), (30, 2.0)])
    assert [(s.times, s.values) for s in segs] == [([0, 10, 20], [0.0, 5.0, 6.0]), ([20, 30], [1.0, 2.0])]
    segs2 = build_segments([(0, 0.0), (10, 5.0), (20, 6.0), (20, 6.0)])
    assert [(s.times, s.values) for s in segs2] == [([0, 10, 20], [0.0, 5.0, 6.0])]


def test_single_readings_between_failures_make_no_segment():
    segs = build_segments([(0, 0.0), (10, 1.0), (20, None), (30, 5.0), (40, None), (50, 6.0), (60, 7.0)])
    assert [(s.times, s.values) for s in segs] == [([0, 10], [0.0, 1.0]), ([50, 60], [6.0, 7.0])]
    reset = build_segments([(0, 0.0), (10, 1.0), (20, 0.5), (30, 0.1), (40, 0.2)])  # 0.5 alone between two resets
    assert [(s.times, s.values) for s in reset] == [([0, 10], [0.0, 1.0]), ([30, 40], [0.1, 0.2])]


def test_repeated_instants_in_a_longer_segment():
    segs = build_segments([(0, 0.0), (10, 1.0), (20, 2.0), (20, 3.0), (20, 2.0), (30, 4.0)])
    assert [(s.times, s.values) for s in segs] == [([0, 10, 20, 30], [0.0, 1.0, 2.0, 4.0])]
    same = build_segments([(0, 0.0), (10, 5.0), (20, 6.0), (20, 6.0), (30, 7.0)])
    assert [(s.times, s.values) for s in same] == [([0, 10, 20, 30], [0.0, 5.0, 6.0, 7.0])]


def test_foreign_share_of_a_window_from_the_load_series():
    from pytest_carbon.timeline import NO_LOAD, LoadSeries

    S = 1_000_000_000
    series = LoadSeries([0, S, 2 * S], [0.0, 1.0, 3.0], [0.0, 0.5, 0.5])
    assert series.foreign_share(0, S) == 0.5  # half of the busy second was the tree's
    assert series.foreign_share(S, 2 * S) == 1.0  # the tree idle, the machine busy
    # Interpolated: busy 0.5 -> 2.0 (1.5 s), tree 0.25 -> 0.5 (0.25 s): 1 - 0.25 / 1.5
    assert series.foreign_share(S // 2, 3 * S // 2) == pytest.approx(1 - 0.25 / 1.5)
    # Both ends inside one interval: busy 1.5 -> 2.5 (1 s), tree flat at 0.5: all foreign
    assert series.foreign_share(5 * S // 4, 7 * S // 4) == pytest.approx(1.0)
    # A reading at one end, interpolated at the other: busy 1.0 -> 2.0, tree 0.5 -> 0.5
    assert series.foreign_share(S, 3 * S // 2) == 1.0
    # Readings that do not start at zero (a run's real instants): the interpolation's
    # differences are differences, not sums.
    late = LoadSeries([2 * S, 4 * S, 6 * S], [10.0, 14.0, 20.0], [4.0, 5.0, 8.0])
    # busy 12.0 -> 17.0 (5 s), tree 4.5 -> 6.5 (2 s): 1 - 2 / 5
    assert late.foreign_share(3 * S, 5 * S) == pytest.approx(0.6)
    third = LoadSeries([0, S, 2 * S], [0.0, 3.0, 6.0], [0.0, 1.0, 3.0])
    # busy 1.5 -> 4.5 (3 s), tree 0.5 -> 2.0 (1.5 s): half foreign; and from the first reading
    assert third.foreign_share(S // 2, 3 * S // 2) == pytest.approx(0.5)
    assert third.foreign_share(0, S // 2) == pytest.approx(1 - 0.5 / 1.5)
    assert series.foreign_share(-1, S) is None and series.foreign_share(S, 2 * S + 1) is None  # outside
    idle = LoadSeries([0, S], [2.0, 2.0], [1.0, 1.0])
    assert idle.foreign_share(0, S) is None  # nothing busy: no share to speak of
    over = LoadSeries([0, S], [0.0, 1.0], [0.0, 1.2])  # tick rounding: the tree above the machine
    assert over.foreign_share(0, S) == 0.0
    lost = LoadSeries([0, S], [0.0, 1.0], [1.0, 0.5])  # a descendant left the tree with its time
    assert lost.foreign_share(0, S) == 1.0
    assert NO_LOAD.foreign_share(0, S) is None
