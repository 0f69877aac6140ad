"""An example suite measured by pytest-carbon: plain CPU work of known size, with phases."""

import os
import time

import pytest

# EXAMPLE_SCALE=20 makes each "image" 20 times as costly: enough to trip the per-image
# budget in pyproject.toml and see a budget failure.
SCALE = int(os.environ.get("EXAMPLE_SCALE", "1"))


def work(n: int) -> int:
    """Busy CPU work: about 0.1 s per 1e6 on a current core."""
    s = 0
    for i in range(n):
        s += i * i
    return s


@pytest.mark.parametrize("n", [10_000, 1_000_000, 3_000_000])
def test_sum_of_squares(n: int) -> None:
    assert work(n) == (n - 1) * n * (2 * n - 1) // 6


def test_train_then_sample(carbon) -> None:
    with carbon.phase("train", items=100):  # 100 training steps
        for _ in range(100):
            work(10_000)
    with carbon.phase("sample", items=8):  # 8 generated "images"
        for _ in range(8):
            work(50_000 * SCALE)


def test_idle_wait() -> None:
    """Waiting costs energy too: the machine's idle draw."""
    time.sleep(0.5)
