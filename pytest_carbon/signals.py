"""Process-wide state the plugin touches, and gives back: SIGTERM, the garbage collector.

SIGTERM (a CI timeout, a cancelled job) ends the session as Ctrl-C does: pytest then runs
``pytest_sessionfinish`` with the interrupted status, and the report of every test measured
so far is written.
"""

from __future__ import annotations

import contextlib
import gc
import signal
import threading
from typing import Any, Callable, Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """The garbage collector off for the plugin's own end-of-run work, then as it was.

    Its objects are not garbage, and with the collector on they would push pytest's large
    heap over the threshold of a full collection (a walk of every object: 70 ms at 10,000
    tests here) that would otherwise come later or not before pytest's own final one.
    Not gc.freeze(): it hides objects from gc.get_referrers(), which hypothesis uses.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def term_as_interrupt() -> Callable[[], None] | None:
    """Turn SIGTERM into KeyboardInterrupt; return the function that restores the default.

    Only where SIGTERM still has its default action (a suite's own handler wins), and only in
    the main thread (where Python delivers signals). None where nothing was installed.
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return None

    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt("SIGTERM")

    def restore() -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    signal.signal(signal.SIGTERM, on_term)
    return restore
