"""The pure core: timelines + windows -> energy per window, with conservation."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_carbon.attribution import ChannelTotals, Claim, attribute
from pytest_carbon.timeline import Channel, Segment, build_segments

S = 1_000_000_000  # ns per second


def steady(watts: float, t_end_s: float, step_s: float = 0.1, name: str = "cpu") -> Channel:
    """A channel drawing constant watts, sampled every step_s."""
    n = int(round(t_end_s / step_s))
    samples = [(int(i * step_s * S), watts * i * step_s) for i in range(n + 1)]
    return Channel(name, build_segments(samples))


def test_window_energy_is_interpolated_difference():
    ch = steady(100.0, 2.0)
    per, totals = attribute([ch], [Claim(int(0.25 * S), int(1.05 * S))])
    w = per["cpu"].window(int(0.25 * S), int(1.05 * S))
    assert w.energy_j == pytest.approx(80.0)
    assert totals["cpu"].measured_j == pytest.approx(200.0)
    assert totals["cpu"].attributed_j == pytest.approx(80.0)
    assert totals["cpu"].unattributed_j == pytest.approx(120.0)


def test_concurrent_windows_split_energy_instead_of_double_counting():
    ch = steady(100.0, 2.0)
    claims = [Claim(0, 2 * S), Claim(1 * S, 2 * S)]
    per, totals = attribute([ch], claims)
    a = per["cpu"].window(0, 2 * S).energy_j
    b = per["cpu"].window(1 * S, 2 * S).energy_j
    assert a == pytest.approx(100 + 50)  # alone for 1 s, then half of the second
    assert b == pytest.approx(50)
    assert a + b == pytest.approx(totals["cpu"].measured_j)


def test_claims_limited_to_channels():
    gpu0 = steady(300.0, 1.0, name="gpu:0")
    claims = [Claim(0, S, frozenset({"gpu:0"})), Claim(0, S, frozenset({"gpu:1"}))]
    per, totals = attribute([gpu0], claims)
    assert per["gpu:0"].window(0, S).energy_j == pytest.approx(300.0)
    assert totals["gpu:0"].attributed_j == pytest.approx(300.0)


def test_phase_inside_test_takes_the_test_share():
    ch = steady(10.0, 3.0)
    per, _ = attribute([ch], [Claim(0, 3 * S)], extra_points=[int(0.5 * S), int(1.5 * S)])
    assert per["cpu"].window(int(0.5 * S), int(1.5 * S)).energy_j == pytest.approx(10.0)


def test_failed_read_is_a_gap_not_zero():
    samples = [(0, 0.0), (S, 100.0), (2 * S, None), (3 * S, 5000.0), (4 * S, 5100.0)]
    ch = Channel("gpu:0", build_segments(samples))
    assert len(ch.segments) == 2
    claims = [Claim(int(0.5 * S), int(3.5 * S)), Claim(int(3.2 * S), int(3.8 * S))]
    per, totals = attribute([ch], claims)
    gapped = per["gpu:0"].window(int(0.5 * S), int(3.5 * S))
    assert gapped.energy_j is None
    assert gapped.gap_ns == 2 * S
    ok = per["gpu:0"].window(int(3.2 * S), int(3.8 * S))
    assert ok.energy_j is not None and ok.energy_j > 0
    t = totals["gpu:0"]
    assert t.measured_j == pytest.approx(200.0)
    assert t.gap_ns == 2 * S
    assert t.attributed_j + t.incomplete_j + t.unattributed_j == pytest.approx(t.measured_j)
    assert t.incomplete_j > 0


def test_counter_going_backwards_starts_a_new_segment():
    segs = build_segments([(0, 50.0), (S, 60.0), (2 * S, 1.0), (3 * S, 4.0)])
    assert [(s.values[0], s.values[-1]) for s in segs] == [(50.0, 60.0), (1.0, 4.0)]


def test_window_outside_any_reading_is_unknown():
    ch = steady(1.0, 1.0)
    per, _ = attribute([ch], [Claim(2 * S, 3 * S)])
    assert per["cpu"].window(2 * S, 3 * S).energy_j is None


def test_segment_interpolation_rejects_times_outside():
    seg = Segment([0, S], [0.0, 1.0])
    assert seg.at(S // 2) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        seg.at(2 * S)


windows = st.lists(
    st.tuples(st.integers(0, 9_000), st.integers(1, 3_000)).map(lambda p: (p[0] * 1_000_000, (p[0] + p[1]) * 1_000_000)),
    max_size=30,
)


@given(windows, st.lists(st.floats(0, 500), min_size=2, max_size=40), st.sets(st.integers(1, 38), max_size=5))
def test_conservation_holds_for_any_windows_powers_and_gaps(ws, powers, failed):
    # Irregular power, readings every 0.25 s over 10 s, some reads failed.
    samples = []
    cum = 0.0
    for i in range(41):
        if i:
            cum += powers[i % len(powers)] * 0.25
        samples.append((i * S // 4, None if i in failed else cum))
    ch = Channel("cpu", build_segments(samples))
    claims = [Claim(a, min(b, 10 * S)) for a, b in ws if a < min(b, 10 * S)]
    per, totals = attribute([ch], claims)
    t = totals["cpu"]
    assert t.attributed_j + t.incomplete_j + t.unattributed_j == pytest.approx(t.measured_j, rel=1e-9, abs=1e-9)
    assert t.measured_j == pytest.approx(ch.measured_j(), rel=1e-9, abs=1e-9)
    known = [per["cpu"].window(c.t0, c.t1).energy_j for c in claims]
    assert sum(k for k in known if k is not None) == pytest.approx(t.attributed_j, rel=1e-9, abs=1e-9)
    assert all(k is None or k >= -1e-9 for k in known)


def test_gaps_inside_the_channel_are_counted_and_the_time_outside_it_is_not():
    # Readings 1-2 s, 3-4 s and 5-6 s: two gaps of 1 s inside; the claim runs from 0 s to 7 s.
    segs = []
    for a in (1, 3, 5):
        segs += build_segments([(a * S, 10.0 * a), ((a + 1) * S, 10.0 * a + 10.0)])
    ch = Channel("cpu", segs)
    per, totals = attribute([ch], [Claim(0, 7 * S)])
    assert totals["cpu"].gap_ns == 2 * S
    assert totals["cpu"].measured_j == 30.0 and totals["cpu"].incomplete_j == 30.0 and totals["cpu"].attributed_j == 0.0


def test_a_claim_on_other_channels_takes_nothing_here():
    cpu, gpu = steady(10.0, 1.0, name="cpu"), steady(100.0, 1.0, name="gpu:0")
    claims = [Claim(0, S, frozenset({"cpu"})), Claim(0, S, frozenset({"cpu", "gpu:0"}))]
    per, totals = attribute([cpu, gpu], claims)
    assert per["gpu:0"].window(0, S).energy_j == pytest.approx(100.0)  # the second claim alone shares the GPU
    assert per["cpu"].window(0, S).energy_j == pytest.approx(5.0)  # both share the CPU
    assert totals["gpu:0"].attributed_j == pytest.approx(100.0) and totals["gpu:0"].unattributed_j == 0.0
    assert totals["cpu"].attributed_j == pytest.approx(10.0)
    only_gpu = attribute([cpu, gpu], [Claim(0, S, frozenset({"gpu:0"})), Claim(0, S // 2, frozenset({"cpu"}))])[1]
    assert only_gpu["cpu"].attributed_j == pytest.approx(5.0) and only_gpu["gpu:0"].attributed_j == pytest.approx(100.0)


def _reference_windows(ch: Channel, claims: list[Claim], points: list[int]) -> dict[tuple[int, int], tuple[float, int]]:
    """The same shares computed the slow, obvious way: every elementary interval on its own."""
    mine = [c for c in claims if c.channels is None or ch.name in c.channels]
    bps = sorted({*points, *(t for c in mine for t in (c.t0, c.t1)), *(t for s in ch.segments for t in (s.start, s.end))})
    parts = []  # (a, b, share of energy per open claim or 0, uncovered ns)
    for a, b in zip(bps, bps[1:]):
        seg = next((s for s in ch.segments if s.start <= a and b <= s.end), None)
        n_open = sum(1 for c in mine if c.t0 <= a and b <= c.t1 and c.t1 > c.t0)
        if seg is None:
            parts.append((a, b, 0.0, b - a))
        else:
            e = seg.at(b) - seg.at(a)
            parts.append((a, b, e / n_open if n_open else 0.0, 0))
    return {
        (x, y): (sum(p[2] for p in parts if x <= p[0] and p[1] <= y), sum(p[3] for p in parts if x <= p[0] and p[1] <= y))
        for x in bps for y in bps if y >= x
    }  # fmt: skip


@given(
    st.lists(st.tuples(st.integers(0, 10), st.one_of(st.none(), st.floats(0, 5)), st.booleans()), max_size=25),
    st.lists(st.tuples(st.integers(-5, 120), st.integers(0, 40), st.booleans()), max_size=6),
)
def test_window_shares_match_a_slow_reference(readings, windows):
    samples, t, v = [], 0, 0.0
    for dt, inc, reset in readings:
        t += dt
        if inc is None:
            samples.append((t, None))
        else:
            v = inc if reset else v + inc
            samples.append((t, v))
    ch = Channel("cpu", build_segments(samples))
    claims = [Claim(a, a + d, None if shared else frozenset({"cpu"})) for a, d, shared in windows]
    per, _ = attribute([ch], claims)
    ref = _reference_windows(ch, claims, [])
    for (x, y), (energy, gap) in ref.items():
        w = per["cpu"].window(x, y)
        assert w.gap_ns == gap
        assert w.covered_j == pytest.approx(energy, abs=1e-9)
        assert (w.energy_j is None) == (gap > 0)


def test_a_counter_reset_at_a_reading_s_instant_keeps_both_sides_known():
    # Readings 0-20 s, then the counter restarts at 20 s: two segments meeting at one instant.
    ch = Channel("cpu", build_segments([(0, 0.0), (10 * S, 100.0), (20 * S, 200.0), (20 * S, 5.0), (30 * S, 105.0)]))
    assert len(ch.segments) == 2
    per, totals = attribute([ch], [Claim(0, 30 * S)], [20 * S])
    assert per["cpu"].window(20 * S, 30 * S).energy_j == pytest.approx(100.0)
    assert per["cpu"].window(0, 30 * S).energy_j == pytest.approx(300.0)
    assert totals["cpu"].gap_ns == 0 and totals["cpu"].measured_j == pytest.approx(300.0)


def test_a_channel_without_readings_has_no_gap_and_no_energy():
    per, totals = attribute([Channel("cpu", [])], [Claim(0, 1), Claim(1, 2)])
    assert totals["cpu"] == ChannelTotals(0.0, 0.0, 0.0, 0.0, 0)
    assert per["cpu"].window(0, 2) == (None, 0.0, 2)


def test_a_segment_of_one_reading_leaves_the_segments_after_it_known():
    # Segments made by hand (build_segments drops one-reading runs): two of one reading, no
    # interval to measure, then one of two readings.
    ch = Channel("cpu", [Segment([0], [1.0]), Segment([2 * S], [5.0]), Segment([4 * S, 5 * S], [10.0, 20.0])])
    per, totals = attribute([ch], [Claim(4 * S, 5 * S)])
    assert per["cpu"].window(4 * S, 5 * S) == (10.0, 10.0, 0)
    assert totals["cpu"] == ChannelTotals(10.0, 10.0, 0.0, 0.0, 4 * S)  # 0-4 s: no interval measured


def _alone(ch: Channel, claims: list[Claim], extra: list[int]) -> tuple[list[float | None], ChannelTotals]:
    """One channel attributed by itself, its windows and totals summed here: the second way."""
    from pytest_carbon.attribution import ChannelAttribution

    mine = [c for c in claims if c.channels is None or ch.name in c.channels]
    ca = ChannelAttribution(ch, mine, extra)
    windows = [ca.window(c.t0, c.t1) for c in mine]
    attributed = sum(w.energy_j for w in windows if w.energy_j is not None)
    incomplete = sum(w.covered_j for w in windows if w.energy_j is None)
    return [w.energy_j for w in windows], ChannelTotals(ca.measured_j, attributed, incomplete, ca.unattributed_j, ca.gap_ns)


@given(
    st.lists(st.tuples(st.integers(0, 39), st.integers(1, 12), st.sampled_from(["all", "gpu0", "gpu1"])), min_size=1, max_size=12),
    st.sets(st.integers(1, 39), max_size=5),
    st.lists(st.integers(0, 40), max_size=4),
)
def test_channels_attributed_together_match_each_channel_attributed_alone(windows, gpu1_failed, extra_q):
    # cpu read every 0.25 s; gpu:0 every 0.1 s; gpu:1 every 0.25 s with failed reads: three
    # segment layouts, and claims on all channels or on one GPU (xdist workers).
    Q = S // 4
    cpu = Channel("cpu", build_segments([(i * Q, 3.0 * i) for i in range(41)]))
    gpu0 = Channel("gpu:0", build_segments([(i * S // 10, 7.0 * i + (i % 3)) for i in range(101)]))
    gpu1 = Channel("gpu:1", build_segments([(i * Q, None if i in gpu1_failed else 5.0 * i) for i in range(41)]))
    kinds = {"all": None, "gpu0": frozenset({"cpu", "gpu:0"}), "gpu1": frozenset({"cpu", "gpu:1"})}
    claims = [Claim(a * Q, min(a + d, 40) * Q, kinds[k]) for a, d, k in windows]
    extra = [q * Q for q in extra_q]
    per, totals = attribute([cpu, gpu0, gpu1], claims, extra)
    assert list(totals) == ["cpu", "gpu:0", "gpu:1"]
    for ch in (cpu, gpu0, gpu1):
        energies, alone = _alone(ch, claims, extra)
        together = totals[ch.name]
        for field in ("measured_j", "attributed_j", "incomplete_j", "unattributed_j"):
            assert getattr(together, field) == pytest.approx(getattr(alone, field), rel=1e-9, abs=1e-9), (ch.name, field)
        assert together.gap_ns == alone.gap_ns
        mine = [c for c in claims if c.channels is None or ch.name in c.channels]
        got = [per[ch.name].window(c.t0, c.t1).energy_j for c in mine]
        for g, e in zip(got, energies, strict=True):
            assert (g is None and e is None) or g == pytest.approx(e, rel=1e-9, abs=1e-9)
