"""Process-wide state the plugin touches, and gives back: SIGTERM, the garbage collector.

SIGTERM (a CI timeout, a cancelled job) ends the session as Ctrl-C does: pytest then runs
``pytest_sessionfinish`` with the interrupted status, and the report of every test measured
so far is written.
"""

from __future__ import annotations

import gc
import signal
import threading
from typing import Any, Callable


class CollectorOff:
    """The garbage collector off from the end of the tests until pytest's own final collection.

    The plugin's end-of-run work (results, outputs, rich's first import and the table) makes
    objects that are not garbage; with the collector on they, and whatever other plugins'
    summaries make after them, can tip pytest's heap, at its largest then, into a full
    collection (a walk of every object: 70 ms at 10,000 trivial tests here) just before
    pytest's own final one, which collects all the same. So it is off from ``pause()`` (the
    tests have run) to ``resume()`` (the plugin's ``pytest_unconfigure``), and then as the
    suite had it. Cyclic garbage made meanwhile (by session fixtures' teardown, say) is
    collected by pytest's final collection instead, a moment later.
    Not left frozen (gc.freeze()): that hides objects from gc.get_referrers(), which hypothesis
    uses; ``resume()`` freezes and unfreezes at once, only to age what was made meanwhile.
    """

    def __init__(self) -> None:
        self._was_on: bool | None = None

    def pause(self) -> None:
        if self._was_on is None:
            self._was_on = gc.isenabled()
            gc.disable()

    def resume(self) -> None:
        if self._was_on is not None:
            was_on, self._was_on = self._was_on, None
            if was_on:
                if gc.get_freeze_count() == 0:
                    # What was made while off is all young: on again as it is, the first
                    # allocation sweeps it all (5-10 ms at one test) just before pytest's full
                    # collection sweeps it again. Moved to the oldest generation instead, in
                    # one step, it waits for that full collection alone. Not where the suite
                    # froze objects itself: unfreeze() would give those back.
                    gc.freeze()
                    gc.unfreeze()
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
