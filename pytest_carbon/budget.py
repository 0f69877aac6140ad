"""Pure budgets: declarations -> the budget that applies -> violations.

No pytest, no meters, no formatting of reports. Values are grams of CO2eq and joules.

Keys of ``[tool.pytest-carbon.budgets]``:

* ``session``: the whole run;
* ``default``: every measured test without a closer match;
* ``phase:NAME``: every phase called NAME (fnmatch pattern) in any test;
* ``phase:NAME/item``: per item of such a phase;
* anything else: a node-id pattern (fnmatch). The most specific match wins: the pattern with
  the most literal characters, the first declared on a tie.

A value is a CO2 amount (``"5 g"``) or a table with ``co2``, ``energy`` or both.
"""

from __future__ import annotations

import fnmatch
from typing import Any, NamedTuple, Protocol, Sequence

from .units import UnitError, parse_co2_g, parse_energy_j

FORMS = (
    'a CO2 amount such as "5 g" (units mg, g, kg, t), or a table such as'
    ' { co2 = "5 g", energy = "10 Wh" } (energy units J, kJ, MJ, Wh, kWh, MWh)'
)
KEY_FORMS = 'session, default, "phase:NAME", "phase:NAME/item", or a node-id pattern such as "tests/test_x.py::test_*"'


class BudgetError(ValueError):
    """A budget that cannot be read; the message names the key, the value and the accepted forms."""


class Budget(NamedTuple):
    """A declared limit in g CO2eq and/or joules, and where it was declared."""

    co2_g: float | None
    energy_j: float | None
    source: str  # where it was declared, for messages: pyproject key, marker, or code
    key: str = ""  # the pattern or key that applied

    def as_dict(self) -> dict[str, Any]:
        return {"co2_g": self.co2_g, "energy_j": self.energy_j, "source": self.source, "key": self.key}


class Violation(NamedTuple):
    """One budget a subject went over, or could not be judged against."""

    subject: str  # "test", "phase 'sample'", "per item of phase 'sample'", "session"
    # "co2" | "energy": over; "unmeasured": cannot be judged and fails (require_measured);
    # "undecided": unknown energy, reported only; "inconclusive": a per-item interval that
    # straddles the limit, reported only; "unproven": the same with inconclusive = "fail"
    metric: str
    measured: float | None
    limit: float
    budget: Budget
    reason: str = ""  # for "unmeasured" and "undecided": why the measurement cannot be judged
    interval: tuple[float, float] | None = None  # the 95% interval judged, in the limit's unit
    unit: str = ""  # "co2" or "energy": what measured, limit and interval are, where metric says neither

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "subject": self.subject,
            "metric": self.metric,
            "measured": self.measured,
            "limit": self.limit,
            "source": self.budget.source,
            "key": self.budget.key,
            "reason": self.reason,
        }
        if self.interval is not None:
            out["interval"] = list(self.interval)
            out["unit"] = self.unit
        return out


# Findings that are reported but do not fail a test.
PASSING_METRICS = frozenset({"undecided", "inconclusive"})


def fails(v: Violation) -> bool:
    return v.metric not in PASSING_METRICS


class BudgetTable(NamedTuple):
    """The budgets of ``[tool.pytest-carbon.budgets]``: session, default, and by pattern."""

    session: Budget | None = None
    default: Budget | None = None
    tests: tuple[tuple[str, Budget], ...] = ()
    phases: tuple[tuple[str, Budget], ...] = ()
    items: tuple[tuple[str, Budget], ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.session or self.default or self.tests or self.phases or self.items)

    def keys(self) -> list[str]:
        out = []
        if self.session:
            out.append("session")
        if self.default:
            out.append("default")
        out += [p for p, _ in self.tests] + [f"phase:{p}" for p, _ in self.phases] + [f"phase:{p}/item" for p, _ in self.items]
        return out


def parse_value(value: Any, where: str, source: str, key: str) -> Budget:
    """One budget value: ``"5 g"`` or ``{co2 = ..., energy = ...}``."""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        try:
            return Budget(parse_co2_g(value), None, source, key)
        except UnitError as e:
            raise BudgetError(f"{where}: {e}; a budget is {FORMS}") from None
    if isinstance(value, dict):
        unknown = sorted(set(value) - {"co2", "energy"})
        if unknown:
            raise BudgetError(f"{where}: unknown metric {unknown[0]!r}; a budget table takes co2 and/or energy")
        if not value:
            raise BudgetError(f"{where}: an empty table sets no budget; give co2, energy or both")
        try:
            co2 = parse_co2_g(value["co2"]) if "co2" in value else None
        except UnitError as e:
            raise BudgetError(f"{where}: co2: {e}") from None
        try:
            energy = parse_energy_j(value["energy"]) if "energy" in value else None
        except UnitError as e:
            raise BudgetError(f"{where}: energy: {e}") from None
        return Budget(co2, energy, source, key)
    raise BudgetError(f"{where}: {value!r} is not a budget; a budget is {FORMS}")


def parse_table(table: Any, file: str) -> BudgetTable:
    """``[tool.pytest-carbon.budgets]`` -> BudgetTable. Raises BudgetError."""
    base = f"{file}: [tool.pytest-carbon.budgets]"
    if not isinstance(table, dict):
        raise BudgetError(f"{file}: [tool.pytest-carbon] budgets must be a table of budgets, not {table!r}")
    session = default = None
    tests: list[tuple[str, Budget]] = []
    phases: list[tuple[str, Budget]] = []
    items: list[tuple[str, Budget]] = []
    for key, value in table.items():
        where = f"{base} {key!r} = {value!r}"
        source = f'{file} [tool.pytest-carbon.budgets] "{key}"'
        if not key.strip():
            raise BudgetError(f"{where}: an empty key; keys are {KEY_FORMS}")
        b = parse_value(value, where, source, key)
        if key == "session":
            session = b
        elif key == "default":
            default = b
        elif key.startswith("phase:"):
            name, slash, rest = key[len("phase:") :].partition("/")
            if not name.strip():
                raise BudgetError(f"{where}: no phase name after 'phase:'; keys are {KEY_FORMS}")
            if slash and rest != "item":
                raise BudgetError(f"{where}: {key!r} ends in '/{rest}'; only 'phase:NAME/item' is a per-item budget")
            (items if slash else phases).append((name, b))
        elif key.startswith("phase") or key in ("sessions", "defaults"):
            raise BudgetError(f"{where}: {key!r} is not a budget key; keys are {KEY_FORMS}")
        else:
            tests.append((key, b))
    return BudgetTable(session, default, tuple(tests), tuple(phases), tuple(items))


def _specificity(pattern: str) -> int:
    return len(pattern) - sum(pattern.count(c) for c in "*?[]")


def _best(pairs: tuple[tuple[str, Budget], ...], name: str) -> Budget | None:
    best: Budget | None = None
    score = -1
    for pattern, b in pairs:
        if fnmatch.fnmatchcase(name, pattern):
            s = _specificity(pattern)
            if s > score:  # strictly greater: the first declared wins a tie
                best, score = b, s
    return best


def for_test(table: BudgetTable, nodeid: str, marker: Budget | None = None) -> Budget | None:
    """The budget of a test: the marker's, else the most specific pattern, else default."""
    return marker or _best(table.tests, nodeid) or table.default


def for_phase(table: BudgetTable, name: str, code: Budget | None = None) -> tuple[Budget | None, Budget | None]:
    """(phase budget, per-item budget) of a phase: the code's beats pyproject's."""
    return code or _best(table.phases, name), _best(table.items, name)


class Measured(Protocol):
    """What a verdict needs of a measurement: grams, joules (None: unknown) and its quality."""

    @property
    def co2_g(self) -> float | None: ...
    @property
    def energy_j(self) -> float | None: ...
    @property
    def estimated(self) -> bool: ...
    @property
    def approximate(self) -> bool: ...
    @property
    def duration_s(self) -> float | None: ...
    @property
    def foreign_cpu_share(self) -> float | None: ...


# Over this share of the machine's busy CPU time spent outside the process tree, a window
# was disturbed by a neighbour's load, and a verdict on it says so.
DISTURBED_SHARE = 0.5


def disturbed(m: Measured) -> bool:
    share = m.foreign_cpu_share
    return share is not None and share > DISTURBED_SHARE


class Measurement(NamedTuple):
    """What a verdict judges: a subject's CO2eq and energy, and how sure they are."""

    co2_g: float | None
    energy_j: float | None
    estimated: bool = False
    approximate: bool = False
    duration_s: float | None = None
    foreign_cpu_share: float | None = None


def check(subject: str, budget: Budget | None, m: Measured, *, require_measured: bool = False) -> list[Violation]:
    """Violations of one budget by one measurement (empty when within budget)."""
    if budget is None:
        return []
    if m.energy_j is None:
        # Unknown is neither within nor over budget: it fails only where the user asked so.
        metric = "unmeasured" if require_measured else "undecided"
        return [Violation(subject, metric, None, 0.0, budget, "a meter failed during the window, so its energy is unknown")]
    out = []
    if require_measured and m.estimated:
        out.append(
            Violation(subject, "unmeasured", None, 0.0, budget, "the energy is an estimate (no energy counter) and require_measured = true")
        )
    if budget.co2_g is not None and m.co2_g is not None and m.co2_g > budget.co2_g:
        out.append(Violation(subject, "co2", m.co2_g, budget.co2_g, budget))
    if budget.energy_j is not None and m.energy_j > budget.energy_j:
        out.append(Violation(subject, "energy", m.energy_j, budget.energy_j, budget))
    return out


def _g_per_j(m: Measured) -> float | None:
    """The grams per joule a measurement was made at (None where it cannot tell)."""
    return None if m.co2_g is None or not m.energy_j else m.co2_g / m.energy_j


def check_interval(subject: str, budget: Budget, m: Measured, ci_j: tuple[float, float], *, inconclusive: str = "pass") -> list[Violation]:
    """A per-item budget against the per-item measurement ``m`` and its 95% interval (J).

    Over when the interval's lower bound is over the limit, within when its upper bound is
    within; otherwise inconclusive (failing only with ``inconclusive = "fail"``).
    """
    g_per_j = _g_per_j(m)
    out = []
    for metric, limit, scale in (("co2", budget.co2_g, g_per_j), ("energy", budget.energy_j, 1.0)):
        if limit is None or scale is None:
            continue
        lo, hi = ci_j[0] * scale, ci_j[1] * scale
        measured = m.co2_g if metric == "co2" else m.energy_j
        if lo > limit:
            out.append(Violation(subject, metric, measured, limit, budget, interval=(lo, hi), unit=metric))
        elif hi > limit:
            word = "unproven" if inconclusive == "fail" else "inconclusive"
            out.append(Violation(subject, word, measured, limit, budget, interval=(lo, hi), unit=metric))
    return out


def check_phase(
    name: str,
    budget: Budget | None,
    item_budget: Budget | None,
    m: Measured,
    items: int | None,
    *,
    require_measured: bool = False,
    per_item: tuple[float, int, tuple[float, float]] | None = None,
    inconclusive: str = "pass",
) -> tuple[list[Violation], list[Violation]]:
    """(phase violations, per-item violations) of one phase measured as ``m`` over ``items``.

    ``per_item``: (mean J per item, items, 95% interval of the mean in J) from the phase's
    step marks, judged with :func:`check_interval` instead of the phase's energy / items.
    """
    whole = check(f"phase {name!r}", budget, m, require_measured=require_measured)
    if not (item_budget and items):
        return whole, []
    if per_item is not None and m.energy_j is not None and not (require_measured and m.estimated):
        mean, n, ci = per_item
        g_per_j = _g_per_j(m)
        per_m = Measurement(None if g_per_j is None else mean * g_per_j, mean, m.estimated)
        subject = f"per item of phase {name!r} ({n} items after the warm-up)"
        return whole, check_interval(subject, item_budget, per_m, ci, inconclusive=inconclusive)
    # What one item cost; the findings keep the phase's own measurement for their context.
    per = Measurement(
        None if m.co2_g is None else m.co2_g / items,
        None if m.energy_j is None else m.energy_j / items,
        m.estimated,
    )
    subject = f"per item of phase {name!r} ({items} items)"
    return whole, check(subject, item_budget, per, require_measured=require_measured)


class Finding(NamedTuple):
    """A violation with the window measurement it was judged on (and the phase's items)."""

    violation: Violation
    measurement: Measured
    items: int | None = None  # set for a per-item violation


class PhaseCheck(NamedTuple):
    """One phase to judge: its budgets and its measurement."""

    name: str
    budget: Budget | None
    item_budget: Budget | None
    measurement: Measured
    items: int | None
    per_item: tuple[float, int, tuple[float, float]] | None = None  # see check_phase


class Verdict(NamedTuple):
    """Everything judged for one test: its budget, what it was judged on, and the findings."""

    budget: Budget | None
    measurement: Measured
    findings: tuple[Finding, ...] = ()

    @property
    def violations(self) -> tuple[Violation, ...]:
        return tuple(f.violation for f in self.findings)

    @property
    def failing(self) -> bool:
        """Whether a finding fails the test (not one that is only reported: undecided, inconclusive)."""
        return any(fails(f.violation) for f in self.findings)


def judge(
    budget: Budget | None,
    measurement: Measured,
    phases: Sequence[PhaseCheck] = (),
    *,
    require_measured: bool = False,
    inconclusive: str = "pass",
) -> Verdict | None:
    """A test's verdict: its own budget and its phases', or None where nothing is budgeted.

    The one place budgets meet measurements: the in-process verdict, made when the call ends,
    and the xdist controller's, made at the end of the session, both call it.
    """
    if budget is None and not any(p.budget or p.item_budget for p in phases):
        return None
    req = require_measured
    findings = [Finding(v, measurement) for v in check("test", budget, measurement, require_measured=req)]
    for p in phases:
        if not (p.budget or p.item_budget):
            continue
        whole, each = check_phase(
            p.name, p.budget, p.item_budget, p.measurement, p.items, require_measured=req, per_item=p.per_item, inconclusive=inconclusive
        )
        findings += [Finding(v, p.measurement) for v in whole]
        findings += [Finding(v, p.measurement, p.items) for v in each]
    return Verdict(budget, measurement, tuple(findings))


def judge_session(budget: Budget | None, m: Measured, *, gaps: bool, require_measured: bool = False) -> tuple[Violation, ...]:
    """The session budget against the session's measured energy ``m``.

    Where a meter had gaps the measured total is a lower bound: over budget is certain, within
    budget is not, so that verdict is undecided.
    """
    found = check("session", budget, m, require_measured=require_measured)
    if budget is not None and gaps and not found:
        found = [Violation("session", "undecided", None, 0.0, budget, "meters had gaps, so the measured total is a lower bound")]
    return tuple(found)
