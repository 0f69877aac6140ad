"""The history's pure statistics: thresholds, quartiles, sparklines and trends, with expected
values written out or computed a second way (the standard library's quantiles)."""

from __future__ import annotations

import statistics

import pytest

from pytest_carbon.history.stats import Judgement, Threshold, ThresholdError, judge, parse_threshold, quartiles, sparkline, trend


@pytest.mark.parametrize(("text", "kind", "value"), [("percent:10", "percent", 10.0), ("zscore:3", "zscore", 3.0), ("IQR:1.5", "iqr", 1.5), ("percent:10%", "percent", 10.0)])
def test_thresholds_parse(text, kind, value):
    assert parse_threshold(text) == Threshold(kind, value)


@pytest.mark.parametrize("text", ["percent", "z:3", "zscore:", "zscore:abc", "iqr:-1", "percent:0", "zscore:inf", "zscore:nan"])
def test_bad_thresholds_say_what_is_accepted(text):
    with pytest.raises(ThresholdError, match="percent:10|positive, finite|not a number"):
        parse_threshold(text)


def test_percent_threshold_holds_a_value_to_the_mean_plus_the_percentage():
    h = [10.0, 10.0, 10.0, 10.0]
    assert judge(11.01, h, Threshold("percent", 10)).above  # limit 11
    j = judge(10.99, h, Threshold("percent", 10))
    assert not j.above and j.limit == pytest.approx(11.0) and j.mean == 10.0 and j.n == 4


def test_zscore_threshold_holds_a_value_to_the_mean_plus_k_standard_deviations():
    h = [9.0, 10.0, 11.0]  # mean 10, sample standard deviation 1
    assert judge(13.01, h, Threshold("zscore", 3)).above
    j = judge(12.99, h, Threshold("zscore", 3))
    assert not j.above and j.limit == pytest.approx(13.0) and j.spread == pytest.approx(1.0)
    assert "z = 2.99" in j.statistic


def test_iqr_threshold_holds_a_value_to_q3_plus_k_iqrs():
    h = [1.0, 2.0, 3.0, 4.0, 5.0]  # Q1 2, Q3 4 (linear interpolation), IQR 2: limit 4 + 1.5 x 2 = 7
    assert quartiles(h) == (2.0, 3.0, 4.0)
    assert judge(7.01, h, Threshold("iqr", 1.5)).above
    assert not judge(6.99, h, Threshold("iqr", 1.5)).above


def test_quartiles_agree_with_the_standard_librarys_inclusive_method():
    for h in ([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0], [0.5, 0.25], [7.0, 7.0, 8.0]):
        q = statistics.quantiles(h, n=4, method="inclusive")
        assert quartiles(h) == pytest.approx((q[0], q[1], q[2]))


def test_a_history_without_spread_judges_by_its_value():
    h = [5.0, 5.0, 5.0]
    assert judge(5.1, h, Threshold("zscore", 3)).above and not judge(5.0, h, Threshold("zscore", 3)).above
    assert judge(5.1, h, Threshold("iqr", 1.5)).above


def test_sparkline_scales_between_least_and_greatest_and_marks_unknowns():
    assert sparkline([0.0, 7.0]) == "▁█"
    assert sparkline([1.0, None, 3.0, 2.0]) == "▁·█▅"  # 2 is halfway: bar 4 of 0-7
    assert sparkline([4.0, 4.0]) == "▅▅" and sparkline([None]) == "·"


def test_trend_is_the_least_squares_slope_relative_to_the_mean():
    assert trend([1.0, 2.0, 3.0]) == pytest.approx(0.5)  # slope 1, mean 2
    assert trend([2.0, None, 2.0, 2.0]) == pytest.approx(0.0)
    assert trend([1.0, 2.0]) is None




def test_judgements_written_out_for_each_threshold():
    h = [8.0, 10.0, 12.0]  # mean 10, sample standard deviation 2
    assert judge(12.0, h, Threshold("percent", 10)) == Judgement(3, 10.0, 2.0, pytest.approx(11.0), True, "+20.0% vs the mean (limit +10%)")
    assert judge(11.0, h, Threshold("percent", 10)).above is False  # at the limit: not above
    assert judge(15.0, h, Threshold("zscore", 3)) == Judgement(3, 10.0, 2.0, 16.0, False, "z = 2.50 (limit 3)")
    assert judge(16.0, h, Threshold("zscore", 3)).above is False
    iqr = judge(8.0, [1.0, 2.0, 3.0, 4.0, 5.0], Threshold("iqr", 1.5))
    assert iqr == Judgement(5, 3.0, 2.0, 7.0, True, "2.00 IQR above Q3 (limit 1.5)")
    assert judge(7.0, [1.0, 2.0, 3.0, 4.0, 5.0], Threshold("iqr", 1.5)).above is False
    small = judge(1.7, [1.0, 1.2, 1.4, 1.6, 1.8], Threshold("iqr", 1.5))  # an IQR under 1 is still a spread
    assert small.spread == pytest.approx(0.4) and small.statistic == "0.25 IQR above Q3 (limit 1.5)"


def test_judgements_without_spread_or_with_a_zero_mean_say_so():
    assert judge(5.1, [5.0, 5.0, 5.0], Threshold("zscore", 3)).statistic == "no spread in the history; above its value"
    assert judge(5.0, [5.0, 5.0, 5.0], Threshold("zscore", 3)).statistic == "no spread in the history; not above its value"
    flat = [5.0, 5.0, 5.0, 5.0, 9.0]  # Q1 = Q3 = 5
    assert judge(6.0, flat, Threshold("iqr", 1.5)).statistic == "no spread in the history's middle half; above Q3"
    assert judge(5.0, flat, Threshold("iqr", 1.5)).statistic == "no spread in the history's middle half; not above Q3"
    assert judge(0.6, [0.5, 0.5], Threshold("percent", 10)).statistic == "+20.0% vs the mean (limit +10%)"  # a mean under 1 J
    zero = judge(1.0, [0.0, 0.0], Threshold("percent", 10))
    assert zero.above and zero.statistic == "+inf% vs the mean (limit +10%)" and zero.n == 2


def test_judging_needs_two_values():
    with pytest.raises(ValueError, match=r"^judging against a history needs at least 2 values$"):
        judge(1.0, [1.0], Threshold("percent", 10))
    assert judge(1.0, [1.0, 1.0], Threshold("percent", 10)).n == 2


def test_threshold_edges():
    assert parse_threshold("percent:0.5") == Threshold("percent", 0.5)  # under 1 is allowed
    assert parse_threshold("  zscore:2.5  ") == Threshold("zscore", 2.5)
    for bad in ("zscore:3X", "percent:10:20", "iqr:0"):
        with pytest.raises(ThresholdError):
            parse_threshold(bad)
    assert str(Threshold("iqr", 1.5)) == "iqr:1.5"


def test_quartiles_of_one_value_and_trend_edges():
    assert quartiles([4.0]) == (4.0, 4.0, 4.0)
    assert trend([-1.0, 0.0, 1.0]) is None  # a zero mean: no relative trend
    assert trend([2.0, 1.0, 3.0, 2.0]) == pytest.approx(0.1)  # slope 0.2 (least squares), mean 2
    # points (0, 1), (3, 1), (4, 2): mean x 7/3, mean y 4/3, Sxy 5/3, Sxx 26/3: slope 5/26, over 4/3
    assert trend([1.0, None, None, 1.0, 2.0]) == pytest.approx((5 / 26) / (4 / 3))
