"""Signals that ask a run to stop (SIGINT, SIGTERM, SIGHUP), recorded instead of raised.

A handler that raises lands wherever the main thread happens to be: inside ``Popen`` between fork and
bookkeeping (a child nobody knows about), or inside the ``finally`` that stops the children (a traceback and
brokers left running). Here a handler only records the signal; the run's loops poll :func:`requested` and stop
in their own time, so a second signal, or a SIGHUP from a closed terminal, changes nothing but the record.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
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


def _only_thread() -> bool:
    """This process runs one thread (C threads included): no other thread could take a signal while we ignore it."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return threading.active_count() == 1


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """Children started inside ignore stop signals; the ones sent to us meanwhile are recorded when it ends.

    ^C at a terminal signals the whole foreground process group, so it also reaches the short-lived helpers a
    run starts for itself: the ``git version`` GitPython runs on import, the git calls of its provenance. One
    killed there ends the run without its record. An ignored signal stays ignored across exec (Python's
    subprocess resets handlers and the mask in the child, never an ignore), and Linux never discards a signal
    blocked by the thread it is sent to, even while it is ignored: so block, ignore, start the children, then
    put the handlers back and unblock. Another thread that does not block it could take it and drop it, so with
    more than one thread, without our handlers installed, or off the main thread, this changes nothing.
    """
    if _previous is None or threading.current_thread() is not threading.main_thread() or not _only_thread():
        yield
        return
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    handlers: dict[int, Any] = {}
    try:
        for s in STOP_SIGNALS:
            handlers[s] = signal.signal(s, signal.SIG_IGN)
        yield
    finally:
        for s, h in handlers.items():
            signal.signal(s, h)
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
