"""The pure budget core: parsing, matching, precedence, checks."""

import pytest

from pytest_carbon.budget import Budget, BudgetError, Measurement, check, for_phase, for_test, parse_table


def test_table_kinds():
    t = parse_table(
        {
            "session": "500 g",
            "default": "5 g",
            "tests/test_a.py::test_*": {"co2": "30 g", "energy": "0.1 kWh"},
            "phase:sample": "20 g",
            "phase:sample/item": "0.5 g",
        },
        "pyproject.toml",
    )
    assert t.session.co2_g == 500 and t.default.co2_g == 5
    assert t.tests[0][1].energy_j == pytest.approx(0.1 * 3.6e6)
    assert t.phases == (("sample", Budget(20.0, None, 'pyproject.toml [tool.pytest-carbon.budgets] "phase:sample"', "phase:sample")),)
    assert t.items[0][1].co2_g == 0.5
    assert t.keys() == ["session", "default", "tests/test_a.py::test_*", "phase:sample", "phase:sample/item"]


def test_most_specific_pattern_wins_and_first_declared_on_a_tie():
    t = parse_table({"*": "9 g", "tests/*": "8 g", "tests/test_a.py::*": "7 g", "tests/test_a.py::t?st_x": "6 g", "tests/test_a.py::te?t_x": "5 g"}, "p")
    assert for_test(t, "tests/test_a.py::test_x").co2_g == 6
    assert for_test(t, "tests/test_a.py::test_y").co2_g == 7
    assert for_test(t, "tests/test_b.py::test_y").co2_g == 8
    assert for_test(t, "other.py::t").co2_g == 9


def test_marker_beats_pattern_beats_default():
    t = parse_table({"default": "1 g", "a.py::*": "2 g"}, "p")
    marker = Budget(3.0, None, "@pytest.mark.carbon(co2='3 g')", "marker")
    assert for_test(t, "a.py::x", marker) is marker
    assert for_test(t, "a.py::x").co2_g == 2
    assert for_test(t, "b.py::x").co2_g == 1
    assert for_test(parse_table({}, "p"), "b.py::x") is None


def test_phase_budget_from_code_beats_pyproject():
    t = parse_table({"phase:sam*": "20 g", "phase:sample/item": "1 g"}, "p")
    code = Budget(1.0, None, "carbon.phase('sample', co2='1 g')", "code")
    assert for_phase(t, "sample", code) == (code, t.items[0][1])
    assert for_phase(t, "sampler")[0].co2_g == 20
    assert for_phase(t, "train") == (None, None)


def test_check_metrics_estimates_and_unknowns():
    b = Budget(1.0, 100.0, "src", "k")
    assert check("test", b, Measurement(0.5, 50.0)) == []
    over = check("test", b, Measurement(2.0, 150.0))
    assert [(v.metric, v.measured, v.limit) for v in over] == [("co2", 2.0, 1.0), ("energy", 150.0, 100.0)]
    est = check("test", b, Measurement(0.5, 50.0, estimated=True), require_measured=True)
    assert [v.metric for v in est] == ["unmeasured"] and "require_measured" in est[0].reason
    assert check("test", b, Measurement(0.5, 50.0, estimated=True)) == []
    gap = check("test", b, Measurement(None, None))
    assert [v.metric for v in gap] == ["undecided"] and "meter failed" in gap[0].reason
    assert [v.metric for v in check("test", b, Measurement(None, None), require_measured=True)] == ["unmeasured"]
    assert check("test", None, Measurement(9.0, 9.0)) == []


@pytest.mark.parametrize(
    "table, message",
    [
        ({"default": "5"}, "'5' has no unit; a CO2eq mass needs one of mg, g, kg, t"),
        ({"default": 5}, "5 has no unit"),
        ({"default": "5 kWh"}, "unknown unit 'kwh' for a CO2eq mass"),
        ({"default": "-5 g"}, "'-5 g' must be zero or positive"),
        ({"default": "five g"}, "'five g' is not a CO2eq mass"),
        ({"default": {"power": "5 W"}}, "unknown metric 'power'; a budget table takes co2 and/or energy"),
        ({"default": {}}, "an empty table sets no budget"),
        ({"default": {"energy": "5 g"}}, "energy: '5 g': unknown unit 'g' for an energy"),
        ({"default": {"co2": 5}}, "co2: 5 has no unit"),
        ({"default": ["5 g"]}, "['5 g'] is not a budget"),
        ({"default": True}, "True is not a budget"),
        ({"phase:": "5 g"}, "no phase name after 'phase:'"),
        ({"phase:sample/items": "5 g"}, "ends in '/items'; only 'phase:NAME/item' is a per-item budget"),
        ({"phases:sample": "5 g"}, "'phases:sample' is not a budget key"),
        ({"sessions": "5 g"}, "'sessions' is not a budget key"),
        ({" ": "5 g"}, "an empty key"),
    ],
)
def test_malformed_budgets_name_key_value_and_forms(table, message):
    with pytest.raises(BudgetError) as e:
        parse_table(table, "pyproject.toml")
    assert message in str(e.value)
    assert str(e.value).startswith("pyproject.toml: [tool.pytest-carbon.budgets]")


def test_budgets_must_be_a_table():
    with pytest.raises(BudgetError, match=r"budgets must be a table of budgets, not '5 g'"):
        parse_table("5 g", "pyproject.toml")
