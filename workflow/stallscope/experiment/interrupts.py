"""Signals that ask a run to stop (SIGINT, SIGTERM, SIGHUP), recorded instead of raised.

A handler that raises lands wherever the main thread happens to be: inside ``Popen`` between fork and
bookkeeping (a child nobody knows about), or inside the ``finally`` that stops the children (a traceback and
brokers left running). Here a handler only records the signal; the run's loops poll :func:`requested` and stop
in their own time, so a second signal, or a SIGHUP from a closed terminal, changes nothing but the record.
"""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

_received: list[str] = []
_previous: dict[int, Any] | None = None


def _record(signum: int, _frame: FrameType | None) -> None:
    _received.append(signal.Signals(signum).name)


def install() -> bool:
    """Record stop signals from now on; True if this call installed the handlers (the caller restores them)."""
    global _previous
    if _previous is not None:
        return False
    _previous = {s: signal.signal(s, _record) for s in STOP_SIGNALS}
    _received.clear()
    return True


def restore() -> None:
    """Put back the handlers :func:`install` replaced and forget what was received."""
    global _previous
    if _previous is None:
        return
    for s, h in _previous.items():
        signal.signal(s, h)
    _previous = None
    _received.clear()


def requested() -> bool:
    """True once any stop signal has arrived."""
    return bool(_received)


def received() -> list[str]:
    """Names of the stop signals received so far, in order (a copy)."""
    return list(_received)


def describe() -> str:
    """``interrupted by SIGINT`` (the first signal), with the later ones when there were more."""
    names = received()
    if not names:
        return ""
    more = f" (then {', '.join(names[1:])})" if len(names) > 1 else ""
    return f"interrupted by {names[0]}{more}"
