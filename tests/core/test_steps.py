"""Per-item statistics from step marks, with values worked out by hand."""

from __future__ import annotations

import math
import statistics

import pytest

from pytest_carbon.steps import chunk_bounds, per_item, points, quantile, t95

M = 1_000_000  # ns per ms


def watts(w: float):
    return lambda a, b: w * (b - a) / 1e9


def test_chunks_are_the_fewest_items_that_last_the_resolution_and_a_remainder_joins_the_last():
    marks = [10 * M * i for i in range(1, 8)]  # 7 items of 10 ms from t0 = 0
    assert chunk_bounds(0, marks, 0, 0) == ([0, *marks], 1)
    # 25 ms resolution: 3 items (30 ms) per chunk; the 7th item joins the second chunk
    assert chunk_bounds(0, marks, 0, 25 * M) == ([0, 30 * M, 70 * M], 3)
    # after 2 warm-up items, chunks start where the warm-up ended: 5 items left, 2 per chunk
    # would make a 20 ms chunk, and 3 leave 2 that join it: one chunk of all 5
    assert chunk_bounds(0, marks, 2, 25 * M) == ([20 * M, 70 * M], 5)
    assert chunk_bounds(0, marks, 2, 15 * M) == ([20 * M, 40 * M, 70 * M], 2)
    assert chunk_bounds(0, marks, 7, 0) == ([], 0)  # nothing after the warm-up
    # all the items together shorter than the resolution: one chunk of all
    assert chunk_bounds(0, marks, 0, 1000 * M) == ([0, 70 * M], 7)
    assert points(0, marks, 2, 15 * M) == [20 * M, 40 * M, 70 * M]


def test_the_issues_example_constant_100_w_50_steps_of_20_ms_after_5_of_100_ms():
    marks = [100 * M * i for i in range(1, 6)] + [500 * M + 20 * M * i for i in range(1, 51)]
    p = per_item(0, marks, 5, 0, watts(100.0), g_per_j=0.001)
    assert p is not None
    assert (p.n, p.chunks, p.items_per_chunk, p.warmup_n) == (50, 50, 1, 5)
    assert p.median_j == pytest.approx(2.0) and p.mean_j == pytest.approx(2.0)
    assert p.warmup_energy_j == pytest.approx(50.0)  # 5 x 100 ms at 100 W, apart from the items
    assert p.ci95_j == (pytest.approx(2.0), pytest.approx(2.0))  # no spread at all
    d = p.to_json()
    assert d["median_co2_g"] == pytest.approx(0.002) and d["warmup"] == {"n": 5, "energy_j": pytest.approx(50.0), "mean_j": pytest.approx(10.0)}


def test_spread_percentiles_and_the_t_interval_of_the_mean():
    # Four items of 10, 20, 30 and 40 ms at 1000 W: 10, 20, 30, 40 J
    marks = [10 * M, 30 * M, 60 * M, 100 * M]
    p = per_item(0, marks, 0, 0, watts(1000.0), 0.5)
    assert p is not None
    values = [10.0, 20.0, 30.0, 40.0]
    assert p.median_j == pytest.approx(25.0) and p.mean_j == pytest.approx(25.0)
    assert p.p10_j == pytest.approx(13.0) and p.p90_j == pytest.approx(37.0)  # 10 + 0.3 x 10; 30 + 0.7 x 10
    half = 3.182 * statistics.stdev(values) / 2  # t(0.975, 3 df) x s / sqrt(4)
    assert p.ci95_j == (pytest.approx(25.0 - half), pytest.approx(25.0 + half))


def test_unequal_chunks_weigh_the_mean_by_items_and_unknown_chunks_are_left_out():
    marks = [10 * M * i for i in range(1, 8)]  # chunks of 3 and 4 items at 25 ms resolution
    p = per_item(0, marks, 0, 25 * M, watts(100.0), 0.5)
    assert p is not None and (p.chunks, p.items_per_chunk, p.n) == (2, 3, 7)
    assert p.mean_j == pytest.approx(1.0)  # 100 W x 10 ms per item
    gappy = per_item(0, marks, 0, 25 * M, lambda a, b: None if a == 0 else 100.0 * (b - a) / 1e9, 0.5)
    assert gappy is not None and (gappy.chunks, gappy.unknown_chunks) == (1, 1) and gappy.ci95_j is None
    assert per_item(0, marks, 0, 25 * M, lambda a, b: None, 0.5) is None
    short = per_item(0, marks, 0, 1000 * M, watts(100.0), 0.5)
    assert short is not None and short.approximate and short.chunks == 1 and short.ci95_j is None
    later = per_item(500 * M, [500 * M + m for m in marks], 0, 1000 * M, watts(100.0), 0.5)  # the same, later
    assert later is not None and later.approximate


def test_t_quantiles_and_quantiles():
    assert (t95(1), t95(10), t95(30), t95(35), t95(1000)) == (12.706, 2.228, 2.042, 2.042, 1.960)
    with pytest.raises(ValueError, match="a t quantile needs 1 or more degrees of freedom"):
        t95(0)
    assert quantile([1.0], 0.9) == 1.0
    xs = [1.0, 2.0, 3.0, 4.0, 5.0]
    assert [quantile(xs, q) for q in (0.0, 0.1, 0.5, 0.9, 1.0)] == [1.0, 1.4, 3.0, 4.6, 5.0]
    assert math.isclose(quantile(xs, 0.25), statistics.quantiles(xs, n=4, method="inclusive")[0])


def test_the_json_of_per_item_statistics_written_out():
    marks = [10 * M, 30 * M, 60 * M, 100 * M, 150 * M]  # 10, 20, 30, 40, 50 ms at 1000 W
    p = per_item(0, marks, 1, 0, watts(1000.0), 0.5)  # the 10 J item is the warm-up
    assert p is not None
    half = 3.182 * statistics.stdev([20.0, 30.0, 40.0, 50.0]) / 2
    assert p.to_json() == {
        "n": 4, "chunks": 4, "items_per_chunk": 1, "median_j": pytest.approx(35.0), "p10_j": pytest.approx(23.0),
        "p90_j": pytest.approx(47.0), "mean_j": pytest.approx(35.0), "ci95_j": [pytest.approx(35.0 - half), pytest.approx(35.0 + half)],
        "median_co2_g": pytest.approx(17.5), "mean_co2_g": pytest.approx(17.5),
        "ci95_co2_g": [pytest.approx((35.0 - half) / 2), pytest.approx((35.0 + half) / 2)],
        "approximate": False, "unknown_chunks": 0, "warmup": {"n": 1, "energy_j": pytest.approx(10.0), "mean_j": pytest.approx(10.0)},
    }  # fmt: skip
    none = per_item(0, marks, 0, 1000 * M, watts(1000.0), 0.5)  # one chunk: no interval
    assert none is not None and none.to_json()["ci95_j"] is None and none.to_json()["ci95_co2_g"] is None
    assert none.to_json()["warmup"] == {"n": 0, "energy_j": 0.0, "mean_j": None}  # no warm-up, not an empty one measured


def test_boundaries_of_chunks_intervals_and_quantiles():
    marks = [10 * M, 20 * M, 30 * M]
    assert chunk_bounds(0, marks, 0, 10 * M) == ([0, *marks], 1)  # as long as the resolution: a measurement
    three = per_item(0, marks, 0, 25 * M, watts(100.0), 0.5)  # 3 items, 25 ms: one chunk of all 3
    assert three is not None and (three.chunks, three.items_per_chunk, three.approximate) == (1, 3, False)
    exact = per_item(0, marks, 0, 30 * M, watts(100.0), 0.5)  # the one chunk lasts exactly the resolution
    assert exact is not None and not exact.approximate
    two = per_item(0, [10 * M, 30 * M], 0, 0, watts(100.0), 0.5)  # two chunks: an interval already
    assert two is not None and two.ci95_j is not None
    gaps = per_item(0, [10 * M, 20 * M, 30 * M], 0, 0, lambda a, b: None if a < 20 * M else 1.0, 0.5)
    assert gaps is not None and (gaps.unknown_chunks, gaps.chunks) == (2, 1)
    assert points(0, [10 * M, 20 * M], 0, 0) == [0, 10 * M, 20 * M]  # no warm-up: chunks start at the phase's start
    assert quantile([1.0, 3.0], 0.5) == 2.0
    assert (t95(40), t95(59), t95(60), t95(119), t95(120), t95(121)) == (2.021, 2.021, 2.000, 2.000, 1.980, 1.960)


def test_the_coarsest_resolution_in_nanoseconds():
    from pytest_carbon.steps import coarsest_ns

    assert coarsest_ns({"cpu": 0.1, "gpu:0": 1.5, "ram": 0.0}) == 1_500_000_000
    assert coarsest_ns({}) == 0  # no channel: no chunk needs to be longer than nothing
